package pvesim

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
)

// restorePlan is a validated restore (POST /nodes/{node}/lxc with restore=1).
type restorePlan struct {
	g         *guest
	vmid      int
	volid     string // the backup
	target    *storage
	overwrite bool   // force=1 over an existing container
	given     ctConf // options given with the request; they win over the backup's
	root      bool   // root@pam may restore bind mounts
	start     bool
}

// postLXCRestore is create_vm's restore path: the checks before the
// vzrestore task and the create lock on the (new or existing) config.
func postLXCRestore(rq *request) (any, error) {
	p, n, tok := rq.p, rq.n, rq.tok
	vmid := p.intParam("vmid", 0)
	force := p.boolParam("force")
	e := n.estate
	e.mu.Lock()
	old := e.guests[vmid]
	same := old != nil && old.node == n.name && old.typ == LXC
	var err error
	switch {
	case old != nil && !(same && force):
		err = errStatus(http.StatusInternalServerError, "%s %d already exists on node '%s'", old.kindWord(), vmid, old.node)
	case same && old.status == "running":
		err = errStatus(http.StatusInternalServerError, "can't overwrite running container")
	case same && old.protected():
		err = errStatus(http.StatusInternalServerError, "unable to restore CT %d - protection mode enabled", vmid)
	}
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !tok.can(vmPath(vmid), "VM.Allocate") && !(same && force && tok.can(vmPath(vmid), "VM.Backup")) {
		return nil, errRestorePerm
	}
	plan := &restorePlan{vmid: vmid, volid: p["ostemplate"], overwrite: same, given: ctConf{},
		root: tok.isRootPam(), start: p.boolParam("start")}
	for k, v := range p {
		if _, ok := configKeySchema[k]; ok && k != "rootfs" && !mpKeyRe.MatchString(k) {
			if priv := privFor(k); !tok.isRootPam() && !tok.can(vmPath(vmid), priv) {
				return nil, errPerm(vmPath(vmid), priv)
			}
			plan.given[k] = v
		}
	}
	if err := rq.checkBackupAccess(vmid, plan.volid); err != nil {
		return nil, err
	}
	sid := p["storage"]
	if sid == "" {
		sid = "local"
	}
	e.mu.Lock()
	plan.target = n.storage(sid)
	e.mu.Unlock()
	switch {
	case plan.target == nil:
		return nil, errStatus(http.StatusInternalServerError, "storage '%s' does not exist", sid)
	case !plan.target.allows("rootdir"):
		return nil, errParam(map[string]string{"storage": fmt.Sprintf("storage '%s' does not support container directories", sid)})
	case !tok.can("/storage/"+sid, "Datastore.AllocateSpace"):
		return nil, errPerm("/storage/"+sid, "Datastore.AllocateSpace")
	}

	if err := n.lockForRestore(plan, same); err != nil {
		return nil, err
	}
	return n.startTask(tok, "vzrestore", vmidString(vmid), 10, func(tl *taskLog) error {
		return n.restoreWork(tl, tok, plan)
	}), nil
}

// lockForRestore is create_and_lock_config: lock "create" on the existing
// config, or a new config holding only that lock.
func (n *Node) lockForRestore(plan *restorePlan, same bool) error {
	e, vmid := n.estate, plan.vmid
	e.mu.Lock()
	defer e.mu.Unlock()
	if same {
		g := e.guests[vmid]
		if l := g.lock(); l != "" {
			return errStatus(http.StatusInternalServerError, "unable to restore CT %d - CT is locked (%s)", vmid, l)
		}
		g.setLock("create")
		plan.g = g
		return nil
	}
	if other := e.guests[vmid]; other != nil {
		return errStatus(http.StatusInternalServerError, "unable to restore CT %d - %s %d already exists on node '%s'",
			vmid, other.kindWord(), vmid, other.node)
	}
	dir, err := n.sim.makeGuestDir(n, vmid)
	if err != nil {
		return errStatus(http.StatusInternalServerError, "unable to restore CT %d - %s", vmid, err)
	}
	g := newGuest(vmid, LXC, n.name, ctConf{"lock": "create"})
	g.created, g.dir = n.sim.now(), dir
	e.guests[vmid] = g
	plan.g = g
	return nil
}

// checkBackupAccess is check_volume_access for the archive of a restore.
func (rq *request) checkBackupAccess(vmid int, volid string) error {
	sid, rest, ok := strings.Cut(volid, ":")
	if !ok {
		if !rq.tok.isRootPam() {
			return errStatus(http.StatusInternalServerError, "Only root can pass arbitrary filesystem paths.")
		}
		return nil
	}
	rq.n.estate.mu.Lock()
	st := rq.n.storage(sid)
	rq.n.estate.mu.Unlock()
	if st == nil {
		return errStatus(http.StatusInternalServerError, "storage '%s' does not exist", sid)
	}
	name, isBackup := strings.CutPrefix(rest, "backup/")
	if !isBackup {
		return errStatus(http.StatusInternalServerError, "unable to use volume %s - content type needs to be 'backup'", volid)
	}
	if rq.tok.can("/storage/"+sid, "Datastore.Allocate") {
		return nil
	}
	owner := 0
	if f := strings.Split(name, "-"); len(f) > 3 && f[0] == "vzdump" {
		owner, _ = strconv.Atoi(f[2])
	}
	switch {
	case owner == vmid:
		return nil
	case owner == 0:
		return errStatus(http.StatusInternalServerError, "missing privileges to access %s", volid)
	case !rq.tok.can("/storage/"+sid, "Datastore.AllocateSpace"):
		return errPerm("/storage/"+sid, "Datastore.AllocateSpace")
	case !rq.tok.can(vmPath(owner), "VM.Backup"):
		return errPerm(vmPath(owner), "VM.Backup")
	}
	return nil
}

// restoreWork is the vzrestore worker.
func (n *Node) restoreWork(tl *taskLog, tok *token, plan *restorePlan) error {
	vmid, g, e := plan.vmid, plan.g, n.estate
	fail := func(modified bool, format string, a ...any) error {
		e.mu.Lock()
		if modified || !plan.overwrite {
			if e.guests[vmid] == g {
				delete(e.guests, vmid)
			}
			n.freeDisks(vmid)
		} else {
			g.setLock("")
		}
		e.mu.Unlock()
		if modified || !plan.overwrite {
			_ = os.RemoveAll(g.dir)
			n.removeSnapshotData(vmid)
		}
		return fmt.Errorf("unable to restore CT %d - "+format, append([]any{vmid}, a...)...)
	}
	release, err := n.lockConfig(vmid)
	if err != nil {
		return err
	}
	defer release()
	if !tl.Log("recovering backed-up configuration from '%s'", plan.volid) {
		return fail(false, "interrupted by signal")
	}
	e.mu.Lock()
	_, v, ok := n.backupVolume(plan.volid)
	e.mu.Unlock()
	if !ok || v.archive == nil {
		return fail(false, "volume '%s' does not exist", plan.volid)
	}
	backed := v.archive.conf
	keys := volumeKeys(backed)
	if !slices.Contains(keys, "rootfs") {
		return fail(false, "rootfs configuration could not be recovered, please check and specify manually!")
	}
	delayed := ctConf{}
	for _, k := range keys {
		mp := parseMountPoint(k, backed[k])
		if mp.kind == "volume" {
			continue
		}
		if k == "rootfs" {
			return fail(false, "restoring rootfs to %s mount is only possible by specifying -rootfs manually!", mp.kind)
		}
		if !plan.root {
			return fail(false, "restoring '%s' to %s mount is only possible for root", k, mp.kind)
		}
		delayed[k] = backed[k]
	}

	// New volumes of the backed-up sizes on the target storage.
	conf := ctConf{}
	var lines []string
	e.mu.Lock()
	oldDisks := n.diskSet(vmid)
	for _, k := range keys {
		mp := parseMountPoint(k, backed[k])
		if mp.kind != "volume" {
			continue
		}
		size := volumeSize(backed[k])
		mp.volume = plan.target.allocDisk(vmid, size, n.sim.now())
		conf[k] = mp.String(k == "rootfs")
		lines = append(lines, mkfsLines(mp.volume, size)...)
	}
	var oldNames []string
	for volid := range oldDisks {
		oldNames = append(oldNames, lvName(volid))
	}
	slices.Sort(oldNames)
	e.mu.Unlock()
	for _, name := range oldNames {
		lines = append(lines, fmt.Sprintf("  Logical volume \"%s\" successfully removed.", name))
	}
	lines = append(lines,
		fmt.Sprintf("restoring '%s' now..", plan.volid),
		fmt.Sprintf("extracting archive '/var/lib/vz/dump/%s'", strings.TrimPrefix(plan.volid[strings.Index(plan.volid, ":")+1:], "backup/")),
		fmt.Sprintf("Total bytes read: %d (%s, 312MiB/s)", v.size*3, humanBytes(v.size*3)),
		"merging backed-up and given configuration..")
	for _, l := range lines {
		if !tl.Log("%s", l) {
			return fail(true, "interrupted by signal")
		}
	}
	if err := replaceTree(g.dir, v.archive.dir); err != nil {
		return fail(true, "%v", err)
	}

	for k, val := range plan.given {
		conf[k] = val
	}
	for k, val := range backed {
		switch {
		case k == "rootfs", k == "parent", k == "template", k == "lock",
			mpKeyRe.MatchString(k), unusedKeyRe.MatchString(k):
			continue
		}
		if _, set := conf[k]; !set {
			conf[k] = val
		}
	}
	if conf["hostname"] == "" {
		conf["hostname"] = fmt.Sprintf("CT%d", vmid)
	}
	if conf["memory"] == "" {
		conf["memory"] = "512"
	}
	if _, ok := conf["swap"]; !ok {
		conf["swap"] = "512"
	}
	for k, val := range delayed {
		conf[k] = val
	}

	e.mu.Lock()
	for volid := range oldDisks {
		sid, name, _ := strings.Cut(volid, ":")
		delete(n.storage(sid).disks, name)
	}
	g.conf, g.pending, g.pendingDelete = conf, nil, nil
	g.snapshots = map[string]ctConf{}
	g.statsSeen, g.box = true, nil
	e.mu.Unlock()
	n.removeSnapshotData(vmid)
	if plan.start {
		n.startTask(tok, "vzstart", vmidString(vmid), 2, n.startWork(vmid))
	}
	return nil
}
