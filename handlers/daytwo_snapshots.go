package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// snapshotsAPI is what the Snapshots tab uses of a node.
type snapshotsAPI interface {
	LXCStatus(ctx context.Context, node string, vmid int) (*proxmox.ContainerStatus, error)
	Snapshots(ctx context.Context, node string, vmid int) ([]proxmox.Snapshot, error)
	CreateSnapshot(ctx context.Context, node string, vmid int, name, description string) (string, error)
	DeleteSnapshot(ctx context.Context, node string, vmid int, name string, force bool) (string, error)
	RollbackSnapshot(ctx context.Context, node string, vmid int, name string, start bool) (string, error)
	WaitTask(ctx context.Context, node, upid string, onLog func(line string)) error
	WaitLXCStatus(ctx context.Context, node string, vmid int, want string) error
}

// snapshotStartWait bounds waiting for the start Proxmox runs after a
// rollback of a running container.
const snapshotStartWait = 2 * time.Minute

// snapshotsShow is GET …/snapshots: the detail page on its Snapshots tab.
func (h *Handler) snapshotsShow(c echo.Context) error { return h.dayTwoTab(c, "snapshots") }

// dayTwoTab renders the detail page open on one of the day-two tabs.
func (h *Handler) dayTwoTab(c echo.Context, tab string) error {
	u, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return err
	}
	v, err := h.detailView(c, u, n, vmid, tab)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, h.page(c, v.Header.Name, "containers"), views.DetailPage(v))
}

// snapshotsView reads the container's snapshots for its tab.
func (h *Handler) snapshotsView(ctx context.Context, c echo.Context, n store.Node, vmid int, name string, running bool) views.SnapshotsView {
	v := views.SnapshotsView{CSRF: csrfToken(c), NodeID: n.ID, VMID: vmid, Name: name, Running: running}
	api, err := dayTwoAPI[snapshotsAPI](h, n)
	if err != nil {
		v.Problem = "The snapshots could not be read: " + proxmox.Describe(err)
		return v
	}
	ctx, cancel := context.WithTimeout(ctx, dayTwoRead)
	defer cancel()
	list, err := api.Snapshots(ctx, clusters.PVEName(n), vmid)
	if err != nil {
		v.Problem = "The snapshots could not be read: " + proxmox.Describe(err)
		return v
	}
	for _, s := range proxmox.SnapshotTree(list) {
		it := views.SnapshotItem{Name: s.Name, Description: strings.TrimSpace(s.Description), Depth: s.Depth,
			Current: s.IsCurrent(), State: s.SnapState}
		if s.SnapTime > 0 {
			it.Time = time.Unix(int64(s.SnapTime), 0).Local().Format("2006-01-02 15:04")
		}
		v.Items = append(v.Items, it)
	}
	return v
}

// snapshotCreate takes a snapshot and answers with its task page.
func (h *Handler) snapshotCreate(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), dayTwoRead)
	defer cancel()
	t, err := dayTwoTarget[snapshotsAPI](ctx, h, c)
	if err != nil {
		return err
	}
	u, n, vmid, node, api := t.u, t.n, t.vmid, t.node, t.api
	list, err := api.Snapshots(ctx, node, vmid)
	if err != nil {
		return missingCT(err, n, vmid)
	}
	name := strings.TrimSpace(c.FormValue("snap_name"))
	desc := strings.TrimSpace(c.FormValue("snap_description"))
	errs := map[string]string{}
	switch {
	case proxmox.ValidSnapshotName(name) != nil:
		errs["snap_name"] = "A name starts with a letter and has 2 to 40 letters, digits, - or _; current and vzdump are taken by Proxmox."
	case slices.ContainsFunc(list, func(s proxmox.Snapshot) bool { return s.Name == name }):
		errs["snap_name"] = "This container has a snapshot with that name already."
	}
	if len(desc) > 1024 {
		errs["snap_description"] = "At most 1024 characters."
	}
	if len(errs) > 0 {
		return h.snapshotFormAgain(c, u, n, vmid, name, desc, errs)
	}
	unlock, err := h.lockAction(n, vmid, "snapshot")
	if err != nil {
		return err
	}
	upid, err := api.CreateSnapshot(ctx, node, vmid, name, desc)
	if err != nil {
		unlock()
		return err
	}
	h.auditCT(c, u, n, vmid, "container.snapshot.create", name)
	h.followTask(h.ctEvent(ctx, u, n, vmid, eventSnapshotTaken), unlock, func(ctx context.Context) error {
		return api.WaitTask(ctx, node, upid, nil)
	}, "Snapshot "+name)
	return toTask(c, n, vmid, upid)
}

// snapshotFormAgain shows the Snapshots tab with the form as typed and what
// is wrong with it.
func (h *Handler) snapshotFormAgain(c echo.Context, u store.User, n store.Node, vmid int, name, desc string, errs map[string]string) error {
	v, err := h.detailView(c, u, n, vmid, "snapshots")
	if err != nil {
		return err
	}
	v.Snapshots.NewName, v.Snapshots.NewDescription, v.Snapshots.Errors = name, desc, errs
	return h.render(c, http.StatusUnprocessableEntity, h.page(c, v.Header.Name, "containers"), views.DetailPage(v))
}

// snapshotTarget finds the route's snapshot on the user's container.
// A name the container does not have is not found, in the same words as
// a container that is not there.
func (h *Handler) snapshotTarget(c echo.Context) (store.User, store.Node, int, string, snapshotsAPI, *proxmox.ContainerStatus, error) {
	ctx, cancel := context.WithTimeout(c.Request().Context(), dayTwoRead)
	defer cancel()
	t, err := dayTwoTarget[snapshotsAPI](ctx, h, c)
	if err != nil {
		return t.u, t.n, 0, "", nil, nil, err
	}
	u, n, vmid, api, st := t.u, t.n, t.vmid, t.api, t.st
	name, _ := url.PathUnescape(c.Param("name"))
	list, err := api.Snapshots(ctx, t.node, vmid)
	if err != nil {
		return u, n, 0, "", nil, nil, err
	}
	if name == "current" || !slices.ContainsFunc(list, func(s proxmox.Snapshot) bool { return s.Name == name }) {
		return u, n, 0, "", nil, nil, &userError{status: http.StatusNotFound, msg: "This container has no such snapshot."}
	}
	return u, n, vmid, name, api, st, nil
}

// snapshotConfirm is GET …/snapshots/{name}/{rollback,delete}: the question
// the page's dialog asks, as a page of its own for browsers without
// JavaScript.
func (h *Handler) snapshotConfirm(c echo.Context) error {
	action := c.Param("action")
	if action != "rollback" && action != "delete" {
		return store.ErrNotFound
	}
	u, n, vmid, name, _, st, err := h.snapshotTarget(c)
	if err != nil {
		return err
	}
	rec, _, _ := h.corralRecord(c.Request().Context(), u.ID, n.ID, vmid)
	ct := containerName(st.Name, "", rec.Hostname, vmid)
	conf, _ := views.SnapshotConfirmation(action, name, ct, vmid, st.Status == "running")
	v := views.ConfirmView{Confirmation: conf, CSRF: csrfToken(c), Action: views.SnapshotActionURL(n.ID, vmid, name, action),
		Cancel: views.DetailURL(n.ID, vmid) + "/snapshots"}
	return h.render(c, http.StatusOK, h.page(c, conf.Title, "containers"), views.ConfirmPage(v))
}

// snapshotRollback returns the container to a snapshot. Proxmox stops a
// running container first; it is started again afterwards, as it was.
func (h *Handler) snapshotRollback(c echo.Context) error {
	u, n, vmid, name, api, st, err := h.snapshotTarget(c)
	if err != nil {
		return err
	}
	unlock, err := h.lockAction(n, vmid, "rollback")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	node, start := clusters.PVEName(n), st.Status == "running"
	upid, err := api.RollbackSnapshot(ctx, node, vmid, name, start)
	if err != nil {
		unlock()
		return err
	}
	h.auditCT(c, u, n, vmid, "container.snapshot.rollback", name)
	h.followTask(h.ctEvent(ctx, u, n, vmid, eventRolledBack), unlock, func(ctx context.Context) error {
		if err := api.WaitTask(ctx, node, upid, nil); err != nil || !start {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, snapshotStartWait)
		defer cancel()
		return api.WaitLXCStatus(sctx, node, vmid, "running")
	}, "Rollback to "+name)
	return toTask(c, n, vmid, upid)
}

// snapshotDelete deletes a snapshot.
func (h *Handler) snapshotDelete(c echo.Context) error {
	u, n, vmid, name, api, _, err := h.snapshotTarget(c)
	if err != nil {
		return err
	}
	unlock, err := h.lockAction(n, vmid, "snapshot deletion")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	node := clusters.PVEName(n)
	upid, err := api.DeleteSnapshot(ctx, node, vmid, name, false)
	if err != nil {
		unlock()
		return err
	}
	h.auditCT(c, u, n, vmid, "container.snapshot.delete", name)
	h.followTask(h.ctEvent(ctx, u, n, vmid, eventSnapshotDeleted), unlock, func(ctx context.Context) error {
		return api.WaitTask(ctx, node, upid, nil)
	}, "Deletion of the snapshot "+name)
	return toTask(c, n, vmid, upid)
}
