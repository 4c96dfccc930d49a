package pvesim

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Snapshots follow pve-guest-common's AbstractConfig: a [name] section in
// the config (parent, snaptime, description, snapstate while in progress),
// taken under lock "snapshot", deleted under "snapshot-delete", rolled
// back under "rollback". Only the name checks happen before the task; every
// other refusal is the task's error, as in PVE. The container's data
// directory is copied, so a rollback really undoes what ran inside.

// snapshotSchema is the snapname path variable and POST's description.
var snapNameProp = prop{kind: kString, required: true, maxLen: 40, format: formatConfigID}

// snapshotDir holds the data of one snapshot.
func (n *Node) snapshotDir(vmid int, name string) string {
	return filepath.Join(n.sim.dir, "nodes", n.name, "snapshots", strconv.Itoa(vmid), name)
}

// removeSnapshotData deletes the data of every snapshot of vmid.
func (n *Node) removeSnapshotData(vmid int) {
	_ = os.RemoveAll(filepath.Join(n.sim.dir, "nodes", n.name, "snapshots", strconv.Itoa(vmid)))
}

// volumeKeys are the mount keys of a section in PVE's order: rootfs, mp0, mp1, …
func volumeKeys(c ctConf) []string {
	var keys []string
	if _, ok := c["rootfs"]; ok {
		keys = append(keys, "rootfs")
	}
	for i := 0; i < maxMountPoints; i++ {
		if _, ok := c[fmt.Sprintf("mp%d", i)]; ok {
			keys = append(keys, fmt.Sprintf("mp%d", i))
		}
	}
	return keys
}

// snapshotFeature is has_feature('snapshot'): every mounted volume must be
// on a storage that snapshots (lvmthin here); bind mounts and devices have
// none. backupOnly considers only what a backup includes.
func (n *Node) snapshotFeature(c ctConf, backupOnly bool) bool {
	for _, k := range volumeKeys(c) {
		mp := parseMountPoint(k, c[k])
		if backupOnly && k != "rootfs" && (mp.kind != "volume" || mp.opts["backup"] != "1") {
			continue
		}
		if mp.kind != "volume" {
			return false
		}
		sid, _, _ := strings.Cut(mp.volume, ":")
		if st := n.storage(sid); st == nil || st.typ != "lvmthin" {
			return false
		}
	}
	return true
}

// lvName is the logical volume name of a volume id.
func lvName(volid string) string {
	_, name, _ := strings.Cut(volid, ":")
	return name
}

// snapshotCopy is __snapshot_copy_config: the section a snapshot stores.
func snapshotCopy(c ctConf) ctConf {
	out := ctConf{}
	for k, v := range c {
		switch {
		case k == "lock" || k == "description" || k == "snapstate" || k == "snaptime" || k == "vmstate",
			unusedKeyRe.MatchString(k):
			continue
		}
		out[k] = v
	}
	return out
}

// ctForTask loads the container's config inside a task; the caller holds estate.mu.
func (n *Node) ctForTask(vmid int) (*guest, error) {
	g := n.estate.guests[vmid]
	if g == nil || g.node != n.name || g.typ != LXC {
		return nil, fmt.Errorf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", n.name, vmid)
	}
	return g, nil
}

// createSnapshot is snapshot_create, run inside a task.
func (n *Node) createSnapshot(tl *taskLog, vmid int, name, description string) error {
	e := n.estate
	e.mu.Lock()
	g, err := n.ctForTask(vmid)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	switch {
	case g.isTemplate():
		err = fmt.Errorf("you can't take a snapshot if it's a template")
	case g.lock() != "":
		err = fmt.Errorf("CT is locked (%s)", g.lock())
	case g.snapshots[name] != nil:
		err = fmt.Errorf("snapshot name '%s' already used", name)
	case !n.snapshotFeature(g.conf, name == "vzdump"):
		err = fmt.Errorf("snapshot feature is not available")
	}
	if err != nil {
		e.mu.Unlock()
		return err
	}
	g.setLock("snapshot")
	snap := snapshotCopy(g.conf)
	snap["snapstate"] = "prepare"
	snap["snaptime"] = strconv.FormatInt(n.sim.now().Unix(), 10)
	if description != "" {
		snap["description"] = description
	}
	g.snapshots[name] = snap
	dir, vols := g.dir, volumesOf(snap)
	e.mu.Unlock()

	fail := func(err error) error {
		e.mu.Lock()
		delete(g.snapshots, name)
		g.setLock("")
		e.mu.Unlock()
		_ = os.RemoveAll(n.snapshotDir(vmid, name))
		return err
	}
	if err := copyTree(dir, n.snapshotDir(vmid, name)); err != nil {
		return fail(fmt.Errorf("snapshot create failed - %v", err))
	}
	for _, v := range vols {
		if name == "vzdump" && !slices.Contains(n.backupVolumes(snap), v) {
			continue
		}
		if !tl.Log("  Logical volume \"snap_%s_%s\" created.", lvName(v), name) {
			return fail(errClosed)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if g.lock() != "snapshot" {
		return fmt.Errorf("missing snapshot lock")
	}
	delete(snap, "snapstate")
	g.setLock("")
	g.conf["parent"] = name
	return nil
}

// deleteSnapshot is snapshot_delete, run inside a task.
func (n *Node) deleteSnapshot(tl *taskLog, vmid int, name string) error {
	e := n.estate
	e.mu.Lock()
	g, err := n.ctForTask(vmid)
	if err == nil && g.snapshots[name] == nil {
		err = fmt.Errorf("snapshot '%s' does not exist", name)
	}
	if err == nil && g.lock() != "" {
		err = fmt.Errorf("CT is locked (%s)", g.lock())
	}
	if err == nil && g.isTemplate() {
		err = fmt.Errorf("you can't delete a snapshot if vm is a template")
	}
	if err != nil {
		e.mu.Unlock()
		return err
	}
	g.setLock("snapshot-delete")
	snap := g.snapshots[name]
	snap["snapstate"] = "delete"
	vols := volumesOf(snap)
	e.mu.Unlock()
	if err := n.dropSnapshot(tl, g, name, vols); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g.setLock("")
	return nil
}

// dropSnapshot removes the volume snapshots and the section, re-linking
// children to the parent; volumes only the snapshot held become unused.
func (n *Node) dropSnapshot(tl *taskLog, g *guest, name string, vols []string) error {
	for _, v := range vols {
		if !tl.Log("  Logical volume \"snap_%s_%s\" successfully removed.", lvName(v), name) {
			return errClosed
		}
	}
	_ = os.RemoveAll(n.snapshotDir(g.vmid, name))
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	parent := g.snapshots[name]["parent"]
	relink := func(c ctConf) {
		if c["parent"] != name {
			return
		}
		if parent != "" {
			c["parent"] = parent
		} else {
			delete(c, "parent")
		}
	}
	relink(g.conf)
	for other, c := range g.snapshots {
		if other != name {
			relink(c)
		}
	}
	delete(g.snapshots, name)
	for _, v := range vols {
		g.addUnused(v)
	}
	return nil
}

// rollbackSnapshot is snapshot_rollback, run inside a task: the container
// is stopped, its volumes and config return to the snapshot's.
func (n *Node) rollbackSnapshot(tl *taskLog, vmid int, name string) error {
	e := n.estate
	e.mu.Lock()
	g, err := n.ctForTask(vmid)
	var snap ctConf
	if err == nil {
		snap = g.snapshots[name]
		switch {
		case g.isTemplate():
			err = fmt.Errorf("you can't rollback if vm is a template")
		case snap == nil:
			err = fmt.Errorf("snapshot '%s' does not exist", name)
		case snap["snapstate"] != "":
			err = fmt.Errorf("unable to rollback to incomplete snapshot (snapstate = %s)", snap["snapstate"])
		case g.lock() != "":
			err = fmt.Errorf("CT is locked (%s)", g.lock())
		}
	}
	if err != nil {
		e.mu.Unlock()
		return err
	}
	if g.status == "running" {
		n.sim.setRunning(g, false)
	}
	g.setLock("rollback")
	dir, vols := g.dir, volumesOf(snap)
	e.mu.Unlock()

	for _, v := range vols {
		if !tl.Log("  Logical volume \"%s\" successfully removed.", lvName(v)) ||
			!tl.Log("  Logical volume \"%s\" created.", lvName(v)) {
			return errClosed
		}
	}
	if err := replaceTree(dir, n.snapshotDir(vmid, name)); err != nil {
		return fmt.Errorf("rollback failed - %v", err)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if g.lock() != "rollback" {
		return fmt.Errorf("got wrong lock")
	}
	conf := snapshotCopy(snap)
	for k, v := range g.conf {
		if k == "description" || unusedKeyRe.MatchString(k) {
			conf[k] = v
		}
	}
	old := g.conf
	g.conf, g.pending, g.pendingDelete = conf, nil, nil
	g.conf["parent"] = name
	for _, v := range volumesOf(old) {
		g.addUnused(v)
	}
	// A thin volume comes back at the size it had when the snapshot was taken.
	for _, k := range volumeKeys(conf) {
		mp := parseMountPoint(k, conf[k])
		if mp.kind != "volume" {
			continue
		}
		sid, _, _ := strings.Cut(mp.volume, ":")
		if d := n.storage(sid).diskOf(mp.volume); d != nil {
			d.size = volumeSize(conf[k])
		}
	}
	g.box = nil
	return nil
}

func snapshotParams(rq *request) (vmid int, name string) {
	return rq.vmid(), rq.vars["snapname"]
}

func getSnapshots(rq *request) (any, error) {
	return rq.withCT(func(g *guest) (any, error) {
		names := slices.Collect(maps.Keys(g.snapshots))
		slices.SortFunc(names, func(a, b string) int {
			if d := g.snapshots[a].intOr("snaptime", 0) - g.snapshots[b].intOr("snaptime", 0); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		rows := []any{}
		for _, name := range names {
			s := g.snapshots[name]
			row := map[string]any{"name": name, "snaptime": s.intOr("snaptime", 0), "description": readDescription(s["description"])}
			if p := s["parent"]; p != "" {
				row["parent"] = p
			}
			if st := s["snapstate"]; st != "" {
				row["snapstate"] = st
			}
			rows = append(rows, row)
		}
		current := map[string]any{"name": "current", "digest": g.digest(), "running": b2i(g.status == "running"),
			"description": "You are here!"}
		if p := g.conf["parent"]; p != "" {
			current["parent"] = p
		}
		return append(rows, current), nil
	}, "VM.Audit")
}

func postSnapshot(rq *request) (any, error) {
	if err := rq.needVM("VM.Snapshot"); err != nil {
		return nil, err
	}
	vmid, name := rq.vmid(), rq.p["snapname"]
	if name == "current" || name == "vzdump" {
		return nil, errStatus(http.StatusInternalServerError, "unable to use snapshot name '%s' (reserved name)", name)
	}
	desc := rq.p["description"]
	n := rq.n
	return n.startTask(rq.tok, "vzsnapshot", vmidString(vmid), 3, func(tl *taskLog) error {
		return n.createSnapshot(tl, vmid, name, desc)
	}), nil
}

// getSnapshotIndex is GET …/snapshot/{snapname}: the sub-commands, for anyone.
func getSnapshotIndex(rq *request) (any, error) {
	return []any{map[string]any{"cmd": "rollback"}, map[string]any{"cmd": "config"}}, nil
}

func deleteSnapshotAPI(rq *request) (any, error) {
	if err := rq.needVM("VM.Snapshot"); err != nil {
		return nil, err
	}
	vmid, name := snapshotParams(rq)
	n := rq.n
	return n.startTask(rq.tok, "vzdelsnapshot", vmidString(vmid), 3, func(tl *taskLog) error {
		return n.deleteSnapshot(tl, vmid, name)
	}), nil
}

func postRollback(rq *request) (any, error) {
	if err := rq.needAnyVM("VM.Snapshot", "VM.Snapshot.Rollback"); err != nil {
		return nil, err
	}
	vmid, name := snapshotParams(rq)
	start := rq.p.boolParam("start")
	n, tok := rq.n, rq.tok
	return n.startTask(tok, "vzrollback", vmidString(vmid), 3, func(tl *taskLog) error {
		if err := n.rollbackSnapshot(tl, vmid, name); err != nil {
			return err
		}
		if start {
			// Like PVE, the start is a task of its own the rollback does not wait for.
			n.startTask(tok, "vzstart", vmidString(vmid), 2, n.startWork(vmid))
		}
		return nil
	}), nil
}

func getSnapshotConfig(rq *request) (any, error) {
	return rq.withCT(func(g *guest) (any, error) {
		_, name := snapshotParams(rq)
		snap := g.snapshots[name]
		if snap == nil {
			return nil, errStatus(http.StatusInternalServerError, "snapshot '%s' does not exist", name)
		}
		return snap.json(), nil
	}, "VM.Snapshot", "VM.Snapshot.Rollback", "VM.Audit")
}

func putSnapshotConfig(rq *request) (any, error) {
	if err := rq.needVM("VM.Snapshot"); err != nil {
		return nil, err
	}
	desc, ok := rq.p["description"]
	if !ok {
		return nil, nil
	}
	rq.n.estate.mu.Lock()
	defer rq.n.estate.mu.Unlock()
	g, err := rq.localCT()
	if err != nil {
		return nil, err
	}
	if l := g.lock(); l != "" {
		return nil, errStatus(http.StatusInternalServerError, "CT is locked (%s)", l)
	}
	_, name := snapshotParams(rq)
	snap := g.snapshots[name]
	if snap == nil {
		return nil, errStatus(http.StatusInternalServerError, "snapshot '%s' does not exist", name)
	}
	if desc == "" {
		delete(snap, "description")
	} else {
		snap["description"] = desc
	}
	return nil, nil
}
