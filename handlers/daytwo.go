package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// Day two: what a container needs after it was created (settings, mount
// points, snapshots, backups, its services). Every action here is the
// signed-in user's on their own node only (containerTarget), posted with
// the CSRF token, audited, and one at a time per container (h.Locks).
// Long Proxmox tasks answer with their task page (daytwo_tasks.go), which
// streams the task's log while a goroutine keeps the container's lock until
// the task ends and records its outcome as an event.

func (h *Handler) registerDayTwoRoutes(g *echo.Group) {
	const ct = "/containers/:node/:vmid"
	g.GET(ct+"/settings", h.settingsShow)
	g.POST(ct+"/settings", h.settingsSubmit)
	g.GET(ct+"/snapshots", h.snapshotsShow)
	g.POST(ct+"/snapshots", h.snapshotCreate)
	g.GET(ct+"/snapshots/:name/:action", h.snapshotConfirm)
	g.POST(ct+"/snapshots/:name/rollback", h.snapshotRollback)
	g.POST(ct+"/snapshots/:name/delete", h.snapshotDelete)
	g.GET(ct+"/backups", h.backupsShow)
	g.POST(ct+"/backups", h.backupCreate)
	g.POST(ct+"/backups/restore", h.backupRestore)
	g.GET(ct+"/services/:service/:action", h.serviceActionConfirm)
	g.POST(ct+"/services/:service/:action", h.serviceAction)
	g.GET(ct+"/tasks/:upid", h.taskShow)
	g.GET(ct+"/tasks/:upid/events", h.taskEvents)
	g.POST("/jobs/:id/rollback-retry", h.jobRollbackRetry)
}

// Event types of day-two actions (the timeline spells them out).
const (
	eventSettings        = "settings_changed"
	eventResized         = "disk_resized"
	eventMountAdded      = "mount_added"
	eventMountRemoved    = "mount_removed"
	eventSnapshotTaken   = "snapshot_taken"
	eventSnapshotDeleted = "snapshot_deleted"
	eventRolledBack      = "rolled_back"
	eventBackedUp        = "backed_up"
	eventRestored        = "restored"
	eventServiceAction   = "service_action"
)

// errDayTwoUnsupported reports a Proxmox connection without the day-two
// calls (a test double).
var errDayTwoUnsupported = errors.New("this connection to Proxmox cannot do that")

// dayTwoAPI opens n's API as T, one of the small interfaces the day-two
// files declare; the factory's *proxmox.Client has them all.
func dayTwoAPI[T any](h *Handler, n store.Node) (T, error) {
	var zero T
	api, err := h.Proxmox(n)
	if err != nil {
		return zero, err
	}
	t, ok := any(api).(T)
	if !ok {
		return zero, errDayTwoUnsupported
	}
	return t, nil
}

// statusReader is what every day-two API has: the container's status.
type statusReader interface {
	LXCStatus(ctx context.Context, node string, vmid int) (*proxmox.ContainerStatus, error)
}

// dayTwoCT is the route's container: whose, where, its node's API as T
// and its status.
type dayTwoCT[T statusReader] struct {
	u    store.User
	n    store.Node
	vmid int
	node string // the node's name in Proxmox
	api  T
	st   *proxmox.ContainerStatus
}

// dayTwoTarget resolves the route's container on one of the user's nodes,
// opens the node's API as T and reads the container's status. Another
// account's ids, and a VMID the node does not hold, are the same 404.
func dayTwoTarget[T statusReader](ctx context.Context, h *Handler, c echo.Context) (dayTwoCT[T], error) {
	var t dayTwoCT[T]
	var err error
	if t.u, t.n, t.vmid, err = h.containerTarget(c); err != nil {
		return t, err
	}
	if t.api, err = dayTwoAPI[T](h, t.n); err != nil {
		return t, err
	}
	t.node = clusters.PVEName(t.n)
	if t.st, err = t.api.LXCStatus(ctx, t.node, t.vmid); err != nil {
		return t, missingCT(err, t.n, t.vmid)
	}
	return t, nil
}

// dayTwoRead bounds the reads a day-two page makes.
const dayTwoRead = 8 * time.Second

// missingCT turns Proxmox's "no such container" into the page's 404, the
// same for any VMID the node does not hold, and leaves other errors alone.
func missingCT(err error, n store.Node, vmid int) error {
	if errors.Is(err, proxmox.ErrNotFound) {
		return &userError{status: http.StatusNotFound, msg: fmt.Sprintf("There is no CT %d on %s.", vmid, n.Name), err: err}
	}
	return err
}

// lockAction takes the container's action lock, or explains which action
// holds it.
func (h *Handler) lockAction(n store.Node, vmid int, action string) (func(), error) {
	unlock, running, ok := h.Locks.TryLock(n.ID, vmid, action)
	if !ok {
		return nil, &userError{status: http.StatusConflict,
			msg: fmt.Sprintf("Another action (%s) is running on CT %d. Wait for it to finish.", running, vmid)}
	}
	return unlock, nil
}

// taskFollowWait is how long Corral keeps following a task it started (and
// keeps the container's action lock); Proxmox's own lock still holds the
// container afterwards if the task runs longer.
const taskFollowWait = 6 * time.Hour

// followTask waits for a task in the background, after the request that
// started it has answered, then releases the container's lock and records
// ev with the outcome (in that order: whoever sees the event may act on
// the container again). wait returns the task's error; ok names the
// action for the event's message, and a failure is recorded as an error.
func (h *Handler) followTask(ev store.Event, unlock func(), wait func(ctx context.Context) error, ok string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), taskFollowWait)
		defer cancel()
		err := wait(ctx)
		unlock()
		if err != nil {
			ev.Type, ev.Message = store.EventError, ok+" failed: "+actionErrorText(err)
			h.Logger.Info("day-two task failed", "node", ev.NodeID, "vmid", ev.VMID, "err", err)
		} else {
			ev.Message = ok + "."
		}
		h.recordEvent(ctx, ev)
	}()
}

// ctEvent is an event of the container, linked to Corral's record of it.
func (h *Handler) ctEvent(ctx context.Context, u store.User, n store.Node, vmid int, typ string) store.Event {
	rec, _, _ := h.corralRecord(ctx, u.ID, n.ID, vmid)
	return store.Event{UserID: u.ID, NodeID: n.ID, VMID: vmid, ContainerID: rec.ID, Type: typ}
}

// auditCT records a day-two action on a container.
func (h *Handler) auditCT(c echo.Context, u store.User, n store.Node, vmid int, kind, detail string) {
	h.audit(c, store.AuditEntry{Kind: kind, UserID: u.ID, Username: u.Username,
		Target: fmt.Sprintf("%s/%d", n.Name, vmid), Detail: detail})
}

// dayTwoTabs are the detail page's tabs this area fills.
var dayTwoTabs = map[string]bool{"settings": true, "snapshots": true, "backups": true}

// fillDayTwoTab fills the open day-two tab of the detail page; cfg is the
// configuration the page already read (empty when it could not).
func (h *Handler) fillDayTwoTab(c echo.Context, v *views.DetailView, n store.Node, vmid int, running bool, cfg proxmox.LXCConfig) {
	ctx := c.Request().Context()
	switch v.Tab {
	case "settings":
		v.Settings = h.settingsView(ctx, c, n, vmid, v.Header.Name, running, cfg)
	case "snapshots":
		v.Snapshots = h.snapshotsView(ctx, c, n, vmid, v.Header.Name, running)
	case "backups":
		v.Backups = h.backupsView(ctx, c, n, vmid, v.Header.Name, running, cfg)
	}
}
