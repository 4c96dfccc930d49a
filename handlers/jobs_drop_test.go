package handlers_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"corral/exec"
	"corral/exec/access"
	"corral/exec/provision"
	"corral/store"
)

// jobsTestDroppingShell is a real SSH connection to the host that dies
// just as the first apt-get install is sent, as a network restart during
// a package install would cut it.
type jobsTestDroppingShell struct {
	*exec.Host
	dropped *atomic.Bool
}

func (s jobsTestDroppingShell) Pct(ctx context.Context, req exec.PctRequest) (int, error) {
	if strings.Contains(strings.Join(req.Argv, " "), "apt-get install") && s.dropped.CompareAndSwap(false, true) {
		s.Host.Close()
	}
	return s.Host.Pct(ctx, req)
}

// TestJobs_SSHDropRetried: the SSH connection dies in the middle of the apt
// install; the pipeline reconnects, runs the command once more and the job
// ends ready.
func TestJobs_SSHDropRetried(t *testing.T) {
	sim := startSim(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "corral.db"), store.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	u, _ := db.CreateUser(ctx, "alice", "alice-password-1")
	n, err := db.CreateNode(ctx, simNode(t, sim, u.ID, "pve1", "pve1"))
	if err != nil {
		t.Fatal(err)
	}
	var dropped atomic.Bool
	var dials atomic.Int32
	r, _ := jobsTestRunner(t, db, nil, func(c *provision.Config) {
		c.Dial = func(ctx context.Context, n store.Node) (provision.Shell, error) {
			dials.Add(1)
			h, err := exec.Dial(ctx, access.HostTarget(n))
			if err != nil {
				return nil, err
			}
			return jobsTestDroppingShell{Host: h, dropped: &dropped}, nil
		}
	})
	plan := jobsTestPlan(u, n, 230, "netflap")
	plan.Packages = []store.Package{{Manager: "apt", Name: "nginx"}}
	jobID, err := r.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, r, u.ID, jobID)
	if j.State != store.JobDone {
		t.Fatalf("job %s at %s: %+v", j.State, j.Step, j.Error)
	}
	if !dropped.Load() || dials.Load() < 2 {
		t.Fatalf("dropped %v, dials %d", dropped.Load(), dials.Load())
	}
	log, _ := r.Log(ctx, u.ID, jobID, 0)
	found := false
	for _, e := range log {
		found = found || (e.Step == "pkg:apt" && strings.Contains(e.Text, "reconnecting and retrying once"))
	}
	if !found {
		t.Error("the reconnect is not in the job log")
	}
	if state := jobsTestRead(t, sim, "pve1", 230, ".pvesim-state.json"); !strings.Contains(state, "nginx") {
		t.Error("nginx not installed after the retry")
	}
}
