package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"corral/store"
)

// execute runs one queued job to its end, or until ctx ends (then it is
// left "running" for Recover, as a crash would leave it).
func (r *Runner) execute(ctx context.Context, ref jobRef) {
	defer r.release(ref.jobID)
	j, err := r.cfg.Store.Job(ctx, ref.userID, ref.jobID)
	if err != nil {
		r.log.Error("queued job not loaded", "job", ref.jobID, "err", err)
		return
	}
	if j.State != store.JobQueued {
		return // deleted or already handled
	}
	j.State = store.JobRunning
	if err := r.cfg.Store.SaveJob(ctx, j); err != nil {
		r.log.Error("job not started", "job", j.ID, "err", err)
		return
	}
	p := &pipeline{r: r, job: &j}
	defer p.close()
	err = p.run(ctx)
	if ctx.Err() != nil {
		// Shutting down: keep the state as it is on disk.
		r.hub.forget(j.ID)
		r.log.Info("job left for recovery", "job", j.ID, "step", j.Step)
		return
	}
	var final store.LogEntry
	if err != nil {
		se := asStepError(err, j.Step)
		j.State, j.Error = store.JobFailed, se
		final = store.LogEntry{Kind: store.EventError, Step: se.Step, Script: scriptOf(j.Plan, se.Step), Text: se.Error()}
		r.log.Warn("job failed", "job", j.ID, "step", se.Step, "err", se.Error())
	} else {
		j.State = store.JobDone
		final = store.LogEntry{Kind: store.EventReady, Text: fmt.Sprintf("Container %d (%s) is ready", j.Plan.VMID, j.Plan.Hostname)}
	}
	r.finish(context.WithoutCancel(ctx), j, final)
}

// finish saves a job's final state, then logs the entry that announces it:
// whoever sees the entry finds the state already saved.
func (r *Runner) finish(ctx context.Context, j store.Job, final store.LogEntry) error {
	err := r.cfg.Store.SaveJob(ctx, j)
	if err != nil {
		r.log.Error("job result not saved", "job", j.ID, "err", err)
	}
	r.emit(j, final)
	r.hub.forget(j.ID)
	return err
}

// asStepError keeps a step's own error, or wraps any other one.
func asStepError(err error, step string) *store.StepError {
	var se *store.StepError
	if errors.As(err, &se) {
		if se.Step == "" {
			se.Step = step
		}
		return se
	}
	return &store.StepError{Step: step, Message: err.Error()}
}

// scriptOf is the script name of a script step key, or "".
func scriptOf(p store.Plan, key string) string {
	if !strings.HasPrefix(key, "script:") {
		return ""
	}
	for _, s := range Steps(p) {
		if s.Key == key {
			return s.Script
		}
	}
	return ""
}
