package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestDB_JobLogMarkersAreEvents: every marker of a job's log is recorded as
// an event of its container in the same transaction, so a reader that sees
// a marker in the log always finds its event (the ready line of a job must
// never appear before the events it announces). Output lines make no event.
func TestDB_JobLogMarkersAreEvents(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")
	n := mustNode(t, db, alice.ID, "n1")
	j, c, err := db.CreateJob(ctx, Plan{UserID: alice.ID, NodeID: n.ID, VMID: 130})
	if err != nil {
		t.Fatal(err)
	}

	const batches = 200
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readerErr error
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			log, err := db.JobLog(ctx, alice.ID, j.ID, 0)
			if err != nil {
				readerErr = err
				return
			}
			evs, err := db.JobEvents(ctx, alice.ID, j.ID, 0)
			if err != nil {
				readerErr = err
				return
			}
			seen := map[string]bool{}
			for _, e := range evs {
				seen[e.Data["log_seq"]] = true
			}
			for _, l := range log {
				if l.Kind != EntryLog && !seen[fmt.Sprint(l.Seq)] {
					readerErr = fmt.Errorf("marker %d (%s) in the log without its event", l.Seq, l.Kind)
					return
				}
			}
		}
	})
	for i := range batches {
		_, err := db.AppendJobLog(ctx, alice.ID, j.ID, []LogEntry{
			{Kind: EntryLog, Text: fmt.Sprint("output ", i)},
			{Kind: EventStepDone, Step: "script:0", Script: "a.sh", Text: fmt.Sprint("step ", i),
				Data: map[string]string{"extra": fmt.Sprint(i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if readerErr != nil {
		t.Fatal(readerErr)
	}

	evs, err := db.ContainerEvents(ctx, alice.ID, n.ID, 130, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != batches {
		t.Fatalf("%d events for %d markers", len(evs), batches)
	}
	e := evs[0] // newest
	if e.Type != EventStepDone || e.JobID != j.ID || e.ContainerID != c.ID || e.Message != fmt.Sprint("step ", batches-1) ||
		e.Data["step"] != "script:0" || e.Data["script"] != "a.sh" || e.Data["extra"] != fmt.Sprint(batches-1) || e.Data["log_seq"] != fmt.Sprint(2*batches) {
		t.Fatalf("newest event %+v", e)
	}
	log, _ := db.JobLog(ctx, alice.ID, j.ID, 2*batches-1)
	if len(log) != 1 || log[0].Data != nil {
		t.Fatalf("the log keeps the event data: %+v", log)
	}
	if _, err := db.AppendJobLog(ctx, alice.ID, j.ID, []LogEntry{{Text: "no kind"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a marker without a kind: %v", err)
	}
}

// TestDB_DeleteContainerEndsItsJob: removing a container record ends the
// stopped or finished job that created it as deleted, in the same
// transaction, so its page no longer offers Retry or Delete; a job that
// still runs is left to fail on its own.
func TestDB_DeleteContainerEndsItsJob(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")
	n := mustNode(t, db, alice.ID, "n1")
	for _, state := range []JobState{JobFailed, JobInterrupted, JobDone, JobRunning, JobQueued} {
		j, c, err := db.CreateJob(ctx, Plan{UserID: alice.ID, NodeID: n.ID, VMID: 140})
		if err != nil {
			t.Fatal(err)
		}
		j.State = state
		if err := db.SaveJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteContainer(ctx, alice.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		got, err := db.Job(ctx, alice.ID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := JobDeleted
		if state == JobRunning || state == JobQueued {
			want = state
		}
		if got.State != want {
			t.Errorf("a %s job became %s", state, got.State)
		}
	}
	// A record whose job is gone deletes as before.
	c, err := db.CreateContainer(ctx, Container{UserID: alice.ID, NodeID: n.ID, VMID: 141, JobID: "no-such-job"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteContainer(ctx, alice.ID, c.ID); err != nil {
		t.Fatal(err)
	}
}
