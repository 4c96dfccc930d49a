package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"corral/store"
)

// A plan with CleanSnapshot takes a snapshot of the container once it is
// up and before files, packages and scripts touch it. When provisioning
// then fails, RetryFromSnapshot rolls the container back to that clean
// state and runs the rest again, so a half-run script leaves nothing
// behind. The snapshot stays after the job; the user may delete it.

// CleanSnapshotName is the name of the clean snapshot.
const CleanSnapshotName = "corral-clean"

// SnapshotOps are the Proxmox calls of the clean snapshot. The ProxmoxOps a
// connector returns may have them; without them the step is skipped.
type SnapshotOps interface {
	// HasSnapshot reports whether the container has a snapshot called name.
	HasSnapshot(ctx context.Context, node string, vmid int, name string) (bool, error)
	CreateSnapshot(ctx context.Context, node string, vmid int, name, description string) (string, error)
	// RollbackSnapshot returns the container to the snapshot (Proxmox
	// stops it first) and has Proxmox start it again afterwards, in a
	// task of its own.
	RollbackSnapshot(ctx context.Context, node string, vmid int, name string) (string, error)
}

// ErrNoCleanSnapshot reports a job that has no clean snapshot to go back to.
var ErrNoCleanSnapshot = errors.New("the job has no clean snapshot to roll back to")

// cleanSnapshot takes the clean snapshot, or, when it exists already (a
// retry after RetryFromSnapshot forgot this step), rolls back to it. A
// snapshot that cannot be taken (storage without snapshots, say) does not
// fail the creation: the log says so and no rollback will be offered.
func (p *pipeline) cleanSnapshot(ctx context.Context, st Step) error {
	api, err := p.proxmox(ctx)
	if err != nil {
		return &store.StepError{Step: st.Key, Message: "could not reach Proxmox: " + err.Error()}
	}
	plan := p.job.Plan
	ops, ok := api.(SnapshotOps)
	if !ok {
		p.emit(st, store.EntryLog, "This connection to Proxmox cannot take snapshots; going on without one")
		return nil
	}
	has, err := retryDropped(ctx, func() (bool, error) {
		return ops.HasSnapshot(ctx, plan.PVENode, plan.VMID, CleanSnapshotName)
	})
	if err != nil {
		return &store.StepError{Step: st.Key, Message: "could not list the container's snapshots: " + err.Error()}
	}
	if has {
		return p.rollBack(ctx, st, api, ops)
	}
	upid, err := ops.CreateSnapshot(ctx, plan.PVENode, plan.VMID, CleanSnapshotName,
		"The clean system before files, packages and scripts (Corral job "+p.job.ID+")")
	if err == nil {
		err = api.WaitTask(ctx, plan.PVENode, upid, func(line string) { p.emit(st, store.EntryLog, line) })
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		p.emit(st, store.EntryLog, fmt.Sprintf("Could not take the snapshot (%v); going on without it, so a failure cannot be rolled back", err))
		return nil
	}
	p.emit(st, store.EntryLog, "Snapshot "+CleanSnapshotName+" taken")
	return nil
}

// rollBack returns the container to the clean snapshot and waits until it
// runs and its file system answers again.
func (p *pipeline) rollBack(ctx context.Context, st Step, api ProxmoxOps, ops SnapshotOps) error {
	plan := p.job.Plan
	p.emit(st, store.EntryLog, "Rolling back to the snapshot "+CleanSnapshotName+"; Proxmox stops the container and starts it again")
	upid, err := ops.RollbackSnapshot(ctx, plan.PVENode, plan.VMID, CleanSnapshotName)
	if err != nil {
		return &store.StepError{Step: st.Key, Message: "Proxmox refused to roll back: " + err.Error()}
	}
	if err := p.waitTask(ctx, st, api, upid); err != nil {
		return err
	}
	for i := range p.r.cfg.WaitAttempts {
		if err := p.pause(ctx, i); err != nil {
			return err
		}
		status, err := retryDropped(ctx, func() (string, error) { return api.Status(ctx, plan.PVENode, plan.VMID) })
		if err == nil && status == "running" {
			p.emit(st, store.EntryLog, "Rolled back; the container runs again")
			return p.waitReady(ctx, st)
		}
	}
	return &store.StepError{Step: st.Key, Message: fmt.Sprintf("the container did not run again after the rollback (%d checks)", p.r.cfg.WaitAttempts)}
}

// CleanSnapshotReady reports whether the user's stopped job can be rolled
// back to its clean snapshot: it took one, and the container still has it.
func (r *Runner) CleanSnapshotReady(ctx context.Context, userID, jobID string) (bool, error) {
	j, err := r.stoppedJob(ctx, userID, jobID)
	if err != nil {
		return false, err
	}
	return r.hasCleanSnapshot(ctx, j)
}

func (r *Runner) hasCleanSnapshot(ctx context.Context, j store.Job) (bool, error) {
	if !j.Plan.CleanSnapshot || !j.IsDone(StepSnapshot) {
		return false, nil
	}
	api, err := r.conn.Proxmox(ctx, j.UserID, j.Plan.NodeID)
	if err != nil {
		return false, err
	}
	ops, ok := api.(SnapshotOps)
	if !ok {
		return false, nil
	}
	return retryDropped(ctx, func() (bool, error) {
		return ops.HasSnapshot(ctx, j.Plan.PVENode, j.Plan.VMID, CleanSnapshotName)
	})
}

// RetryFromSnapshot queues a failed or interrupted job again from its clean
// snapshot: the snapshot step rolls the container back, and every step
// after it runs again, with the plan as it was reviewed.
func (r *Runner) RetryFromSnapshot(ctx context.Context, userID, jobID string) error {
	j, err := r.stoppedJob(ctx, userID, jobID)
	if err != nil {
		return err
	}
	if err := r.stillOwned(ctx, j); err != nil {
		return err
	}
	ok, err := r.hasCleanSnapshot(ctx, j)
	if err != nil {
		return fmt.Errorf("provision: retry from snapshot: %w", err)
	}
	if !ok {
		return ErrNoCleanSnapshot
	}
	var keep []string
	for _, s := range Steps(j.Plan) {
		if s.Key == StepSnapshot {
			break
		}
		if slices.Contains(j.Done, s.Key) {
			keep = append(keep, s.Key)
		}
	}
	j.Done = keep
	return r.requeue(ctx, j, nil, ", rolling back to the snapshot "+CleanSnapshotName+" first")
}
