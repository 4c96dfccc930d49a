package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// backupsAPI is what the Backups tab uses of a node.
type backupsAPI interface {
	LXCStatus(ctx context.Context, node string, vmid int) (*proxmox.ContainerStatus, error)
	LXCConfig(ctx context.Context, node string, vmid int) (proxmox.LXCConfig, error)
	Storages(ctx context.Context, node, content string) ([]proxmox.Storage, error)
	Backup(ctx context.Context, node string, p proxmox.BackupParams) (string, error)
	Backups(ctx context.Context, node, storage string, vmid int) ([]proxmox.Volume, error)
	RestoreLXC(ctx context.Context, node string, p proxmox.RestoreParams) (string, error)
	Stop(ctx context.Context, node string, vmid int) (string, error)
	WaitTask(ctx context.Context, node, upid string, onLog func(line string)) error
	WaitLXCStatus(ctx context.Context, node string, vmid int, want string) error
}

// backupStopWait bounds stopping a container before a restore over it.
const backupStopWait = 90 * time.Second

// backupsShow is GET …/backups[?storage=]: the detail page on its Backups tab.
func (h *Handler) backupsShow(c echo.Context) error { return h.dayTwoTab(c, "backups") }

// backupsView reads the backup storages, the container's backups on the
// chosen one, and the storages a restore may use.
func (h *Handler) backupsView(ctx context.Context, c echo.Context, n store.Node, vmid int, name string, running bool, cfg proxmox.LXCConfig) views.BackupsView {
	v := views.BackupsView{CSRF: csrfToken(c), NodeID: n.ID, VMID: vmid, Name: name, Running: running,
		Mode: string(proxmox.BackupSnapshot), Start: true, Storage: c.QueryParam("storage")}
	api, err := dayTwoAPI[backupsAPI](h, n)
	if err != nil {
		v.Problem = "The backups could not be read: " + proxmox.Describe(err)
		return v
	}
	ctx, cancel := context.WithTimeout(ctx, dayTwoRead)
	defer cancel()
	node := clusters.PVEName(n)
	stores, err := api.Storages(ctx, node, "backup")
	if err != nil {
		v.Problem = "The storages of " + n.Name + " could not be read: " + proxmox.Describe(err)
		return v
	}
	for _, s := range stores {
		v.Storages = append(v.Storages, views.Option{Value: s.Storage, Label: storageLabel(s)})
	}
	if len(v.Storages) == 0 {
		v.Problem = "No storage of " + n.Name + " holds backups. In Proxmox, allow the content \"VZDump backup file\" on one (Datacenter → Storage)."
		return v
	}
	if !slices.ContainsFunc(v.Storages, func(o views.Option) bool { return o.Value == v.Storage }) {
		v.Storage = v.Storages[0].Value
	}
	list, err := api.Backups(ctx, node, v.Storage, vmid)
	if err != nil {
		v.Problem = "The backups on " + v.Storage + " could not be read: " + proxmox.Describe(err)
		return v
	}
	slices.SortFunc(list, func(a, b proxmox.Volume) int { return cmp.Compare(b.CTime, a.CTime) }) // newest first
	for _, b := range list {
		v.Items = append(v.Items, views.BackupItem{VolID: b.VolID, Time: b.Time().Local().Format("2006-01-02 15:04"),
			Size: bytesText(int64(b.Size)), Notes: b.Notes, Protected: bool(b.Protected)})
	}
	if len(v.Items) > 0 {
		v.Archive = v.Items[0].VolID
	}
	if disks, err := api.Storages(ctx, node, "rootdir"); err == nil {
		for _, s := range disks {
			v.RestoreStorages = append(v.RestoreStorages, views.Option{Value: s.Storage, Label: storageLabel(s)})
		}
	}
	v.RestoreStorage = cfg.RootFS().Storage()
	return v
}

// storageLabel is a storage with its type and free space.
func storageLabel(s proxmox.Storage) string {
	l := s.Storage + " (" + s.Type + ")"
	if s.Total > 0 {
		l += " · " + bytesText(int64(s.Avail)) + " free"
	}
	return l
}

// backupCreate starts a backup (vzdump, zstd) and answers with its task page.
func (h *Handler) backupCreate(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), dayTwoRead)
	defer cancel()
	t, err := dayTwoTarget[backupsAPI](ctx, h, c)
	if err != nil {
		return err
	}
	u, n, vmid, node, api := t.u, t.n, t.vmid, t.node, t.api
	storage, mode := c.FormValue("storage"), proxmox.BackupMode(c.FormValue("mode"))
	errs := map[string]string{}
	stores, err := api.Storages(ctx, node, "backup")
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(stores, func(s proxmox.Storage) bool { return s.Storage == storage }) {
		errs["storage"] = "Choose a storage of " + n.Name + " that holds backups."
	}
	if mode != proxmox.BackupSnapshot && mode != proxmox.BackupSuspend && mode != proxmox.BackupStop {
		errs["mode"] = "Choose snapshot, suspend or stop."
	}
	if len(errs) > 0 {
		return h.backupFormAgain(c, u, n, vmid, errs, nil)
	}
	unlock, err := h.lockAction(n, vmid, "backup")
	if err != nil {
		return err
	}
	upid, err := api.Backup(ctx, node, proxmox.BackupParams{VMID: vmid, Storage: storage, Mode: mode, Compress: "zstd", NotesTemplate: "{{guestname}}"})
	if err != nil {
		unlock()
		return h.backupRefused(c, u, n, vmid, "No backup was started.", err, nil)
	}
	h.auditCT(c, u, n, vmid, "container.backup", fmt.Sprintf("to %s, mode %s", storage, mode))
	h.followTask(h.ctEvent(ctx, u, n, vmid, eventBackedUp), unlock, func(ctx context.Context) error {
		return api.WaitTask(ctx, node, upid, nil)
	}, "Backup to "+storage)
	return toTask(c, n, vmid, upid)
}

// backupFormAgain shows the Backups tab with what is wrong; keep adjusts
// the view to what was typed.
func (h *Handler) backupFormAgain(c echo.Context, u store.User, n store.Node, vmid int, errs map[string]string, keep func(*views.BackupsView), status ...int) error {
	v, err := h.detailView(c, u, n, vmid, "backups")
	if err != nil {
		return err
	}
	v.Backups.Errors = errs
	if keep != nil {
		keep(&v.Backups)
	}
	code := http.StatusUnprocessableEntity
	if len(status) > 0 {
		code = status[0]
	}
	return h.render(c, code, h.page(c, v.Header.Name, "containers"), views.DetailPage(v))
}

// backupRefused shows the Backups tab with what Proxmox refused, in plain
// words (a lock named), above the forms.
func (h *Handler) backupRefused(c echo.Context, u store.User, n store.Node, vmid int, what string, err error, keep func(*views.BackupsView)) error {
	status, msg := classify(err)
	if errors.Is(err, proxmox.ErrLocked) {
		status = http.StatusConflict
	}
	h.Logger.Info("backup action refused", "node", n.Name, "vmid", vmid, "err", err)
	return h.backupFormAgain(c, u, n, vmid, nil, func(v *views.BackupsView) {
		if keep != nil {
			keep(v)
		}
		v.Problem = what + " " + msg
	}, status)
}

// backupRestore restores one of the container's backups: to a new VMID
// (target=new), or over the container itself (target=over) once its VMID
// was typed, stopping it first.
func (h *Handler) backupRestore(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), dayTwoRead)
	defer cancel()
	t, err := dayTwoTarget[backupsAPI](ctx, h, c)
	if err != nil {
		return err
	}
	u, n, vmid, node, api, st := t.u, t.n, t.vmid, t.node, t.api, t.st
	// The archive must be one of this container's backups on one of the
	// node's backup storages: nothing else is restored.
	archive := strings.TrimSpace(c.FormValue("archive"))
	sid, _, _ := strings.Cut(archive, ":")
	errs := map[string]string{}
	known := false
	if stores, err := api.Storages(ctx, node, "backup"); err == nil && slices.ContainsFunc(stores, func(s proxmox.Storage) bool { return s.Storage == sid }) {
		if list, err := api.Backups(ctx, node, sid, vmid); err == nil {
			known = slices.ContainsFunc(list, func(v proxmox.Volume) bool { return v.VolID == archive })
		}
	}
	if !known {
		errs["archive"] = "Choose one of this container's backups."
	}
	keep := func(v *views.BackupsView) { v.Archive = archive }
	switch c.FormValue("target") {
	case "new":
		return h.restoreNew(c, u, n, vmid, api, archive, errs, keep)
	case "over":
		if strings.TrimSpace(c.FormValue("confirm_vmid")) != strconv.Itoa(vmid) {
			errs["confirm_vmid"] = fmt.Sprintf("Type %d to confirm that CT %d is replaced.", vmid, vmid)
		}
		if len(errs) > 0 {
			return h.backupFormAgain(c, u, n, vmid, errs, keep)
		}
		return h.restoreOver(c, u, n, vmid, api, archive, st.Status == "running")
	}
	return &userError{status: http.StatusBadRequest, msg: "Restore to a new container or over this one."}
}

// restoreNew restores the archive as a new container next to the original.
func (h *Handler) restoreNew(c echo.Context, u store.User, n store.Node, vmid int, api backupsAPI, archive string, errs map[string]string, keep func(*views.BackupsView)) error {
	ctx := c.Request().Context()
	node := clusters.PVEName(n)
	newID, status, err := h.vmidVerdict(ctx, n, c.FormValue("vmid"))
	if err != nil {
		return err
	}
	if status.State == views.VMIDInvalid || status.State == views.VMIDTaken {
		errs["vmid"] = status.Message + "."
	}
	storage := c.FormValue("restore_storage")
	if disks, err := api.Storages(ctx, node, "rootdir"); err != nil || !slices.ContainsFunc(disks, func(s proxmox.Storage) bool { return s.Storage == storage }) {
		errs["restore_storage"] = "Choose a storage of " + n.Name + " that holds container disks."
	}
	start := c.FormValue("start") != ""
	if len(errs) > 0 {
		return h.backupFormAgain(c, u, n, vmid, errs, func(v *views.BackupsView) {
			keep(v)
			v.NewVMID = views.VMIDInputModel{Value: c.FormValue("vmid"), Status: &status}
			v.RestoreStorage, v.Start = storage, start
		})
	}
	unlock, err := h.lockAction(n, newID, "restore")
	if err != nil {
		return err
	}
	upid, err := api.RestoreLXC(ctx, node, proxmox.RestoreParams{VMID: newID, Archive: archive, Storage: storage, Start: start, Unique: true})
	if err != nil {
		unlock()
		return h.backupRefused(c, u, n, vmid, "Nothing was restored.", err, func(v *views.BackupsView) {
			keep(v)
			v.NewVMID = views.VMIDInputModel{Value: c.FormValue("vmid"), Status: &status}
			v.RestoreStorage, v.Start = storage, start
		})
	}
	h.auditCT(c, u, n, vmid, "container.restore", fmt.Sprintf("%s to new CT %d on %s", archive, newID, storage))
	ev := h.ctEvent(ctx, u, n, vmid, eventRestored)
	h.followTask(ev, unlock, func(ctx context.Context) error {
		if err := api.WaitTask(ctx, node, upid, nil); err != nil {
			return err
		}
		if h.VMIDs != nil {
			h.VMIDs.NoteCreated(ctx, n, newID, "")
		}
		if !start {
			return nil
		}
		sctx, cancel := context.WithTimeout(ctx, snapshotStartWait)
		defer cancel()
		return api.WaitLXCStatus(sctx, node, newID, "running")
	}, fmt.Sprintf("Restore of a backup as CT %d", newID))
	return toTask(c, n, newID, upid)
}

// restoreOver replaces the container with the archive, stopping it first.
func (h *Handler) restoreOver(c echo.Context, u store.User, n store.Node, vmid int, api backupsAPI, archive string, running bool) error {
	unlock, err := h.lockAction(n, vmid, "restore")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), backupStopWait)
	defer cancel()
	node := clusters.PVEName(n)
	cfg, err := api.LXCConfig(ctx, node, vmid)
	if err != nil {
		unlock()
		return err
	}
	if running {
		upid, err := api.Stop(ctx, node, vmid)
		if err == nil {
			err = api.WaitTask(ctx, node, upid, nil)
		}
		if err != nil {
			unlock()
			return err
		}
	}
	upid, err := api.RestoreLXC(ctx, node, proxmox.RestoreParams{VMID: vmid, Archive: archive,
		Storage: cfg.RootFS().Storage(), Force: true, Start: running})
	if err != nil {
		unlock()
		what := "Nothing was restored."
		if running {
			what = "Nothing was restored; the container was stopped for it and stays stopped."
		}
		return h.backupRefused(c, u, n, vmid, what, err, func(v *views.BackupsView) { v.Archive = archive })
	}
	h.auditCT(c, u, n, vmid, "container.restore", archive+" over the container")
	h.followTask(h.ctEvent(ctx, u, n, vmid, eventRestored), unlock, func(ctx context.Context) error {
		if err := api.WaitTask(ctx, node, upid, nil); err != nil || !running {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, snapshotStartWait)
		defer cancel()
		return api.WaitLXCStatus(sctx, node, vmid, "running")
	}, "Restore of "+archive)
	return toTask(c, n, vmid, upid)
}
