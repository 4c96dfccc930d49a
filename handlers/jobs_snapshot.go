package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"

	"corral/exec/provision"
	"corral/store"
	"corral/views"
)

// SnapshotRetrier retries a stopped creation job from the clean snapshot
// its plan took; *provision.Runner is one.
type SnapshotRetrier interface {
	// CleanSnapshotReady reports whether the stopped job took its clean
	// snapshot and the container still has it.
	CleanSnapshotReady(ctx context.Context, userID, jobID string) (bool, error)
	// RetryFromSnapshot rolls the container back to it and queues the job
	// again from there (provision.ErrNoCleanSnapshot without one).
	RetryFromSnapshot(ctx context.Context, userID, jobID string) error
}

// fillCleanSnapshot offers "Roll back to the clean snapshot and retry" on
// a stopped job's page when there is a snapshot to go back to. A node that
// does not answer only costs the offer.
func (h *Handler) fillCleanSnapshot(ctx context.Context, j store.Job, v *views.JobView) {
	r, ok := h.Provisioner.(SnapshotRetrier)
	if !ok || v.Gone != "" || !j.State.Stopped() || !j.Plan.CleanSnapshot {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, guestCheckWait)
	defer cancel()
	ready, err := r.CleanSnapshotReady(ctx, j.UserID, j.ID)
	if err != nil {
		h.Logger.Debug("clean snapshot not checked", "job", j.ID, "err", err)
	}
	v.CleanSnapshot = ready
}

// jobRollbackRetry is POST /jobs/{id}/rollback-retry: the container goes
// back to its clean snapshot, and the job runs again from there.
func (h *Handler) jobRollbackRetry(c echo.Context) error {
	u, j, n, err := h.userJob(c)
	if err != nil {
		return err
	}
	r, ok := h.Provisioner.(SnapshotRetrier)
	if !ok {
		return store.ErrNotFound
	}
	err = r.RetryFromSnapshot(c.Request().Context(), u.ID, j.ID)
	if errors.Is(err, provision.ErrNoCleanSnapshot) {
		setFlash(c, "warn", fmt.Sprintf("CT %d has no clean snapshot %s to roll back to (any more). Retry from the failed step instead.", j.Plan.VMID, provision.CleanSnapshotName))
		return seeOther(c, "/jobs/"+j.ID)
	}
	if err != nil {
		return h.refusal(c, j, n, err)
	}
	h.audit(c, store.AuditEntry{Kind: "container.snapshot.rollback", UserID: u.ID, Username: u.Username,
		Target: fmt.Sprintf("%s/%d", n.Name, j.Plan.VMID), Detail: provision.CleanSnapshotName + ", to retry its creation"})
	setFlash(c, "info", "Rolling back to the clean snapshot, then running files, packages and scripts again.")
	return seeOther(c, "/jobs/"+j.ID)
}
