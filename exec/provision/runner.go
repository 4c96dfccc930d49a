package provision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"corral/proxmox/clusters"
	"corral/store"
)

// Config configures a Runner. Store, Proxmox, Dial and Logger are
// required; zero durations and counts take the defaults.
type Config struct {
	Store   Store
	Proxmox clusters.Clients // opens a node's API
	// Dial opens an SSH connection to a node's host, over its pinned host
	// key.
	Dial   func(ctx context.Context, n store.Node) (Shell, error)
	VMIDs  VMIDNotes // told of what the runner creates and deletes; may be nil
	Logger *slog.Logger

	Workers       int           // jobs run at once; default 2
	FlushInterval time.Duration // how long output lines may wait to be saved; default 200ms
	WaitAttempts  int           // root file system checks after start; default 30
	WaitInterval  time.Duration // between those checks; default 1s
}

// Store is what the runner keeps and reads in the database; *store.DB is
// one. Node opens a job's node; Template lets the owner of a job's
// template retry it with the template's current scripts.
type Store interface {
	JobStore
	Node(ctx context.Context, userID, nodeID string) (store.Node, error)
	Template(ctx context.Context, userID, id string) (store.Template, error)
}

// VMIDNotes is told at once of the containers the runner creates and
// deletes; *clusters.VMIDs is one.
type VMIDNotes interface {
	NoteCreated(ctx context.Context, n store.Node, vmid int, name string)
	NoteDeleted(ctx context.Context, n store.Node, vmid int)
}

// Runner executes creation jobs, a few at a time, durably: each job and
// each completed step is saved before the next one starts, so a restarted
// Corral can pick up where it stopped (Recover).
type Runner struct {
	cfg   Config
	conn  connector
	log   *slog.Logger
	hub   *hub
	queue chan jobRef

	mu     sync.Mutex
	queued map[string]bool // job ids queued or running in this process
}

type jobRef struct{ userID, jobID string }

// queueSize bounds the jobs waiting for a worker.
const queueSize = 1024

// New checks cfg and returns a Runner. Call Recover once, then Run in the
// background.
func New(cfg Config) (*Runner, error) {
	if cfg.Store == nil || cfg.Proxmox == nil || cfg.Dial == nil || cfg.Logger == nil {
		return nil, errors.New("provision: runner: store, proxmox, dial and logger are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 200 * time.Millisecond
	}
	if cfg.WaitAttempts <= 0 {
		cfg.WaitAttempts = 30
	}
	if cfg.WaitInterval <= 0 {
		cfg.WaitInterval = time.Second
	}
	return &Runner{
		cfg: cfg, conn: nodes{db: cfg.Store, clients: cfg.Proxmox, dial: cfg.Dial},
		log: cfg.Logger, hub: newHub(cfg.Store, cfg.Logger, cfg.FlushInterval),
		queue: make(chan jobRef, queueSize), queued: map[string]bool{},
	}, nil
}

// Run executes queued jobs until ctx ends, then waits for the running ones
// to stop. A job stopped this way stays "running" in the store, exactly as
// after a crash, and Recover resumes it on the next start.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ref := <-r.queue:
					r.execute(ctx, ref)
				}
			}
		})
	}
	wg.Wait()
}

// Start stores a job for plan (with its container record, lifecycle
// creating) before anything is sent to Proxmox, then queues it.
func (r *Runner) Start(ctx context.Context, plan store.Plan) (string, error) {
	j, _, err := r.cfg.Store.CreateJob(ctx, plan)
	if err != nil {
		return "", fmt.Errorf("provision: start job: %w", err)
	}
	r.emit(j, store.LogEntry{Kind: store.EntryLog, Text: fmt.Sprintf("Queued creation of container %d (%s)", plan.VMID, plan.Hostname)})
	if err := r.enqueue(j); err != nil {
		return j.ID, r.interrupt(ctx, j, err.Error())
	}
	return j.ID, nil
}

// Job returns one of the user's jobs.
func (r *Runner) Job(ctx context.Context, userID, jobID string) (store.Job, error) {
	return r.cfg.Store.Job(ctx, userID, jobID)
}

// Log returns the user's job log entries after Seq after.
func (r *Runner) Log(ctx context.Context, userID, jobID string, after uint64) ([]store.LogEntry, error) {
	return r.cfg.Store.JobLog(ctx, userID, jobID, after)
}

// Subscribe streams the job's entries saved from now on. The channel is
// closed by the returned cancel function, or early when the reader lags
// (it should then resume from its last Seq).
func (r *Runner) Subscribe(jobID string) (<-chan []store.LogEntry, func()) {
	return r.hub.Subscribe(jobID)
}

// Retry queues a failed or interrupted job again; it resumes at the step
// that did not complete and runs the plan exactly as it was reviewed and
// saved, whatever happened to its template since (see RetryWithTemplate).
func (r *Runner) Retry(ctx context.Context, userID, jobID string) error {
	j, err := r.stoppedJob(ctx, userID, jobID)
	if err != nil {
		return err
	}
	if err := r.stillOwned(ctx, j); err != nil {
		return err
	}
	return r.requeue(ctx, j, nil, "")
}

// stillOwned refuses to go on with a job whose created container is gone
// or replaced (a *GuestGoneError): the retry would fail on a missing
// container or, worse, run its steps in someone else's.
func (r *Runner) stillOwned(ctx context.Context, j store.Job) error {
	if !j.IsDone(StepCreate) {
		return nil // the create step comes again
	}
	_, err := r.ownGuest(ctx, j)
	return err
}

// stoppedJob loads the user's job, which must be failed or interrupted.
func (r *Runner) stoppedJob(ctx context.Context, userID, jobID string) (store.Job, error) {
	j, err := r.cfg.Store.Job(ctx, userID, jobID)
	if err != nil {
		return store.Job{}, err
	}
	if !j.State.Stopped() {
		return store.Job{}, fmt.Errorf("provision: retry job: %w (it is %s)", ErrJobState, j.State)
	}
	return j, nil
}

// requeue marks a stopped job queued for another attempt, logs the retry
// (note ends its message; changes are the scripts it takes from the
// template) and queues it.
func (r *Runner) requeue(ctx context.Context, j store.Job, changes []ScriptChange, note string) error {
	j.State, j.Error = store.JobQueued, nil
	j.Attempts++
	if err := r.cfg.Store.SaveJob(ctx, j); err != nil {
		return err
	}
	r.emit(j, store.LogEntry{Kind: store.EventRetried, Step: j.Step, Text: fmt.Sprintf("Retry %d: resuming at %q%s", j.Attempts, stepLabel(j.Plan, r.nextStep(j)), note)})
	r.noteRefreshed(j, changes)
	if err := r.enqueue(j); err != nil {
		return r.interrupt(ctx, j, err.Error())
	}
	return nil
}

// Delete destroys the container of a failed or interrupted job on Proxmox
// and removes its record, only once it has checked that the guest with
// that VMID is the one this job created. A created container that is gone
// or replaced is refused (a *GuestGoneError); one whose create never
// finished and is not there counts as deleted.
func (r *Runner) Delete(ctx context.Context, userID, jobID string) error {
	j, err := r.cfg.Store.Job(ctx, userID, jobID)
	if err != nil {
		return err
	}
	if !j.State.Stopped() {
		return fmt.Errorf("provision: delete job's container: %w (it is %s)", ErrJobState, j.State)
	}
	// Without a create request sent, the VMID may belong to someone else's
	// container: never destroy what this job did not build.
	if j.IsDone(StepCreate) || j.CreateUPID != "" {
		present, err := r.ownGuest(ctx, j)
		if err != nil {
			return err
		}
		if present {
			if err := r.destroy(ctx, j); err != nil {
				return err
			}
		}
	}
	j.State = store.JobDeleted
	if err := r.finish(ctx, j, store.LogEntry{Kind: store.EventDeleted, Text: fmt.Sprintf("Container %d deleted", j.Plan.VMID)}); err != nil {
		return err
	}
	r.noteVMID(ctx, j, false)
	return nil
}

func (r *Runner) destroy(ctx context.Context, j store.Job) error {
	api, err := r.conn.Proxmox(ctx, j.UserID, j.Plan.NodeID)
	if err != nil {
		return err
	}
	upid, err := api.Delete(ctx, j.Plan.PVENode, j.Plan.VMID)
	if errors.Is(err, ErrGuestMissing) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("provision: delete container %d: %w", j.Plan.VMID, err)
	}
	if err := api.WaitTask(ctx, j.Plan.PVENode, upid, nil); err != nil && !errors.Is(err, ErrGuestMissing) {
		return fmt.Errorf("provision: delete container %d: %w", j.Plan.VMID, err)
	}
	return nil
}

func (r *Runner) enqueue(j store.Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.queued[j.ID] {
		return nil
	}
	select {
	case r.queue <- jobRef{userID: j.UserID, jobID: j.ID}:
		r.queued[j.ID] = true
		return nil
	default:
		return ErrQueueFull
	}
}

func (r *Runner) isQueued(jobID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queued[jobID]
}

func (r *Runner) release(jobID string) {
	r.mu.Lock()
	delete(r.queued, jobID)
	r.mu.Unlock()
}

// interrupt marks a job interrupted with a reason the user can read.
func (r *Runner) interrupt(ctx context.Context, j store.Job, reason string) error {
	j.State = store.JobInterrupted
	j.Error = &store.StepError{Step: j.Step, Message: reason}
	return r.finish(context.WithoutCancel(ctx), j, store.LogEntry{Kind: store.EventInterrupted, Step: j.Step, Script: scriptOf(j.Plan, j.Step), Text: reason})
}

func (r *Runner) emit(j store.Job, e store.LogEntry) { r.hub.add(j, e) }

// nextStep is the first step of the plan that has not completed.
func (r *Runner) nextStep(j store.Job) string {
	for _, s := range Steps(j.Plan) {
		if !j.IsDone(s.Key) {
			return s.Key
		}
	}
	return ""
}

func stepLabel(p store.Plan, key string) string {
	for _, s := range Steps(p) {
		if s.Key == key {
			return s.Label
		}
	}
	return key
}
