package provision

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"corral/store"
)

// hub persists job log entries in small batches and then broadcasts them to
// the job's subscribers. Persisting before broadcasting is what lets a
// reader subscribe, read the history and then take live entries with a
// higher Seq, without a gap or a duplicate.
type hub struct {
	jobs     JobStore
	log      *slog.Logger
	interval time.Duration

	mu   sync.Mutex
	subs map[string]map[chan []store.LogEntry]struct{}
	bufs map[string]*jobBuffer
}

// jobBuffer holds one job's entries not yet persisted.
type jobBuffer struct {
	mu      sync.Mutex // serialises flushes so entries keep their order
	job     store.Job
	pending []store.LogEntry
	timer   *time.Timer
}

// subBuffer is how many batches a subscriber may lag; a slower one is
// dropped (its channel closed) and must resume from its last Seq.
const subBuffer = 256

// flushLines is the batch size that forces a flush before the timer fires.
const flushLines = 64

func newHub(jobs JobStore, log *slog.Logger, interval time.Duration) *hub {
	return &hub{jobs: jobs, log: log, interval: interval,
		subs: map[string]map[chan []store.LogEntry]struct{}{}, bufs: map[string]*jobBuffer{}}
}

// Subscribe returns a channel of the job's entries persisted from now on,
// and a function that ends the subscription.
func (h *hub) Subscribe(jobID string) (<-chan []store.LogEntry, func()) {
	ch := make(chan []store.LogEntry, subBuffer)
	h.mu.Lock()
	if h.subs[jobID] == nil {
		h.subs[jobID] = map[chan []store.LogEntry]struct{}{}
	}
	h.subs[jobID][ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if _, ok := h.subs[jobID][ch]; ok {
				delete(h.subs[jobID], ch)
				close(ch)
			}
			if len(h.subs[jobID]) == 0 {
				delete(h.subs, jobID)
			}
		})
	}
}

func (h *hub) publish(jobID string, batch []store.LogEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[jobID] {
		select {
		case ch <- batch:
		default:
			delete(h.subs[jobID], ch)
			close(ch)
		}
	}
}

func (h *hub) buffer(j store.Job) *jobBuffer {
	h.mu.Lock()
	b := h.bufs[j.ID]
	if b == nil {
		b = &jobBuffer{}
		h.bufs[j.ID] = b
	}
	// Lock order is b.mu before h.mu (flush publishes under b.mu).
	h.mu.Unlock()
	b.mu.Lock()
	b.job = j
	b.mu.Unlock()
	return b
}

// add queues an entry. Output lines wait for a batch or the timer; step
// markers flush at once with everything before them.
func (h *hub) add(j store.Job, e store.LogEntry) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	b := h.buffer(j)
	b.mu.Lock()
	b.pending = append(b.pending, e)
	now := e.Kind != store.EntryLog || len(b.pending) >= flushLines
	if !now && b.timer == nil {
		b.timer = time.AfterFunc(h.interval, func() { h.flush(j.ID) })
	}
	b.mu.Unlock()
	if now {
		h.flush(j.ID)
	}
}

// flush persists and broadcasts a job's pending entries. It outlives the
// caller's context: lines already produced must not be lost to a shutdown.
func (h *hub) flush(jobID string) {
	h.mu.Lock()
	b := h.bufs[jobID]
	h.mu.Unlock()
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.pending) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	saved, err := h.jobs.AppendJobLog(ctx, b.job.UserID, b.job.ID, b.pending)
	b.pending = nil
	if err != nil {
		// saved holds what did reach the log (events may have failed).
		h.log.Error("job log not fully saved", "job", jobID, "err", err)
	}
	if len(saved) > 0 {
		h.publish(jobID, saved)
	}
}

// forget drops a finished job's buffer after a last flush.
func (h *hub) forget(jobID string) {
	h.flush(jobID)
	h.mu.Lock()
	delete(h.bufs, jobID)
	h.mu.Unlock()
}
