package handlers_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"corral/exec/provision"
	"corral/proxmox/pvesim"
	"corral/store"
)

// jobsTestRestart is Corral's durable side on one bbolt file that a test
// can stop and start again in-process, as a crash and a restart would.
type jobsTestRestart struct {
	t      *testing.T
	path   string
	db     *store.DB
	runner *provision.Runner
	stop   func()
}

func (a *jobsTestRestart) start() {
	a.t.Helper()
	db, err := store.Open(a.path, store.Options{Key: make([]byte, 32)})
	if err != nil {
		a.t.Fatal(err)
	}
	a.db = db
	a.runner, a.stop = jobsTestRunner(a.t, db, nil)
}

// crash stops the runner mid-job and closes the database.
func (a *jobsTestRestart) crash() {
	a.t.Helper()
	a.stop()
	if err := a.db.Close(); err != nil {
		a.t.Fatal(err)
	}
}

func jobsTestRecoverSetup(t *testing.T) (*jobsTestRestart, *pvesim.Sim, store.User, store.Node) {
	sim := startSim(t)
	app := &jobsTestRestart{t: t, path: filepath.Join(t.TempDir(), "corral.db")}
	app.start()
	t.Cleanup(func() { app.stop(); app.db.Close() })
	u, err := app.db.CreateUser(context.Background(), "alice", "alice-password-1")
	if err != nil {
		t.Fatal(err)
	}
	n, err := app.db.CreateNode(context.Background(), simNode(t, sim, u.ID, "pve1", "pve1"))
	if err != nil {
		t.Fatal(err)
	}
	return app, sim, u, n
}

// TestJobs_RecoverMidScript: Corral stops while a script runs; after the
// restart the job is interrupted (a script may not be safe to run twice),
// nothing is lost, and a retry finishes it.
func TestJobs_RecoverMidScript(t *testing.T) {
	app, sim, u, n := jobsTestRecoverSetup(t)
	ctx := context.Background()
	const vmid = 220
	plan := jobsTestPlan(u, n, vmid, "crashy")
	plan.Scripts = []store.Script{{Name: "slow.sh", Content: "echo started\nwhile [ ! -f /tmp/go ]; do sleep 0.02; done\necho finished\n"}}
	jobID, err := app.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	jobsTestWait(t, app.runner, u.ID, jobID, "blocked in the script", func(j store.Job) bool {
		log, _ := app.runner.Log(ctx, u.ID, jobID, 0)
		return len(log) > 0 && log[len(log)-1].Text == "started"
	})
	before, _ := app.runner.Log(ctx, u.ID, jobID, 0)
	app.crash()

	app.start()
	if j, err := app.runner.Job(ctx, u.ID, jobID); err != nil || j.State != store.JobRunning {
		t.Fatalf("before recovery: %+v %v", j.State, err)
	}
	if err := app.runner.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	j, _ := app.runner.Job(ctx, u.ID, jobID)
	if j.State != store.JobInterrupted || j.Step != "script:0" || j.Error == nil || !strings.Contains(j.Error.Message, "slow.sh") {
		t.Fatalf("after recovery: %s at %s, %+v", j.State, j.Step, j.Error)
	}
	after, _ := app.runner.Log(ctx, u.ID, jobID, 0)
	if len(after) <= len(before) || fmt.Sprint(after[:len(before)]) != fmt.Sprint(before) {
		t.Fatalf("log changed across the restart:\nbefore %v\nafter  %v", before, after)
	}
	cts, _ := app.db.Containers(ctx, u.ID)
	if len(cts) != 1 || cts[0].Lifecycle != store.LifecycleError || cts[0].JobID != jobID {
		t.Fatalf("container after recovery: %+v", cts)
	}
	if evs, _ := app.db.ContainerEvents(ctx, u.ID, n.ID, vmid, []string{store.EventInterrupted}, 0); len(evs) != 1 {
		t.Fatalf("interrupted events: %d", len(evs))
	}

	jobsTestWrite(t, sim, "pve1", vmid, "tmp/go", "")
	if err := app.runner.Retry(ctx, u.ID, jobID); err != nil {
		t.Fatal(err)
	}
	j = jobsTestWaitEnd(t, app.runner, u.ID, jobID)
	if j.State != store.JobDone {
		t.Fatalf("after retry: %s %+v", j.State, j.Error)
	}
	if cts, _ := app.db.Containers(ctx, u.ID); len(cts) != 1 || cts[0].Lifecycle != store.LifecycleReady {
		t.Fatalf("container after retry: %+v", cts)
	}
}

// TestJobs_RecoverResumes: Corral stops while starting the container (the
// API hangs); after the restart the job resumes on its own at that step,
// because starting is safe to repeat, and ends ready.
func TestJobs_RecoverResumes(t *testing.T) {
	app, sim, u, n := jobsTestRecoverSetup(t)
	ctx := context.Background()
	const vmid = 210
	sim.Node("pve1").Faults().Set(pvesim.Fault{Path: fmt.Sprintf("/nodes/pve1/lxc/%d/status/*", vmid), Kind: pvesim.FaultHang})
	plan := jobsTestPlan(u, n, vmid, "resumed")
	plan.Scripts = []store.Script{{Name: "once.sh", Content: "echo ran >> /root/runs\n"}}
	jobID, err := app.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	jobsTestWait(t, app.runner, u.ID, jobID, "at the start step", func(j store.Job) bool {
		return j.Step == provision.StepStart && j.State == store.JobRunning
	})
	app.crash()
	sim.Node("pve1").Faults().Clear()

	app.start()
	if err := app.runner.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, app.runner, u.ID, jobID)
	if j.State != store.JobDone || j.Attempts != 0 {
		t.Fatalf("after recovery: %s %+v", j.State, j.Error)
	}
	if runs := jobsTestRead(t, sim, "pve1", vmid, "root/runs"); runs != "ran\n" {
		t.Errorf("script runs %q", runs)
	}
	evs, _ := app.db.ContainerEvents(ctx, u.ID, n.ID, vmid, []string{store.EventStepStarted}, 0)
	starts := map[string]int{}
	for _, e := range evs {
		starts[e.Data["step"]]++
	}
	if starts[provision.StepCreate] != 1 || starts[provision.StepStart] != 2 {
		t.Errorf("step starts %v", starts)
	}
	if cts, _ := app.db.Containers(ctx, u.ID); len(cts) != 1 || cts[0].Lifecycle != store.LifecycleReady {
		t.Fatalf("container: %+v", cts)
	}
}
