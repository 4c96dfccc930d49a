package store

import (
	"errors"
	"testing"
)

func TestDB_Jobs(t *testing.T) {
	ctx := t.Context()
	db, path := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	n := mustNode(t, db, alice.ID, "n1")

	j, c, err := db.CreateJob(ctx, Plan{UserID: alice.ID, NodeID: n.ID, VMID: 120, Hostname: "web",
		TemplateID: "tmpl-1", TemplateName: "Web server", Scripts: []Script{{Name: "10-x.sh", Content: "x", Enabled: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if j.ID == "" || j.State != JobQueued || j.ContainerID != c.ID || c.JobID != j.ID || c.Lifecycle != LifecycleCreating {
		t.Fatalf("job %+v container %+v", j, c)
	}
	// The container records the template it is made from (issue 14, bug 5).
	if cs, _ := db.Containers(ctx, alice.ID); len(cs) != 1 || cs[0].TemplateID != "tmpl-1" || cs[0].TemplateName != "Web server" {
		t.Fatalf("container's template: %+v", cs)
	}
	if got, _ := db.Job(ctx, alice.ID, j.ID); got.Plan.TemplateID != "tmpl-1" || got.Plan.TemplateName != "Web server" {
		t.Fatalf("job's template: %+v", got)
	}
	if _, _, err := db.CreateJob(ctx, Plan{UserID: bob.ID, NodeID: n.ID, VMID: 121}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("job on another user's node: %v", err)
	}
	if _, _, err := db.CreateJob(ctx, Plan{UserID: alice.ID, NodeID: n.ID}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("job without a VMID: %v", err)
	}
	if _, err := db.Job(ctx, bob.ID, j.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob reads alice's job: %v", err)
	}
	if err := db.SaveJob(ctx, Job{ID: j.ID, UserID: bob.ID, State: JobDone}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob saves alice's job: %v", err)
	}

	lifecycle := func() string {
		t.Helper()
		cs, err := db.Containers(ctx, alice.ID)
		if err != nil || len(cs) != 1 {
			t.Fatalf("containers %v %v", cs, err)
		}
		return cs[0].Lifecycle
	}
	active, _ := db.ActiveJobs(ctx)
	if len(active) != 1 || active[0].ID != j.ID || active[0].UserID != alice.ID {
		t.Fatalf("active = %+v", active)
	}

	j.State, j.Step, j.Done, j.Attempts = JobFailed, "script:0", []string{"create", "start"}, 1
	j.Error = &StepError{Step: "script:0", Message: "boom", Command: "x", ExitCode: 3, Output: []string{"a", "b"}}
	if err := db.SaveJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	got, err := db.Job(ctx, alice.ID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Error == nil || got.Error.ExitCode != 3 || len(got.Done) != 2 || got.Plan.Scripts[0].Content != "x" || got.Plan.VMID != 120 {
		t.Fatalf("reloaded = %+v", got)
	}
	if lc := lifecycle(); lc != LifecycleError {
		t.Fatalf("lifecycle after failure = %s", lc)
	}
	if active, _ := db.ActiveJobs(ctx); len(active) != 0 {
		t.Fatalf("failed job still active: %+v", active)
	}
	j.State, j.Error = JobDone, nil
	if err := db.SaveJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if lc := lifecycle(); lc != LifecycleReady {
		t.Fatalf("lifecycle after done = %s", lc)
	}
	if err := db.SaveJob(ctx, Job{ID: j.ID, UserID: alice.ID, State: "bogus"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bogus state: %v", err)
	}

	// Records survive a reopen.
	db.Close()
	db2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got, err := db2.Job(ctx, alice.ID, j.ID); err != nil || got.State != JobDone {
		t.Fatalf("after reopen %+v %v", got, err)
	}
	j.State = JobDeleted
	if err := db2.SaveJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if cs, _ := db2.Containers(ctx, alice.ID); len(cs) != 0 {
		t.Fatalf("container kept after deletion: %+v", cs)
	}
}

func TestDB_JobLog(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	n := mustNode(t, db, alice.ID, "n1")
	j, _, err := db.CreateJob(ctx, Plan{UserID: alice.ID, NodeID: n.ID, VMID: 120})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]LogEntry, 150)
	for i := range batch {
		batch[i] = LogEntry{Kind: "log", Script: "s", Text: "line"}
	}
	var last uint64
	for range 15 {
		out, err := db.AppendJobLog(ctx, alice.ID, j.ID, batch)
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Seq != last+1 || out[0].Time.IsZero() {
			t.Fatalf("first seq %d after %d", out[0].Seq, last)
		}
		last = out[len(out)-1].Seq
	}
	all, err := db.JobLog(ctx, alice.ID, j.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != MaxLogEntrys || all[0].Seq != last-MaxLogEntrys+1 || all[len(all)-1].Seq != last {
		t.Fatalf("kept %d lines %d..%d, last %d", len(all), all[0].Seq, all[len(all)-1].Seq, last)
	}
	tail, _ := db.JobLog(ctx, alice.ID, j.ID, last-3)
	if len(tail) != 3 || tail[0].Script != "s" {
		t.Fatalf("tail = %+v", tail)
	}
	if _, err := db.JobLog(ctx, bob.ID, j.ID, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob reads log: %v", err)
	}
	if _, err := db.AppendJobLog(ctx, bob.ID, j.ID, batch[:1]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob appends: %v", err)
	}
}

func TestStepErrorMessage(t *testing.T) {
	e := &StepError{Message: "apt-get install -y x failed", Command: "apt-get install -y x", ExitCode: 100, Output: []string{"a", "E: Unable to locate package x"}}
	if got := e.Error(); got != "apt-get install -y x failed (apt-get install -y x exited with code 100): E: Unable to locate package x" {
		t.Fatalf("%q", got)
	}
}
