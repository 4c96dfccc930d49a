package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"corral/exec/provision"
	"corral/store"
)

// TestJobs_FailingScriptRetry: a failing script stops the job with its exit
// code and output on the page; after the cause is fixed, "Retry from this
// step" resumes at that script and the job ends ready.
func TestJobs_FailingScriptRetry(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 160
	plan := jobsTestPlan(env.user, env.node, vmid, "flaky")
	plan.Scripts = []store.Script{
		{Name: "10-ok.sh", Content: "echo first-script-ran >> /root/runs\n"},
		{Name: "20-needs-flag.sh", Content: "log_info checking the flag\nif [ ! -f /etc/ready-flag ]; then echo 'the flag is missing' >&2; exit 7; fi\necho flag found\n"},
	}
	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobFailed || j.Step != "script:1" || j.Error == nil || j.Error.ExitCode != 7 {
		t.Fatalf("job %s at %s: %+v", j.State, j.Step, j.Error)
	}
	if !strings.Contains(j.Error.Message, `"20-needs-flag.sh" failed with exit code 7`) || !strings.Contains(strings.Join(j.Error.Output, "\n"), "the flag is missing") {
		t.Fatalf("error = %+v", j.Error)
	}
	cts, _ := env.srv.DB.Containers(ctx, env.user.ID)
	if len(cts) != 1 || cts[0].Lifecycle != store.LifecycleError {
		t.Fatalf("container after failure: %+v", cts)
	}

	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	res := c.get("/jobs/" + jobID)
	expectStatus(t, res, http.StatusOK)
	if got := res.Doc.Find(`[data-testid="job-error-exit"]`).Text(); got != "7" {
		t.Errorf("exit code on page %q", got)
	}
	if got := res.Doc.Find(`[data-testid="job-error-output"]`).Text(); !strings.Contains(got, "the flag is missing") {
		t.Errorf("output on page %q", got)
	}
	if res.Doc.Find(`[data-testid="job-retry"]`).Length() != 1 || res.Doc.Find(`[data-testid="job-delete"]`).Length() != 1 {
		t.Errorf("retry/delete buttons missing")
	}
	if st, _ := res.Doc.Find(`[data-step="script:1"]`).Attr("data-state"); st != "failed" {
		t.Errorf("failed step shown as %q", st)
	}

	// Fix the cause, then retry from the page.
	jobsTestWrite(t, env.sim, "pve1", vmid, "etc/ready-flag", "ok\n")
	res = c.post("/jobs/"+jobID+"/retry", nil)
	expectStatus(t, res, http.StatusSeeOther)
	j = jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobDone || j.Attempts != 1 || j.Error != nil {
		t.Fatalf("after retry: %s %+v attempts %d", j.State, j.Error, j.Attempts)
	}
	// Only the failed step ran again.
	if runs := jobsTestRead(t, env.sim, "pve1", vmid, "root/runs"); runs != "first-script-ran\n" {
		t.Errorf("first script ran again: %q", runs)
	}
	evs, _ := env.srv.DB.ContainerEvents(ctx, env.user.ID, env.node.ID, vmid, []string{store.EventStepStarted}, 0)
	creates := 0
	for _, e := range evs {
		if e.Data["step"] == provision.StepCreate {
			creates++
		}
	}
	if creates != 1 {
		t.Errorf("create step started %d times", creates)
	}
	cts, _ = env.srv.DB.Containers(ctx, env.user.ID)
	if len(cts) != 1 || cts[0].Lifecycle != store.LifecycleReady {
		t.Fatalf("container after retry: %+v", cts)
	}
	// A finished job has nothing to retry.
	res = c.post("/jobs/"+jobID+"/retry", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if j2, _ := env.runner.Job(ctx, env.user.ID, jobID); j2.Attempts != 1 {
		t.Errorf("retry of a done job counted: %d", j2.Attempts)
	}
}

// TestJobs_DeleteAfterFailure: "Delete the container" destroys it on Proxmox
// and removes its record.
func TestJobs_DeleteAfterFailure(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 170
	plan := jobsTestPlan(env.user, env.node, vmid, "doomed")
	plan.Scripts = []store.Script{{Name: "fail.sh", Content: "exit 3\n"}}
	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID); j.State != store.JobFailed {
		t.Fatalf("job %s", j.State)
	}
	if _, ok := env.sim.Node("pve1").GuestStatus(vmid); !ok {
		t.Fatal("container not created")
	}
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	c.get("/jobs/" + jobID)
	res := c.post("/jobs/"+jobID+"/delete", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/containers" {
		t.Errorf("redirect to %q", loc)
	}
	env.sim.WaitTasks()
	if st, ok := env.sim.Node("pve1").GuestStatus(vmid); ok {
		t.Errorf("container still on Proxmox (%s)", st)
	}
	if cts, _ := env.srv.DB.Containers(ctx, env.user.ID); len(cts) != 0 {
		t.Errorf("container record kept: %+v", cts)
	}
	if j, _ := env.runner.Job(ctx, env.user.ID, jobID); j.State != store.JobDeleted {
		t.Errorf("job state %s", j.State)
	}
	if len(env.cache.deleted) != 1 || env.cache.deleted[0] != vmid {
		t.Errorf("VMID cache deletions %v", env.cache.deleted)
	}
	evs, _ := env.srv.DB.ContainerEvents(ctx, env.user.ID, env.node.ID, vmid, []string{store.EventDeleted}, 0)
	if len(evs) != 1 {
		t.Errorf("deleted events %d", len(evs))
	}
	// The audit log says who deleted it, and where.
	audits, err := env.srv.DB.AuditEntries(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(audits, func(a store.AuditEntry) bool { return a.Kind == "container.delete" })
	if i < 0 || audits[i].UserID != env.user.ID || audits[i].Username != "alice" || audits[i].Target != fmt.Sprintf("%s/%d", env.node.Name, vmid) {
		t.Errorf("delete audit %+v", audits)
	}
}

// TestJobs_OtherUsersJob: every job route answers 404 to another user.
func TestJobs_OtherUsersJob(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	plan := jobsTestPlan(env.user, env.node, 180, "mine")
	plan.Scripts = []store.Script{{Name: "fail.sh", Content: "exit 1\n"}}
	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	env.srv.withUser(t, "mallory", "mallory-password-1")
	c := env.srv.client(t)
	c.login("mallory", "mallory-password-1")
	expectStatus(t, c.get("/jobs/"+jobID), http.StatusNotFound)
	expectStatus(t, c.get("/jobs/"+jobID+"/events"), http.StatusNotFound)
	expectStatus(t, c.post("/jobs/"+jobID+"/retry", nil), http.StatusNotFound)
	expectStatus(t, c.post("/jobs/"+jobID+"/delete", nil), http.StatusNotFound)
	if j, _ := env.runner.Job(ctx, env.user.ID, jobID); j.State != store.JobFailed || j.Attempts != 0 {
		t.Errorf("mallory changed the job: %s attempts %d", j.State, j.Attempts)
	}
	if _, ok := env.sim.Node("pve1").GuestStatus(180); !ok {
		t.Error("mallory deleted the container")
	}
	// The owner still sees it.
	a := env.srv.client(t)
	a.login("alice", "alice-password-1")
	expectStatus(t, a.get("/jobs/"+jobID), http.StatusOK)
}
