package store

import (
	"errors"
	"testing"
)

// TestDB_SaveJobPlan: only a stopped (failed or interrupted) job's plan may
// change, and only its owner's.
func TestDB_SaveJobPlan(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	n := mustNode(t, db, alice.ID, "n1")
	j, _, err := db.CreateJob(ctx, Job{UserID: alice.ID, NodeID: n.ID, VMID: 120, Plan: []byte(`{"v":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		t.Helper()
		got, err := db.Job(ctx, alice.ID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		return string(got.Plan)
	}
	for _, state := range []string{JobQueued, JobRunning, JobDone, JobDeleted} {
		j.State = state
		if state != JobQueued {
			if err := db.SaveJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SaveJobPlan(ctx, alice.ID, j.ID, []byte(`{"v":2}`)); !errors.Is(err, ErrConflict) {
			t.Errorf("plan of a %s job: %v", state, err)
		}
	}
	if p := plan(); p != `{"v":1}` {
		t.Fatalf("plan changed to %s", p)
	}

	j.State = JobFailed
	if err := db.SaveJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveJobPlan(ctx, bob.ID, j.ID, []byte(`{"v":2}`)); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob saved alice's plan: %v", err)
	}
	if err := db.SaveJobPlan(ctx, alice.ID, j.ID, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty plan: %v", err)
	}
	for _, state := range []string{JobFailed, JobInterrupted} {
		j.State = state
		if err := db.SaveJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		want := `{"state":"` + state + `"}`
		if err := db.SaveJobPlan(ctx, alice.ID, j.ID, []byte(want)); err != nil {
			t.Fatalf("plan of a %s job: %v", state, err)
		}
		if p := plan(); p != want {
			t.Fatalf("plan = %s, want %s", p, want)
		}
	}
}
