package provision

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"corral/store"
)

// A VMID is only a number: once a job's container is deleted, the next
// container may get the same one. Before a stopped job touches its
// container again (Retry, Delete), the runner checks that the guest with
// that VMID on the job's node is still the one the job created. Corral
// writes a line naming the job into every new container's description (its
// Notes in the Proxmox UI); a guest without that line counts as the job's
// only when its hostname is still the plan's.

// GuestInfo is what Proxmox says about a container that tells whose it is.
type GuestInfo struct {
	Hostname    string
	Description string
	Lock        string // "create" while its create task runs
}

// CreatedNote is the description a job gives the container it creates.
func CreatedNote(jobID string) string { return "Created by Corral (job " + jobID + ")" }

var createdNoteRE = regexp.MustCompile(`Created by Corral \(job ([A-Za-z0-9_-]+)\)`)

// ErrGuestGone matches a GuestGoneError.
var ErrGuestGone = errors.New("the job's container no longer exists")

// ErrGuestBusy reports a container whose create task still runs, so whose
// it is cannot be told yet.
var ErrGuestBusy = errors.New("the container is still being created")

// GuestGoneError reports that a stopped job's container is no longer on its
// node: deleted, or its VMID now holds another container (Now names it).
type GuestGoneError struct {
	VMID int
	Node string // the Proxmox node name
	Now  string // hostname of the guest that has the VMID now; "" when none
}

func (e *GuestGoneError) Error() string {
	if e.Now != "" {
		return fmt.Sprintf("CT %d on %s is now another container (%s), not the one this job created", e.VMID, e.Node, e.Now)
	}
	return fmt.Sprintf("CT %d no longer exists on %s", e.VMID, e.Node)
}

func (e *GuestGoneError) Is(target error) bool { return target == ErrGuestGone }

// createdBy reports whether guest g is the container job j created.
func createdBy(j store.Job, g GuestInfo) bool {
	if m := createdNoteRE.FindStringSubmatch(g.Description); m != nil {
		return m[1] == j.ID
	}
	return g.Hostname == j.Plan.Hostname
}

// CheckGuest tells whether the user's stopped job still has its container:
// nil when it does, or when the job has not created one yet (a retry then
// creates it); a *GuestGoneError when it is gone or replaced. Other errors
// mean Proxmox could not say.
func (r *Runner) CheckGuest(ctx context.Context, userID, jobID string) error {
	j, err := r.cfg.Store.Job(ctx, userID, jobID)
	if err != nil {
		return err
	}
	if !j.State.Stopped() || !j.IsDone(StepCreate) {
		return nil
	}
	_, err = r.ownGuest(ctx, j)
	return err
}

// ownGuest checks that the guest with j's VMID on j's node is the one j
// created. present is false (and err nil) when there is no such guest and j
// never completed its create step; a created container that is gone is a
// *GuestGoneError.
func (r *Runner) ownGuest(ctx context.Context, j store.Job) (present bool, err error) {
	api, err := r.conn.Proxmox(ctx, j.UserID, j.Plan.NodeID)
	if err != nil {
		return false, err
	}
	g, err := retryDropped(ctx, func() (GuestInfo, error) { return api.Guest(ctx, j.Plan.PVENode, j.Plan.VMID) })
	switch {
	case errors.Is(err, ErrGuestMissing) && !j.IsDone(StepCreate):
		return false, nil
	case errors.Is(err, ErrGuestMissing):
		return false, &GuestGoneError{VMID: j.Plan.VMID, Node: j.Plan.PVENode}
	case err != nil:
		return false, fmt.Errorf("provision: read container %d: %w", j.Plan.VMID, err)
	case g.Lock == "create":
		return true, fmt.Errorf("provision: container %d: %w", j.Plan.VMID, ErrGuestBusy)
	case !createdBy(j, g):
		return true, &GuestGoneError{VMID: j.Plan.VMID, Node: j.Plan.PVENode, Now: g.Hostname}
	}
	return true, nil
}
