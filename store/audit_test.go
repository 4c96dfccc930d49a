package store

import (
	"errors"
	"testing"
	"time"
)

func TestDB_Audit(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	db, _ := mustOpen(t, withClock(clock))
	base := clock.Now()

	// Out of order, and two with the same timestamp: the key sorts by time,
	// then by insertion.
	for _, e := range []AuditEntry{
		{Time: base.Add(2 * time.Second), Kind: "node.add", Target: "pve1"},
		{Time: base, Kind: "login.failed", Username: "alice", Remote: "127.0.0.1"},
		{Time: base.Add(2 * time.Second), Kind: "node.delete", Target: "pve1"},
		{Kind: "login.ok", Username: "alice"}, // zero time = now = base
	} {
		if err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Audit(ctx, AuditEntry{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty kind err = %v", err)
	}

	all, err := db.AuditEntries(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range all {
		kinds = append(kinds, e.Kind)
	}
	want := []string{"node.delete", "node.add", "login.ok", "login.failed"}
	if len(kinds) != len(want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds = %v, want %v", kinds, want)
		}
	}
	if all[3].Username != "alice" || all[3].Remote != "127.0.0.1" || !all[3].Time.Equal(base) {
		t.Fatalf("entry = %+v", all[3])
	}
	two, err := db.AuditEntries(ctx, 2)
	if err != nil || len(two) != 2 || two[0].Kind != "node.delete" {
		t.Fatalf("limit 2 = %+v, %v", two, err)
	}
}
