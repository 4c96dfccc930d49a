package handlers_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"corral/exec/provision"
	"corral/store"
)

// TestJobs_RollbackAfterFailedProvisioning: a plan with the clean snapshot
// takes it once the container is up; a script fails half-way and leaves a
// mess; "Roll back to the clean snapshot and retry" returns the container
// to the snapshot and runs the scripts again in a clean system.
func TestJobs_RollbackAfterFailedProvisioning(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 170
	plan := jobsTestPlan(env.user, env.node, vmid, "halfway")
	plan.CleanSnapshot = true
	// The script refuses to run over what a failed run left behind, as a
	// real installer half-done would break a second run.
	const leftover = "if [ -f /root/half-done ]; then echo 'leftover from a failed run' >&2; exit 4; fi\ntouch /root/half-done\n"
	plan.Scripts = []store.Script{{Name: "10-install.sh", Content: leftover + "echo 'download failed' >&2; exit 7\n"}}
	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobFailed || j.Error == nil || j.Error.ExitCode != 7 || !j.IsDone(provision.StepSnapshot) {
		t.Fatalf("job %s at %s: %+v, done %v", j.State, j.Step, j.Error, j.Done)
	}
	half := filepath.Join(env.sim.Node("pve1").ContainerDir(vmid), "root", "half-done")
	if _, err := os.Stat(half); err != nil {
		t.Fatalf("the failed script left nothing behind: %v", err)
	}

	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	res := c.get("/jobs/" + jobID)
	expectStatus(t, res, http.StatusOK)
	if st, _ := res.Doc.Find(`[data-step="snapshot"]`).Attr("data-state"); st != "done" {
		t.Errorf("the snapshot step shows %q", st)
	}
	btn := res.Doc.Find(`[data-testid="job-rollback-retry"]`)
	if btn.Length() != 1 || res.Doc.Find(`[data-testid="job-retry"]`).Length() != 1 {
		t.Fatalf("a failed job with a clean snapshot offers no rollback besides retry:\n%s", res.Doc.Find(`[data-testid="job-status"]`).Text())
	}

	// The template's author fixes the script; the retry takes the fix (as
	// "retry with the template's current version" would).
	j.Plan.Scripts[0].Content = leftover + "echo installed > /root/done\n"
	if err := env.srv.DB.SaveJobPlan(ctx, env.user.ID, jobID, j.Plan); err != nil {
		t.Fatal(err)
	}
	res = c.post("/jobs/"+jobID+"/rollback-retry", nil)
	expectStatus(t, res, http.StatusSeeOther)
	j = jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobDone {
		t.Fatalf("after the rollback: %s %+v", j.State, j.Error)
	}
	if got := jobsTestRead(t, env.sim, "pve1", vmid, "root/done"); got != "installed\n" {
		t.Errorf("the fixed script did not run: %q", got)
	}
	log, err := env.runner.Log(ctx, env.user.ID, jobID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, e := range log {
		text = append(text, e.Text)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"Snapshot corral-clean taken", "Rolling back to the snapshot corral-clean", "rolling back to the snapshot corral-clean first"} {
		if !strings.Contains(all, want) {
			t.Errorf("the log lacks %q:\n%s", want, all)
		}
	}
	// The rollback did not make a second snapshot.
	page := c.get("/containers/" + env.node.ID + "/170/snapshots")
	if n := page.Doc.Find(`[data-testid="snapshot"][data-snapshot="corral-clean"]`).Length(); n != 1 {
		t.Errorf("snapshots after the retry:\n%s", page.Doc.Find(`[data-testid="snapshots"]`).Text())
	}

	t.Run("SettingsKeepCreatedNote", func(t *testing.T) {
		// The Settings tab neither shows nor loses the line that tells the
		// job's container from another with the same VMID.
		page := c.get("/containers/" + env.node.ID + "/170/settings")
		if notes := page.Doc.Find(`#description`).Text(); strings.Contains(notes, "Created by Corral") {
			t.Errorf("the notes field shows Corral's line: %q", notes)
		}
		f := formOf(t, page, `[data-testid="settings-form"]`, "review")
		f.Set("description", "Half-way installer, fixed")
		review := c.post("/containers/"+env.node.ID+"/170/settings", f)
		expectStatus(t, review, http.StatusOK)
		expectStatus(t, c.post("/containers/"+env.node.ID+"/170/settings", formOf(t, review, `[data-testid="review-form"]`, "apply")), http.StatusSeeOther)
		api, err := env.srv.H.Proxmox(env.node)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := api.LXCConfig(ctx, "pve1", vmid)
		if err != nil {
			t.Fatal(err)
		}
		if d := cfg.Description(); !strings.Contains(d, "Half-way installer, fixed") || !strings.Contains(d, provision.CreatedNote(jobID)) {
			t.Errorf("description = %q", d)
		}
	})

	t.Run("NoSnapshotNoOffer", func(t *testing.T) {
		p := jobsTestPlan(env.user, env.node, 171, "nosnap")
		p.Scripts = []store.Script{{Name: "10-fail.sh", Content: "exit 3\n"}}
		id, err := env.runner.Start(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		jobsTestWaitEnd(t, env.runner, env.user.ID, id)
		res := c.get("/jobs/" + id)
		if res.Doc.Find(`[data-testid="job-rollback-retry"]`).Length() != 0 {
			t.Error("a job without a clean snapshot offers a rollback")
		}
		res = c.post("/jobs/"+id+"/rollback-retry", nil)
		expectStatus(t, res, http.StatusSeeOther)
		if flash := c.get("/jobs/" + id).Doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(flash, "no clean snapshot") {
			t.Errorf("flash %q", flash)
		}
	})
}
