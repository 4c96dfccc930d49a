package store

import (
	"fmt"
	"maps"
	"testing"
)

func TestDB_JobCounts(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	counts := func() map[JobState]int {
		t.Helper()
		c, err := db.JobCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := counts(); len(c) != 0 {
		t.Fatalf("empty store counts %v", c)
	}
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	for i, u := range []User{alice, alice, bob} {
		n := mustNode(t, db, u.ID, fmt.Sprintf("n%d", i))
		j, _, err := db.CreateJob(ctx, Plan{UserID: u.ID, NodeID: n.ID, VMID: 200 + i, Hostname: "ct"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			j.State = JobDone
			if err := db.SaveJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c, want := counts(), map[JobState]int{JobDone: 1, JobQueued: 2}; !maps.Equal(c, want) {
		t.Fatalf("counts %v, want %v", c, want)
	}
}
