package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"corral/exec/provision"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/store"
)

// jobsStaleFailed runs a job whose script fails, leaving its container.
func jobsStaleFailed(t *testing.T, env *jobsTestEnv, vmid int, host string) string {
	t.Helper()
	plan := jobsTestPlan(env.user, env.node, vmid, host)
	plan.Scripts = []store.Script{{Name: "fail.sh", Content: "exit 3\n"}}
	jobID, err := env.runner.Start(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID); j.State != store.JobFailed {
		t.Fatalf("job %s: %+v", j.State, j.Error)
	}
	return jobID
}

// jobsStaleAPI is the Proxmox API of the test node, for what a person does
// outside Corral (in the Proxmox UI).
func jobsStaleAPI(t *testing.T, env *jobsTestEnv) *proxmox.Client {
	t.Helper()
	api, err := clusters.NewClients(slog.New(slog.DiscardHandler))(env.node)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// jobsStaleWait waits for a Proxmox task.
func jobsStaleWait(t *testing.T, api *proxmox.Client, upid string, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if err := api.WaitTask(context.Background(), "pve1", upid, nil); err != nil {
		t.Fatal(err)
	}
}

// jobsStaleOffersNothing checks the job page says the container is gone and
// offers neither Retry nor Delete.
func jobsStaleOffersNothing(t *testing.T, c *client, jobID, want string) {
	t.Helper()
	res := c.get("/jobs/" + jobID)
	expectStatus(t, res, http.StatusOK)
	if got := res.Doc.Find(`[data-testid="job-gone"]`).Text(); !strings.Contains(got, want) {
		t.Errorf("job page says %q, want %q", strings.Join(strings.Fields(got), " "), want)
	}
	for _, b := range []string{"job-retry", "job-delete", "job-retry-template"} {
		if res.Doc.Find(`[data-testid="`+b+`"]`).Length() != 0 {
			t.Errorf("the page still offers %s", b)
		}
	}
}

// TestJobs_StaleAfterDashboardDelete: once the container of a failed job is
// deleted from the dashboard, the job page says so and offers neither Retry
// (which failed with "...104.conf does not exist") nor Delete, and both
// routes refuse (issue 14, bug 9).
func TestJobs_StaleAfterDashboardDelete(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 104
	jobID := jobsStaleFailed(t, env, vmid, "stale")
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	if res := c.get("/jobs/" + jobID); res.Doc.Find(`[data-testid="job-retry"]`).Length() != 1 {
		t.Fatal("a failed job offers no Retry")
	}
	res := c.post("/containers/"+env.node.ID+"/104/delete", url.Values{"confirm_vmid": {"104"}})
	if res.StatusCode >= 400 {
		t.Fatalf("dashboard delete: %d", res.StatusCode)
	}
	env.sim.WaitTasks()
	if _, ok := env.sim.Node("pve1").GuestStatus(vmid); ok {
		t.Fatal("the dashboard did not delete the container")
	}

	jobsStaleOffersNothing(t, c, jobID, "Container 104 (stale) was deleted.")
	for _, action := range []string{"retry", "delete"} {
		res := c.post("/jobs/"+jobID+"/"+action, nil)
		expectStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/jobs/"+jobID {
			t.Errorf("%s went to %q", action, loc)
		}
	}
	j, _ := env.runner.Job(ctx, env.user.ID, jobID)
	if j.State != store.JobDeleted || j.Attempts != 0 {
		t.Errorf("job %s, attempts %d", j.State, j.Attempts)
	}
	if _, ok := env.sim.Node("pve1").GuestStatus(vmid); ok {
		t.Error("a retry created the container again")
	}
}

// TestJobs_DeleteChecksItIsTheJobsGuest: a failed job's container deleted
// outside Corral, then its VMID taken by another container (even one with
// the same hostname): the job page says so, and neither Delete nor Retry
// touches the new container (issue 14, bug 9: Delete reported success and
// would have destroyed someone else's CT 104).
func TestJobs_DeleteChecksItIsTheJobsGuest(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 104
	jobID := jobsStaleFailed(t, env, vmid, "app")
	api := jobsStaleAPI(t, env)
	cfg, err := api.LXCConfig(ctx, "pve1", vmid)
	if err != nil {
		t.Fatal(err)
	}
	// Proxmox gives the description back with a newline after its last line.
	if want := provision.CreatedNote(jobID); strings.TrimSuffix(fmt.Sprint(cfg["description"]), "\n") != want {
		t.Errorf("description %q, want %q", cfg["description"], want)
	}

	// Deleted in the Proxmox UI.
	upid, err := api.Delete(ctx, "pve1", vmid, proxmox.DeleteOptions{Purge: true, Force: true})
	jobsStaleWait(t, api, upid, err)
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	jobsStaleOffersNothing(t, c, jobID, "The container CT 104 no longer exists on pve1.")
	res := c.post("/jobs/"+jobID+"/delete", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if !strings.Contains(c.get("/jobs/"+jobID).Doc.Find(`[data-testid="flash"]`).Text(), "no longer exists") {
		t.Error("the refused delete says nothing")
	}

	// Another container takes the VMID, made by someone else with the same
	// hostname: the job's description line tells them apart.
	swap := 0
	upid, err = api.CreateLXC(ctx, "pve1", proxmox.CreateLXCParams{
		VMID: vmid, OSTemplate: "local:vztmpl/" + pvesim.DefaultTemplates[0], Hostname: "app", Storage: "local-lvm",
		Swap: &swap, Description: provision.CreatedNote("someone-elses-job"),
	})
	jobsStaleWait(t, api, upid, err)
	jobsStaleOffersNothing(t, c, jobID, "CT 104 on pve1 is now another container (app)")
	for _, action := range []string{"delete", "retry"} {
		expectStatus(t, c.post("/jobs/"+jobID+"/"+action, nil), http.StatusSeeOther)
	}
	env.sim.WaitTasks()
	if _, ok := env.sim.Node("pve1").GuestStatus(vmid); !ok {
		t.Fatal("the job deleted someone else's CT 104")
	}
	if j, _ := env.runner.Job(ctx, env.user.ID, jobID); j.State != store.JobFailed || j.Attempts != 0 {
		t.Errorf("job %s, attempts %d", j.State, j.Attempts)
	}
	if err := env.runner.Delete(ctx, env.user.ID, jobID); !errors.Is(err, provision.ErrGuestGone) {
		t.Errorf("runner Delete: %v", err)
	}
	if cts, _ := env.srv.DB.Containers(ctx, env.user.ID); len(cts) != 1 {
		t.Errorf("records %+v", cts)
	}
}
