package handlers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"corral/exec"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// settingsAPI is what the Settings tab uses of a node.
type settingsAPI interface {
	LXCStatus(ctx context.Context, node string, vmid int) (*proxmox.ContainerStatus, error)
	LXCConfig(ctx context.Context, node string, vmid int) (proxmox.LXCConfig, error)
	LXCPending(ctx context.Context, node string, vmid int) ([]proxmox.PendingItem, error)
	UpdateLXCConfig(ctx context.Context, node string, vmid int, ch *proxmox.ConfigChange) error
	ResizeLXCDisk(ctx context.Context, node string, vmid int, disk, size, digest string) (string, error)
	Storages(ctx context.Context, node, content string) ([]proxmox.Storage, error)
	Bridges(ctx context.Context, node string) ([]proxmox.NetworkInterface, error)
	WaitTask(ctx context.Context, node, upid string, onLog func(line string)) error
}

// BindMounter mounts host directories into containers as root on their
// node; access.Inspector is one.
type BindMounter interface {
	SetBindMount(ctx context.Context, n store.Node, vmid int, b exec.BindMount) error
}

// settingsWait bounds a post of the Settings tab: Proxmox waits up to 10 s
// for a container's config file while a resize or restore holds it, and
// its "got timeout" says more than Corral giving up first.
const settingsWait = 30 * time.Second

// settingsShow is GET …/settings: the detail page on its Settings tab.
func (h *Handler) settingsShow(c echo.Context) error { return h.dayTwoTab(c, "settings") }

// settingsView fills the Settings tab from the container's configuration.
func (h *Handler) settingsView(ctx context.Context, c echo.Context, n store.Node, vmid int, name string, running bool, cfg proxmox.LXCConfig) views.SettingsView {
	v := views.SettingsView{CSRF: csrfToken(c), NodeID: n.ID, VMID: vmid, Name: name, Running: running}
	if len(cfg) == 0 {
		v.Problem = "The configuration could not be read from " + n.Name + "."
		return v
	}
	v.Digest, v.Form = cfg.Digest(), settingsFromConfig(cfg).view()
	v.Mount = views.MountForm{Storage: cfg.RootFS().Storage(), Backup: true}
	api, err := dayTwoAPI[settingsAPI](h, n)
	if err != nil {
		v.Problem = proxmox.Describe(err)
		return v
	}
	ctx, cancel := context.WithTimeout(ctx, dayTwoRead)
	defer cancel()
	node := clusters.PVEName(n)
	facts := h.settingsFacts(ctx, api, node, cfg)
	for _, b := range facts.bridges {
		v.Bridges = append(v.Bridges, views.Option{Value: b, Label: b})
	}
	size, _ := proxmox.ParseDiskSize(cfg.RootFS().Size)
	v.Disk = views.DiskFacts{Size: bytesText(size), Storage: cfg.RootFS().Storage()}
	if facts.diskFree >= 0 {
		v.Disk.Free = bytesText(facts.diskFree) + " free"
	}
	if disks, err := api.Storages(ctx, node, "rootdir"); err == nil {
		for _, s := range disks {
			v.MountStorages = append(v.MountStorages, views.Option{Value: s.Storage, Label: storageLabel(s)})
		}
	}
	if running {
		if items, err := api.LXCPending(ctx, node, vmid); err == nil {
			for _, p := range items {
				if p.Waiting() {
					v.Pending = append(v.Pending, views.PendingChange{Key: p.Key, Now: ctDash(p.Value), Next: p.Pending, Delete: p.Delete})
				}
			}
		}
	}
	v.Mounts = mountViews(cfg)
	return v
}

// settingsFacts reads the node's bridges and the root disk's free space.
func (h *Handler) settingsFacts(ctx context.Context, api settingsAPI, node string, cfg proxmox.LXCConfig) settingsFacts {
	f := settingsFacts{diskFree: -1}
	if list, err := api.Bridges(ctx, node); err == nil {
		for _, b := range list {
			f.bridges = append(f.bridges, b.Iface)
		}
		slices.Sort(f.bridges)
	}
	if list, err := api.Storages(ctx, node, ""); err == nil {
		for _, s := range list {
			if s.Storage == cfg.RootFS().Storage() && s.Total > 0 {
				f.diskFree = int64(s.Avail)
			}
		}
	}
	return f
}

// mountViews lists the mount points and unused volumes of cfg.
func mountViews(cfg proxmox.LXCConfig) []views.MountView {
	var out []views.MountView
	mps := cfg.MountPoints()
	for _, i := range slices.Sorted(maps.Keys(mps)) {
		mp := mps[i]
		m := views.MountView{Key: "mp" + strconv.Itoa(i), Kind: "volume", Source: mp.Volume, Path: mp.Path, Size: ctDash(mp.Size)}
		var flags []string
		if mp.IsBind() {
			m.Kind, m.Size = "bind", "—"
			flags = append(flags, "host directory")
		} else if mp.Backup {
			flags = append(flags, "backed up")
		}
		if mp.ReadOnly {
			flags = append(flags, "read-only")
		}
		m.Flags = strings.Join(flags, ", ")
		out = append(out, m)
	}
	unused := cfg.Unused()
	for _, k := range slices.Sorted(maps.Keys(unused)) {
		out = append(out, views.MountView{Key: k, Kind: "unused", Source: unused[k], Path: "—", Size: "—", Flags: "unused: still takes space"})
	}
	return out
}

// settingsReq is one post of the Settings tab, with what it acts on.
type settingsReq struct {
	c       echo.Context
	u       store.User
	n       store.Node
	vmid    int
	node    string // the Proxmox node name
	api     settingsAPI
	cfg     proxmox.LXCConfig
	running bool
	step    string // review, apply, edit
	digest  string // of the configuration the user saw
}

// settingsSubmit is POST …/settings: op says which form (settings, mount,
// bind, unmount), step whether to review, apply, or edit again.
func (h *Handler) settingsSubmit(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), settingsWait)
	defer cancel()
	t, err := dayTwoTarget[settingsAPI](ctx, h, c)
	if err != nil {
		return err
	}
	r := settingsReq{c: c, u: t.u, n: t.n, vmid: t.vmid, node: t.node, api: t.api, running: t.st.Status == "running",
		step: c.FormValue("step"), digest: c.FormValue("digest")}
	if r.cfg, err = t.api.LXCConfig(ctx, r.node, r.vmid); err != nil {
		return missingCT(err, t.n, t.vmid)
	}
	if r.step != "review" && r.step != "apply" && r.step != "edit" {
		r.step = "review"
	}
	switch c.FormValue("op") {
	case "settings":
		return h.settingsMain(ctx, r)
	case "mount":
		return h.settingsMount(ctx, r)
	case "bind":
		return h.settingsBind(ctx, r)
	case "unmount":
		return h.settingsUnmount(ctx, r)
	}
	return &userError{status: http.StatusBadRequest, msg: "Unknown settings form."}
}

// again shows the Settings tab with fix applied to it.
func (h *Handler) settingsAgain(r settingsReq, status int, fix func(*views.SettingsView)) error {
	v, err := h.detailView(r.c, r.u, r.n, r.vmid, "settings")
	if err != nil {
		return err
	}
	fix(&v.Settings)
	return h.render(r.c, status, h.page(r.c, v.Header.Name, "containers"), views.DetailPage(v))
}

// conflictText explains a digest Proxmox (or Corral) refused.
func conflictText(vmid int) string {
	return fmt.Sprintf("The configuration of CT %d changed in Proxmox after you opened this page (someone else, or another tab), so nothing was sent. "+
		"Your values are kept below; where Proxmox now has something else, it is shown under the field. Review again to apply yours.", vmid)
}

// conflict shows the form again as typed, against the current config.
func (h *Handler) conflict(ctx context.Context, r settingsReq, fix func(*views.SettingsView)) error {
	if cur, err := r.api.LXCConfig(ctx, r.node, r.vmid); err == nil {
		r.cfg = cur
	}
	return h.settingsAgain(r, http.StatusConflict, func(v *views.SettingsView) {
		fix(v)
		v.Digest, v.Conflict, v.Now = r.cfg.Digest(), conflictText(r.vmid), nowValues(r.cfg)
	})
}

// nowValues are the current values by field, for a conflict.
func nowValues(cfg proxmox.LXCConfig) map[string]string {
	f := settingsFromConfig(cfg)
	return map[string]string{"cores": f.Cores, "memory": f.Memory, "swap": f.Swap, "disk_size": f.DiskGiB,
		"onboot": views.BoolWord(f.OnBoot), "startup_order": f.Order, "startup_up": f.Up, "startup_down": f.Down,
		"tags": f.Tags, "description": f.Description, "bridge": f.Bridge, "ip_mode": f.IPMode, "ip": f.IP, "gw": f.GW,
		"ip6_mode": f.IP6Mode, "ip6": f.IP6, "gw6": f.GW6, "vlan": f.VLAN, "firewall": views.BoolWord(f.Firewall)}
}

// applyFailed shows what Proxmox refused in plain words above the form.
func (h *Handler) applyFailed(ctx context.Context, r settingsReq, err error, fix func(*views.SettingsView)) error {
	if errors.Is(err, proxmox.ErrConfigChanged) {
		return h.conflict(ctx, r, fix)
	}
	status, msg := classify(err)
	if errors.Is(err, proxmox.ErrLocked) {
		status = http.StatusConflict
	}
	h.Logger.Info("settings change refused", "node", r.n.Name, "vmid", r.vmid, "err", err)
	return h.settingsAgain(r, status, func(v *views.SettingsView) {
		fix(v)
		v.Digest, v.Problem = r.digest, "Nothing was changed. "+msg
	})
}

// settingsMain handles the main form: resources, disk, start at boot,
// notes and network.
func (h *Handler) settingsMain(ctx context.Context, r settingsReq) error {
	form, _ := r.c.FormParams()
	f := readSettingsForm(form)
	keep := func(v *views.SettingsView) { v.Form = f.view() }
	facts := h.settingsFacts(ctx, r.api, r.node, r.cfg)
	if r.step == "edit" {
		return h.settingsAgain(r, http.StatusOK, func(v *views.SettingsView) { keep(v); v.Digest = r.digest })
	}
	if errs := f.validate(r.cfg, facts); len(errs) > 0 {
		return h.settingsAgain(r, http.StatusUnprocessableEntity, func(v *views.SettingsView) { keep(v); v.Digest, v.Errors = r.digest, errs })
	}
	if r.step == "review" && r.cfg.Digest() != r.digest {
		return h.conflict(ctx, r, keep)
	}
	ch, disk := f.change(r.cfg, facts, r.digest)
	if ch.Empty() && disk == 0 {
		return h.settingsAgain(r, http.StatusOK, func(v *views.SettingsView) {
			keep(v)
			v.Note = "Nothing to change: the form matches the container's settings."
		})
	}
	resizeDigest := r.digest
	if !ch.Empty() {
		resizeDigest = "" // the change before it gives the config a new digest
	}
	if r.step == "review" {
		rv := views.SettingsReview{Title: "Review the change", Running: r.running}
		if !ch.Empty() {
			rv.Requests = append(rv.Requests, configRequest(r, ch))
			rv.Restart = ch.NeedsRestart(r.cfg)
			if _, ok := ch.Set["net0"]; ok && r.running {
				rv.Notes = append(rv.Notes, "Changing net0 of a running container replaces its interface: connections drop for a moment.")
			}
		}
		if disk > 0 {
			rv.Requests = append(rv.Requests, resizeRequest(r, disk, resizeDigest))
			rv.Notes = append(rv.Notes, "The resize runs as a Proxmox task; its log follows on the next page.")
		}
		rv.Fields = fieldsOf(f.values(), "op", "settings", "digest", r.digest)
		return h.settingsAgain(r, http.StatusOK, func(v *views.SettingsView) { keep(v); v.Digest, v.Review = r.digest, &rv })
	}

	unlock, err := h.lockAction(r.n, r.vmid, "settings")
	if err != nil {
		return err
	}
	if !ch.Empty() {
		if err := r.api.UpdateLXCConfig(ctx, r.node, r.vmid, ch); err != nil {
			unlock()
			return h.applyFailed(ctx, r, err, keep)
		}
		h.auditCT(r.c, r.u, r.n, r.vmid, "container.settings", changeText(ch))
		ev := h.ctEvent(ctx, r.u, r.n, r.vmid, eventSettings)
		ev.Message = "Changed " + views.JoinWords(ch.Keys())
		h.recordEvent(ctx, ev)
	}
	saved := savedText(ch, r.cfg, r.running)
	if disk == 0 {
		unlock()
		setFlash(r.c, "ok", saved)
		return seeOther(r.c, views.DetailURL(r.n.ID, r.vmid)+"/settings")
	}
	size := proxmox.FormatDiskSize(disk)
	upid, err := r.api.ResizeLXCDisk(ctx, r.node, r.vmid, "rootfs", size, resizeDigest)
	if err != nil {
		unlock()
		if !ch.Empty() {
			setFlash(r.c, "warn", saved+" The disk was not resized: "+actionErrorText(err))
			return seeOther(r.c, views.DetailURL(r.n.ID, r.vmid)+"/settings")
		}
		return h.applyFailed(ctx, r, err, keep)
	}
	h.auditCT(r.c, r.u, r.n, r.vmid, "container.resize", "rootfs to "+size)
	node := r.node
	h.followTask(h.ctEvent(ctx, r.u, r.n, r.vmid, eventResized), unlock, func(ctx context.Context) error {
		return r.api.WaitTask(ctx, node, upid, nil)
	}, "Growing the root disk to "+size)
	if !ch.Empty() {
		setFlash(r.c, "ok", saved+" The root disk grows now.")
	}
	return toTask(r.c, r.n, r.vmid, upid)
}

// savedText says what a change did and what waits for a restart.
func savedText(ch *proxmox.ConfigChange, cfg proxmox.LXCConfig, running bool) string {
	if ch.Empty() {
		return ""
	}
	msg := "Saved."
	if later := ch.NeedsRestart(cfg); running && len(later) > 0 {
		msg += " " + views.JoinWords(later) + " take effect when the container starts again."
	}
	return msg
}

// changeText is a change for the audit log: values, but not the notes.
func changeText(ch *proxmox.ConfigChange) string {
	var parts []string
	for _, k := range ch.Keys() {
		v, set := ch.Set[k]
		switch {
		case !set:
			parts = append(parts, "deleted "+k)
		case k == "description":
			parts = append(parts, "notes")
		default:
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ", ")
}

// configRequest is the PUT …/config of ch as the review shows it.
func configRequest(r settingsReq, ch *proxmox.ConfigChange) views.ReviewRequest {
	later := map[string]bool{}
	for _, k := range ch.NeedsRestart(r.cfg) {
		later[k] = true
	}
	when := func(keys ...string) string {
		if !r.running {
			return "when it starts"
		}
		for _, k := range keys {
			if later[k] {
				return "at the next start"
			}
		}
		return "now"
	}
	req := views.ReviewRequest{Method: http.MethodPut, Path: fmt.Sprintf("/nodes/%s/lxc/%d/config", r.node, r.vmid)}
	p := ch.Params()
	for _, k := range slices.Sorted(maps.Keys(p)) {
		switch k {
		case "delete", "digest":
			continue
		}
		req.Params = append(req.Params, views.ReviewParam{Name: k, Value: p.Get(k), When: when(k)})
	}
	if d := p.Get("delete"); d != "" {
		req.Params = append(req.Params, views.ReviewParam{Name: "delete", Value: d, When: when(strings.Split(d, ",")...)})
	}
	if d := p.Get("digest"); d != "" {
		req.Params = append(req.Params, views.ReviewParam{Name: "digest", Value: d,
			When: "Proxmox refuses the change if the configuration changed since you opened the page"})
	}
	return req
}

// resizeRequest is the PUT …/resize as the review shows it.
func resizeRequest(r settingsReq, disk int64, digest string) views.ReviewRequest {
	req := views.ReviewRequest{Method: http.MethodPut, Path: fmt.Sprintf("/nodes/%s/lxc/%d/resize", r.node, r.vmid),
		Params: []views.ReviewParam{{Name: "disk", Value: "rootfs", When: "now, in a task"}, {Name: "size", Value: proxmox.FormatDiskSize(disk), When: "now, in a task"}}}
	if digest != "" {
		req.Params = append(req.Params, views.ReviewParam{Name: "digest", Value: digest,
			When: "Proxmox refuses the resize if the configuration changed since you opened the page"})
	}
	return req
}

// fieldsOf lists form values, plus the extra name/value pairs, as hidden
// fields for the review's Apply.
func fieldsOf(v map[string][]string, extra ...string) []views.Param {
	var out []views.Param
	for _, k := range slices.Sorted(maps.Keys(v)) {
		for _, val := range v[k] {
			out = append(out, views.Param{Name: k, Value: val})
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		out = append(out, views.Param{Name: extra[i], Value: extra[i+1]})
	}
	return out
}

// settingsMount adds a new volume on a storage as a mount point, through
// the API.
func (h *Handler) settingsMount(ctx context.Context, r settingsReq) error {
	mf := views.MountForm{Storage: r.c.FormValue("mp_storage"), Size: strings.TrimSpace(r.c.FormValue("mp_size")),
		Path: strings.TrimSpace(r.c.FormValue("mp_path")), Backup: r.c.FormValue("mp_backup") != ""}
	keep := func(v *views.SettingsView) { v.Mount = mf }
	if r.step == "edit" {
		return h.settingsAgain(r, http.StatusOK, func(v *views.SettingsView) { keep(v); v.Digest = r.digest })
	}
	errs := map[string]string{}
	var avail int64 = -1
	stores, err := r.api.Storages(ctx, r.node, "rootdir")
	if err != nil {
		return err
	}
	i := slices.IndexFunc(stores, func(s proxmox.Storage) bool { return s.Storage == mf.Storage })
	if i < 0 {
		errs["mp_storage"] = "Choose a storage of " + r.n.Name + " that holds container disks."
	} else if stores[i].Total > 0 {
		avail = int64(stores[i].Avail)
	}
	gib, err := strconv.Atoi(mf.Size)
	switch {
	case err != nil || gib < 1 || gib > 1<<20:
		errs["mp_size"] = "A whole number of GiB, at least 1."
	case avail >= 0 && int64(gib)<<30 > avail:
		errs["mp_size"] = fmt.Sprintf("Only %s are free on %s.", bytesText(avail), mf.Storage)
	}
	switch {
	case !validMountPath(mf.Path):
		errs["mp_path"] = "An absolute path such as /srv/data, with letters, digits and . _ + @ - / only, not /."
	case mountPathTaken(r.cfg, mf.Path):
		errs["mp_path"] = "Another mount point of this container uses that path."
	}
	idx := freeMountIndex(r.cfg)
	if idx < 0 {
		errs["mp_path"] = "This container has no free mount point left (mp0 to mp255)."
	}
	if len(errs) > 0 {
		return h.settingsAgain(r, http.StatusUnprocessableEntity, func(v *views.SettingsView) { keep(v); v.Digest, v.Errors = r.digest, errs })
	}
	if r.step == "review" && r.cfg.Digest() != r.digest {
		return h.conflict(ctx, r, keep)
	}
	key := "mp" + strconv.Itoa(idx)
	ch := &proxmox.ConfigChange{Set: map[string]string{key: proxmox.NewVolume(mf.Storage, gib, mf.Path, mf.Backup).String()}, Digest: r.digest}
	if r.step == "review" {
		rv := views.SettingsReview{Title: "Add a volume as " + key, Running: r.running, Restart: ch.NeedsRestart(r.cfg),
			Requests: []views.ReviewRequest{configRequest(r, ch)},
			Notes:    []string{fmt.Sprintf("Proxmox makes a new %d GiB volume on %s and mounts it at %s in the container.", gib, mf.Storage, mf.Path)},
			Fields: []views.Param{{Name: "op", Value: "mount"}, {Name: "digest", Value: r.digest}, {Name: "mp_storage", Value: mf.Storage},
				{Name: "mp_size", Value: mf.Size}, {Name: "mp_path", Value: mf.Path}, {Name: "mp_backup", Value: map[bool]string{true: "1"}[mf.Backup]}}}
		return h.settingsAgain(r, http.StatusOK, func(v *views.SettingsView) { keep(v); v.Digest, v.Review = r.digest, &rv })
	}
	unlock, err := h.lockAction(r.n, r.vmid, "settings")
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.api.UpdateLXCConfig(ctx, r.node, r.vmid, ch); err != nil {
		return h.applyFailed(ctx, r, err, keep)
	}
	h.auditCT(r.c, r.u, r.n, r.vmid, "container.mount.add", key+"="+ch.Set[key])
	ev := h.ctEvent(ctx, r.u, r.n, r.vmid, eventMountAdded)
	ev.Message = fmt.Sprintf("Added a %d GiB volume on %s at %s (%s)", gib, mf.Storage, mf.Path, key)
	h.recordEvent(ctx, ev)
	setFlash(r.c, "ok", ev.Message+".")
	return seeOther(r.c, views.DetailURL(r.n.ID, r.vmid)+"/settings")
}

// settingsBind mounts a host directory with `pct set` over SSH, after the
// paths were checked and the exact command shown.
func (h *Handler) settingsBind(ctx context.Context, r settingsReq) error {
	bf := views.BindForm{HostPath: strings.TrimSpace(r.c.FormValue("bind_host")), Path: strings.TrimSpace(r.c.FormValue("bind_path")),
		ReadOnly: r.c.FormValue("bind_ro") != ""}
	keep := func(v *views.SettingsView) { v.Bind = bf }
	if r.step == "edit" {
		return h.settingsAgain(r, http.StatusOK, func(v *views.SettingsView) { keep(v); v.Digest = r.digest })
	}
	b := exec.BindMount{Index: freeMountIndex(r.cfg), HostPath: bf.HostPath, Path: bf.Path, ReadOnly: bf.ReadOnly}
	errs := map[string]string{}
	switch err := b.Validate(); {
	case errors.Is(err, exec.ErrBindPath):
		errs["bind_path"] = sentence(err)
	case err != nil:
		errs["bind_host"] = sentence(err)
	case mountPathTaken(r.cfg, b.Path):
		errs["bind_path"] = "Another mount point of this container uses that path."
	}
	if b.Index < 0 {
		errs["bind_host"] = "This container has no free mount point left (mp0 to mp255)."
	}
	if len(errs) > 0 {
		return h.settingsAgain(r, http.StatusUnprocessableEntity, func(v *views.SettingsView) { keep(v); v.Digest, v.Errors = r.digest, errs })
	}
	// pct set takes no digest: Corral compares it itself, at both steps.
	if r.cfg.Digest() != r.digest {
		return h.conflict(ctx, r, keep)
	}
	cmd, err := b.Command(r.vmid)
	if err != nil {
		return err
	}
	if r.step == "review" {
		rv := views.SettingsReview{Title: "Mount a host directory as mp" + strconv.Itoa(b.Index), Running: r.running,
			Command: cmd, Host: r.n.Name,
			Notes: []string{
				"Proxmox checks that " + b.HostPath + " exists on the host when it mounts it: at once if the container runs, else at its next start.",
				"In an unprivileged container, host files show up as owned by nobody unless they belong to the container's IDs (100000 and up) on the host.",
			},
			Fields: []views.Param{{Name: "op", Value: "bind"}, {Name: "digest", Value: r.digest}, {Name: "bind_host", Value: bf.HostPath},
				{Name: "bind_path", Value: bf.Path}, {Name: "bind_ro", Value: map[bool]string{true: "1"}[bf.ReadOnly]}}}
		return h.settingsAgain(r, http.StatusOK, func(v *views.SettingsView) { keep(v); v.Digest, v.Review = r.digest, &rv })
	}
	bm, ok := h.Services.(BindMounter)
	if !ok {
		return errDayTwoUnsupported
	}
	unlock, err := h.lockAction(r.n, r.vmid, "settings")
	if err != nil {
		return err
	}
	defer unlock()
	h.auditCT(r.c, r.u, r.n, r.vmid, "container.mount.bind", cmd)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sshWait)
	defer cancel()
	if err := bm.SetBindMount(sctx, r.n, r.vmid, b); err != nil {
		msg := sshErrorText(r.n, "mount "+b.HostPath, err)
		return h.settingsAgain(r, http.StatusBadGateway, func(v *views.SettingsView) { keep(v); v.Digest, v.Problem = r.digest, msg })
	}
	ev := h.ctEvent(ctx, r.u, r.n, r.vmid, eventMountAdded)
	ev.Message = fmt.Sprintf("Mounted the host directory %s at %s (mp%d)", b.HostPath, b.Path, b.Index)
	h.recordEvent(ctx, ev)
	setFlash(r.c, "ok", ev.Message+".")
	return seeOther(r.c, views.DetailURL(r.n.ID, r.vmid)+"/settings")
}

// sentence capitalises an error as a sentence for a form.
func sentence(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

var mountKeyRE = regexp.MustCompile(`^(mp|unused)\d{1,3}$`)

// settingsUnmount removes a mount point or an unused volume.
func (h *Handler) settingsUnmount(ctx context.Context, r settingsReq) error {
	key := r.c.FormValue("key")
	val, ok := r.cfg[key]
	if !mountKeyRE.MatchString(key) || !ok {
		return &userError{status: http.StatusNotFound, msg: "This container has no such mount point."}
	}
	if r.step == "edit" {
		return seeOther(r.c, views.DetailURL(r.n.ID, r.vmid)+"/settings")
	}
	if r.cfg.Digest() != r.digest {
		return h.conflict(ctx, r, func(*views.SettingsView) {})
	}
	ch := &proxmox.ConfigChange{Delete: []string{key}, Digest: r.digest}
	if r.step == "review" {
		var note string
		switch mp := proxmox.ParseMountPoint(val); {
		case strings.HasPrefix(key, "unused"):
			note = "This destroys the volume " + val + " and everything on it. It cannot be undone."
		case mp.IsBind():
			note = "The container no longer sees " + mp.Volume + "; the directory on the host is not touched."
		default:
			note = "The volume " + mp.Volume + " is kept as an unused disk, with its data; remove that too to free its space."
		}
		rv := views.SettingsReview{Title: "Remove " + key, Running: r.running, Restart: ch.NeedsRestart(r.cfg),
			Requests: []views.ReviewRequest{configRequest(r, ch)}, Notes: []string{note},
			Fields: []views.Param{{Name: "op", Value: "unmount"}, {Name: "digest", Value: r.digest}, {Name: "key", Value: key}}}
		return h.settingsAgain(r, http.StatusOK, func(v *views.SettingsView) { v.Review = &rv })
	}
	unlock, err := h.lockAction(r.n, r.vmid, "settings")
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.api.UpdateLXCConfig(ctx, r.node, r.vmid, ch); err != nil {
		return h.applyFailed(ctx, r, err, func(*views.SettingsView) {})
	}
	h.auditCT(r.c, r.u, r.n, r.vmid, "container.mount.remove", key+" ("+val+")")
	ev := h.ctEvent(ctx, r.u, r.n, r.vmid, eventMountRemoved)
	ev.Message = "Removed " + key + " (" + val + ")"
	h.recordEvent(ctx, ev)
	msg := "Removed " + key + "."
	if later := ch.NeedsRestart(r.cfg); r.running && len(later) > 0 {
		msg += " It goes when the container starts again."
	}
	setFlash(r.c, "ok", msg)
	return seeOther(r.c, views.DetailURL(r.n.ID, r.vmid)+"/settings")
}
