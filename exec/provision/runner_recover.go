package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"corral/store"
)

// Recover finds the jobs a stopped Corral left queued or running and, for
// each, reads the container's real state from Proxmox: a job whose next
// step is safe to repeat (create waits for its saved task; features re-runs
// pct set, which writes the same flags again; start skips a running
// container) is queued again; one stopped in the middle of a
// script (which may have half-run), or whose container vanished, or whose
// node does not answer, is marked interrupted for the user to retry or
// delete. Call it once at start-up, before or after Run.
func (r *Runner) Recover(ctx context.Context) error {
	jobs, err := r.cfg.Store.ActiveJobs(ctx)
	if err != nil {
		return fmt.Errorf("provision: recover jobs: %w", err)
	}
	var errs []error
	for _, j := range jobs {
		if r.isQueued(j.ID) {
			continue // already in this process's hands
		}
		reason := r.recoverReason(ctx, j)
		if reason != "" {
			r.log.Info("job interrupted by restart", "job", j.ID, "step", j.Step, "reason", reason)
			errs = append(errs, r.interrupt(ctx, j, reason))
			continue
		}
		if j.State == store.JobRunning {
			j.State = store.JobQueued
			if err := r.cfg.Store.SaveJob(ctx, j); err != nil {
				errs = append(errs, err)
				continue
			}
			r.emit(j, store.LogEntry{Kind: store.EntryLog, Step: j.Step, Text: fmt.Sprintf("Corral restarted; resuming at %q", stepLabel(j.Plan, r.nextStep(j)))})
		}
		r.log.Info("job resumed after restart", "job", j.ID, "step", r.nextStep(j))
		if err := r.enqueue(j); err != nil {
			errs = append(errs, r.interrupt(ctx, j, err.Error()))
		}
	}
	return errors.Join(errs...)
}

// recoverReason says why job j cannot simply resume, or "" if it can.
func (r *Runner) recoverReason(ctx context.Context, j store.Job) string {
	if j.State == store.JobQueued {
		return ""
	}
	next := r.nextStep(j)
	if strings.HasPrefix(next, "script:") && j.Step == next {
		return fmt.Sprintf("Corral stopped while %q was running; it may have run only partly. Retry runs it again from the start.", scriptOf(j.Plan, next))
	}
	api, err := r.conn.Proxmox(ctx, j.UserID, j.Plan.NodeID)
	if err != nil {
		return "Corral restarted and could not reach the node: " + err.Error()
	}
	_, err = api.Status(ctx, j.Plan.PVENode, j.Plan.VMID)
	missing := errors.Is(err, ErrGuestMissing)
	switch {
	case err != nil && !missing:
		return "Corral restarted and could not read the container's state from Proxmox: " + err.Error()
	case missing && (j.IsDone(StepCreate)):
		return fmt.Sprintf("Corral restarted and container %d no longer exists on Proxmox.", j.Plan.VMID)
	case !missing && !j.IsDone(StepCreate) && j.CreateUPID == "":
		// The create request may have been sent just before the stop, or
		// the VMID belongs to another container: let the user decide.
		return fmt.Sprintf("Corral restarted while creating container %d and cannot tell whether it built the container that now has this VMID.", j.Plan.VMID)
	}
	return ""
}
