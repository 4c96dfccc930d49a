package provision

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"corral/store"
)

// memLog is an in-memory JobStore holding only the log, for the hub.
type memLog struct {
	JobStore
	mu  sync.Mutex
	seq uint64
}

func (m *memLog) AppendJobLog(ctx context.Context, userID, jobID string, es []store.LogEntry) ([]store.LogEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.LogEntry, len(es))
	for i, e := range es {
		m.seq++
		e.Seq = m.seq
		out[i] = e
	}
	return out, nil
}

// TestHubOrderAndLag: a reader that keeps up gets every entry once, in
// order; one that never reads is dropped instead of blocking the job.
func TestHubOrderAndLag(t *testing.T) {
	h := newHub(&memLog{}, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour)
	j := store.Job{ID: "j1"}
	live, cancel := h.Subscribe("j1")
	defer cancel()
	stuck, cancelStuck := h.Subscribe("j1")
	defer cancelStuck()

	const total = flushLines * (subBuffer + 10)
	got := make(chan []uint64)
	go func() {
		var seqs []uint64
		for batch := range live {
			for _, e := range batch {
				seqs = append(seqs, e.Seq)
			}
			if len(seqs) == total+1 {
				break
			}
		}
		got <- seqs
	}()
	for range total {
		h.add(j, store.LogEntry{Kind: store.EntryLog, Text: "x"})
	}
	h.add(j, store.LogEntry{Kind: store.EventReady}) // markers flush at once
	seqs := <-got
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("entry %d has seq %d", i, s)
		}
	}
	n := 0
	for range stuck {
		n++
	}
	if n != subBuffer {
		t.Fatalf("the stuck reader got %d batches before being dropped, want %d", n, subBuffer)
	}
}
