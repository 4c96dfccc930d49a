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
	j, _, err := db.CreateJob(ctx, Plan{UserID: alice.ID, NodeID: n.ID, VMID: 120, Hostname: "web", Scripts: []Script{{Name: "s", Content: "v1"}}})
	if err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		t.Helper()
		got, err := db.Job(ctx, alice.ID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Plan.Scripts[0].Content
	}
	// withScript is j's plan running content instead.
	withScript := func(content string) Plan {
		p := j.Plan
		p.Scripts = []Script{{Name: "s", Content: content}}
		return p
	}
	for _, state := range []JobState{JobQueued, JobRunning, JobDone, JobDeleted} {
		j.State = state
		if state != JobQueued {
			if err := db.SaveJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SaveJobPlan(ctx, alice.ID, j.ID, withScript("v2")); !errors.Is(err, ErrConflict) {
			t.Errorf("plan of a %s job: %v", state, err)
		}
	}
	if p := plan(); p != "v1" {
		t.Fatalf("plan changed to %s", p)
	}

	j.State = JobFailed
	if err := db.SaveJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveJobPlan(ctx, bob.ID, j.ID, withScript("v2")); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob saved alice's plan: %v", err)
	}
	other := withScript("v2")
	other.VMID = 121
	if err := db.SaveJobPlan(ctx, alice.ID, j.ID, other); !errors.Is(err, ErrInvalid) {
		t.Errorf("plan for another container: %v", err)
	}
	for _, state := range []JobState{JobFailed, JobInterrupted} {
		j.State = state
		if err := db.SaveJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		want := "in state " + string(state)
		if err := db.SaveJobPlan(ctx, alice.ID, j.ID, withScript(want)); err != nil {
			t.Fatalf("plan of a %s job: %v", state, err)
		}
		if p := plan(); p != want {
			t.Fatalf("plan = %s, want %s", p, want)
		}
	}
}
