package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestDB_Events(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	add := func(e Event) Event {
		t.Helper()
		got, err := db.AppendEvent(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	e1 := add(Event{UserID: "u1", NodeID: "n1", VMID: 100, JobID: "j1", Type: EventStepStarted, Message: "create"})
	e2 := add(Event{UserID: "u1", NodeID: "n1", VMID: 100, JobID: "j1", Type: EventStepDone, Data: map[string]string{"step": "create"}})
	add(Event{UserID: "u1", NodeID: "n1", VMID: 101, Type: EventStarted})              // other vmid
	add(Event{UserID: "u1", NodeID: "n2", VMID: 100, Type: EventStarted})              // other node
	add(Event{UserID: "u2", NodeID: "n1", VMID: 100, JobID: "j1", Type: EventStarted}) // other user, same ids
	e6 := add(Event{UserID: "u1", NodeID: "n1", VMID: 100, Type: EventStopped})
	if e1.Seq == 0 || e2.Seq <= e1.Seq || e6.Seq <= e2.Seq || e1.Time.IsZero() {
		t.Fatalf("seqs %d %d %d, time %v", e1.Seq, e2.Seq, e6.Seq, e1.Time)
	}

	got, err := db.ContainerEvents(ctx, "u1", "n1", 100, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if seqs(got) != fmt.Sprint([]uint64{e6.Seq, e2.Seq, e1.Seq}) {
		t.Fatalf("container events = %s", seqs(got))
	}
	if got[1].Data["step"] != "create" || got[1].JobID != "j1" || got[1].Type != EventStepDone {
		t.Fatalf("event round trip = %+v", got[1])
	}
	got, _ = db.ContainerEvents(ctx, "u1", "n1", 100, []string{EventStepStarted, EventStopped}, 1)
	if seqs(got) != fmt.Sprint([]uint64{e6.Seq}) {
		t.Fatalf("filtered+limited = %s", seqs(got))
	}
	got, _ = db.ContainerEvents(ctx, "u1", "n1", 100, []string{EventStepStarted}, 0)
	if seqs(got) != fmt.Sprint([]uint64{e1.Seq}) {
		t.Fatalf("filtered = %s", seqs(got))
	}

	got, _ = db.JobEvents(ctx, "u1", "j1", 0)
	if seqs(got) != fmt.Sprint([]uint64{e1.Seq, e2.Seq}) {
		t.Fatalf("job events = %s", seqs(got))
	}
	got, _ = db.JobEvents(ctx, "u1", "j1", e1.Seq)
	if seqs(got) != fmt.Sprint([]uint64{e2.Seq}) {
		t.Fatalf("job events after = %s", seqs(got))
	}
	if got, _ := db.JobEvents(ctx, "u3", "j1", 0); len(got) != 0 {
		t.Fatalf("stranger sees %d events", len(got))
	}
	if _, err := db.AppendEvent(ctx, Event{UserID: "u1"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no type: %v", err)
	}
}

func TestDB_EventsConcurrentSeqUnique(t *testing.T) {
	db, _ := mustOpen(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[uint64]bool{}
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				e, err := db.AppendEvent(t.Context(), Event{UserID: "u", JobID: fmt.Sprint("j", i%2), Type: EventStepDone})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[e.Seq] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 80 {
		t.Fatalf("%d distinct seqs, want 80", len(seen))
	}
	a, _ := db.JobEvents(t.Context(), "u", "j0", 0)
	b, _ := db.JobEvents(t.Context(), "u", "j1", 0)
	if len(a)+len(b) != 80 {
		t.Fatalf("job events %d + %d", len(a), len(b))
	}
}

func seqs(es []Event) string {
	var s []uint64
	for _, e := range es {
		s = append(s, e.Seq)
	}
	return fmt.Sprint(s)
}
