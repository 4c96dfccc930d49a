package pvesim

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Backups follow pve-manager's VZDump.pm and pve-container's VZDump/LXC.pm:
// POST /nodes/{node}/vzdump checks storage and permission parameters, then
// a "vzdump" task backs the guests up one by one under lock "backup",
// logging "INFO: …" lines. The archive is a file volume on the storage
// (storage:backup/vzdump-lxc-VMID-YYYY_MM_DD-HH_MM_SS.tar.zst) that keeps
// the container's config and a copy of its files, so a restore (POST
// /nodes/{node}/lxc with restore=1) brings both back.

// archive is what a backup holds.
type archive struct {
	conf ctConf // the main section as backed up, without lock, parent and pending
	dir  string // copy of the container's files
}

var vzdumpSchema = schema{
	"vmid": {kind: kString, format: func(v string) string {
		for _, id := range splitList(v) {
			if !vmidRe.MatchString(id) {
				return "value does not look like a valid VM ID\n"
			}
		}
		return ""
	}},
	"all":                       {kind: kBool},
	"exclude":                   {kind: kString},
	"pool":                      {kind: kString},
	"storage":                   {kind: kStorageID},
	"mode":                      {kind: kEnum, enum: []string{"snapshot", "suspend", "stop"}},
	"compress":                  {kind: kEnum, enum: []string{"0", "1", "gzip", "lzo", "zstd"}},
	"notes-template":            {kind: kString, maxLen: 1024},
	"remove":                    {kind: kBool},
	"protected":                 {kind: kBool},
	"quiet":                     {kind: kBool},
	"stdout":                    {kind: kBool},
	"stop":                      {kind: kBool},
	"mailto":                    {kind: kString},
	"mailnotification":          {kind: kEnum, enum: []string{"always", "failure"}},
	"notification-mode":         {kind: kEnum, enum: []string{"auto", "legacy-sendmail", "notification-system"}},
	"zstd":                      {kind: kInt, min: lim(0)},
	"lockwait":                  {kind: kInt, min: lim(0)},
	"stopwait":                  {kind: kInt, min: lim(0)},
	"ionice":                    {kind: kInt, min: lim(0), max: lim(8)},
	"bwlimit":                   {kind: kInt, min: lim(0)},
	"pigz":                      {kind: kInt},
	"dumpdir":                   {kind: kString},
	"tmpdir":                    {kind: kString},
	"script":                    {kind: kString},
	"job-id":                    {kind: kString},
	"prune-backups":             {kind: kString},
	"performance":               {kind: kString},
	"fleecing":                  {kind: kString},
	"pbs-change-detection-mode": {kind: kEnum, enum: []string{"legacy", "data", "metadata"}},
}

var notesVarRe = regexp.MustCompile(`\{\{([^\s{}]+)\}\}`)

// checkNotesTemplate is verify_notes_template.
func checkNotesTemplate(t string) string {
	if strings.Contains(t, "\n") {
		return "contains a line feed\n"
	}
	var bad []string
	for i := 0; i+1 < len(t); i++ {
		if t[i] == '\\' {
			if c := t[i+1]; c != 'n' && c != '\\' {
				bad = append(bad, fmt.Sprintf("escape sequence '\\%c' at char %d", c, i))
			}
			i++
		}
	}
	for _, m := range notesVarRe.FindAllStringSubmatchIndex(t, -1) {
		v := t[m[2]:m[3]]
		if v != "cluster" && v != "guestname" && v != "node" && v != "vmid" {
			bad = append(bad, fmt.Sprintf("variable '%s' at char %d", v, m[2]))
		}
	}
	if len(bad) > 0 {
		return "found unknown: " + strings.Join(bad, ", ") + "\n"
	}
	return ""
}

// backupJob is a validated vzdump request.
type backupJob struct {
	vmids    []int
	storage  string
	mode     string
	compress string
	notes    string
	protect  bool
	cmdline  string
}

func postVzdump(rq *request) (any, error) {
	p, tok, n := rq.p, rq.tok, rq.n
	if p.boolParam("stdout") {
		return nil, errParam(map[string]string{"stdout": "option is only allowed on the command line interface."})
	}
	if !tok.isRootPam() {
		for _, k := range []string{"tmpdir", "dumpdir", "script", "job-id"} {
			if _, ok := p[k]; ok {
				return nil, errParam(map[string]string{k: "Only root may set this option."})
			}
		}
		for _, k := range []string{"bwlimit", "ionice", "performance"} {
			if _, ok := p[k]; ok && !tok.can("/", "Sys.Modify") {
				return nil, errPerm("/", "Sys.Modify")
			}
		}
	}
	for _, k := range []string{"all", "exclude", "pool"} {
		if _, ok := p[k]; ok && p["vmid"] != "" && (k != "all" || p.boolParam("all")) {
			return nil, errParam(map[string]string{k: "option conflicts with option 'vmid'"})
		}
	}
	if t := p["notes-template"]; t != "" {
		if msg := checkNotesTemplate(t); msg != "" {
			return nil, errParam(map[string]string{"notes-template": msg})
		}
	}
	if p["vmid"] == "" && !p.boolParam("all") && p["exclude"] == "" && !p.boolParam("stop") && p["pool"] == "" {
		return nil, errParam(map[string]string{"vmid": "property is missing"})
	}
	job := &backupJob{storage: p["storage"], mode: p["mode"], compress: p["compress"],
		notes: p["notes-template"], protect: p.boolParam("protected")}
	if job.storage == "" {
		job.storage = "local"
	}
	if job.mode == "" {
		job.mode = "snapshot"
	}
	if job.compress == "" {
		job.compress = "0"
	}
	job.cmdline = vzdumpCommandLine(p)

	e := n.estate
	e.mu.Lock()
	if p.boolParam("all") || p["exclude"] != "" {
		excluded := splitList(p["exclude"])
		for _, g := range e.sortedGuests() {
			if g.node == n.name && !slices.Contains(excluded, strconv.Itoa(g.vmid)) {
				job.vmids = append(job.vmids, g.vmid)
			}
		}
	} else {
		for _, s := range splitList(p["vmid"]) {
			id, _ := strconv.Atoi(s)
			if g := e.guests[id]; g != nil && g.node != n.name {
				continue // that node's own vzdump backs it up
			}
			job.vmids = append(job.vmids, id) // unknown ids fail visibly in the task
		}
	}
	e.mu.Unlock()
	slices.Sort(job.vmids)
	if len(job.vmids) == 0 && !p.boolParam("all") {
		return "OK", nil // PVE's silent exit: the guests run elsewhere
	}
	if !tok.can("/storage/"+job.storage, "Datastore.AllocateSpace") {
		return nil, errPerm("/storage/"+job.storage, "Datastore.AllocateSpace")
	}
	id := ""
	if len(job.vmids) == 1 {
		id = vmidString(job.vmids[0])
	}
	return n.startTask(tok, "vzdump", id, 12, func(tl *taskLog) error { return n.runBackupJob(tl, tok, job) }), nil
}

// vzdumpCommandLine is PVE::VZDump::Common::command_line (keys sorted).
func vzdumpCommandLine(p params) string {
	parts := []string{"vzdump"}
	parts = append(parts, splitList(p["vmid"])...)
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if k == "vmid" || k == "stdout" || k == "job-id" || p[k] == "" {
			continue
		}
		parts = append(parts, "--"+k, shellQuote(p[k]))
	}
	return strings.Join(parts, " ")
}

var shellSafeRe = regexp.MustCompile(`^[a-zA-Z0-9_\-.,/:@=+]+$`)

// shellQuote quotes like PVE::Tools::shellquote.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if shellSafeRe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// runBackupJob is exec_backup: storage checks, then each guest.
func (n *Node) runBackupJob(tl *taskLog, tok *token, job *backupJob) error {
	info := func(format string, a ...any) bool { return tl.Log("INFO: "+format, a...) }
	n.estate.mu.Lock()
	st := n.storage(job.storage)
	n.estate.mu.Unlock()
	switch {
	case st == nil:
		return fmt.Errorf("could not activate storage '%s': storage '%s' does not exist\n"+
			"could not get storage information for '%s': storage '%s' does not exist",
			job.storage, job.storage, job.storage, job.storage)
	case !st.allows("backup"):
		return fmt.Errorf("could not get storage information for '%s': can't use storage '%s' for backups - wrong content type",
			job.storage, job.storage)
	}
	if !info("starting new backup job: %s", job.cmdline) {
		return errClosed
	}
	for _, vmid := range job.vmids {
		n.estate.mu.Lock()
		_, exists := n.estate.guests[vmid]
		n.estate.mu.Unlock()
		if exists && !tok.can(vmPath(vmid), "VM.Backup") {
			return errPerm(vmPath(vmid), "VM.Backup")
		}
	}
	failed := 0
	for _, vmid := range job.vmids {
		start := n.sim.now()
		err := n.backupGuest(tl, job, st, vmid)
		if errors.Is(err, errClosed) {
			return err
		}
		if err != nil {
			failed++
			tl.Log("ERROR: Backup of VM %d failed - %s", vmid, err)
			info("Failed at %s", n.sim.now().Format("2006-01-02 15:04:05"))
			continue
		}
		info("Finished Backup of VM %d (%s)", vmid, clockDuration(n.sim.now().Sub(start)))
		info("Backup finished at %s", n.sim.now().Format("2006-01-02 15:04:05"))
	}
	if failed > 0 {
		info("Backup job finished with errors")
		return fmt.Errorf("job errors")
	}
	info("Backup job finished successfully")
	return nil
}

// backupGuest is exec_backup_task for one container.
func (n *Node) backupGuest(tl *taskLog, job *backupJob, st *storage, vmid int) (err error) {
	info := func(format string, a ...any) error {
		if !tl.Log("INFO: "+format, a...) {
			return errClosed
		}
		return nil
	}
	e := n.estate
	e.mu.Lock()
	g := e.guests[vmid]
	if g == nil || g.node != n.name {
		e.mu.Unlock()
		return fmt.Errorf("unable to find VM '%d'", vmid)
	}
	if g.typ != LXC {
		e.mu.Unlock()
		return fmt.Errorf("cannot back up VM %d: the simulator backs up containers only", vmid)
	}
	running := g.status == "running"
	e.mu.Unlock()

	// A real backup takes seconds; with fast simulated tasks two could
	// start within one, so the name moves on to the next free second.
	backupTime := n.sim.now()
	ext := ".tar" + map[string]string{"0": "", "1": ".lzo", "lzo": ".lzo", "gzip": ".gz", "zstd": ".zst"}[job.compress]
	base := ""
	e.mu.Lock()
	for {
		base = fmt.Sprintf("vzdump-lxc-%d-%s", vmid, backupTime.Format("2006_01_02-15_04_05"))
		if _, taken := st.volume(job.storage + ":backup/" + base + ext); !taken {
			break
		}
		backupTime = backupTime.Add(time.Second)
	}
	e.mu.Unlock()
	target := "/var/lib/vz/dump/" + base + ext

	if err := info("Starting Backup of VM %d (lxc)", vmid); err != nil {
		return err
	}
	if err := info("Backup started at %s", backupTime.Format("2006-01-02 15:04:05")); err != nil {
		return err
	}
	status := map[bool]string{true: "running", false: "stopped"}[running]
	if err := info("status = %s", status); err != nil {
		return err
	}

	e.mu.Lock()
	if l := g.lock(); l != "" {
		e.mu.Unlock()
		return fmt.Errorf("CT is locked (%s)", l)
	}
	g.setLock("backup")
	conf := g.conf.clone()
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		if g.lock() == "backup" {
			g.setLock("")
		}
		e.mu.Unlock()
	}()

	mode := job.mode
	if !running {
		mode = "stop"
	}
	var lines []string
	lines = append(lines, "CT Name: "+conf["hostname"])
	for _, k := range volumeKeys(conf) {
		mp := parseMountPoint(k, conf[k])
		path := mp.opts["mp"]
		if k == "rootfs" {
			path = "/"
		}
		switch {
		case k == "rootfs" || (mp.kind == "volume" && mp.opts["backup"] == "1"):
			lines = append(lines, fmt.Sprintf("including mount point %s ('%s') in backup", k, path))
		case mp.kind != "volume":
			lines = append(lines, fmt.Sprintf("excluding %s mount point %s ('%s') from backup (not a volume)", mp.kind, k, path))
		default:
			lines = append(lines, fmt.Sprintf("excluding %s mount point %s ('%s') from backup (disabled)", mp.kind, k, path))
		}
	}
	if mode == "snapshot" && !n.snapshotFeature(conf, true) {
		lines = append(lines, "mode failure - some volumes do not support snapshots", "trying 'suspend' mode instead")
		mode = "suspend"
	}
	lines = append(lines, "backup mode: "+mode, "ionice priority: 7")
	for _, l := range lines {
		if err := info("%s", l); err != nil {
			return err
		}
	}

	restart := false
	switch mode {
	case "stop":
		if running {
			if err := info("stopping virtual guest"); err != nil {
				return err
			}
			e.mu.Lock()
			n.sim.setRunning(g, false)
			e.mu.Unlock()
			restart = true
		}
	case "suspend":
		tmp := fmt.Sprintf("/var/lib/vz/dump/%s.tmp", base)
		from := fmt.Sprintf("/proc/%d/root/", 10000+vmid*13)
		for _, l := range []string{
			fmt.Sprintf("starting first sync %s to %s", from, tmp),
			fmt.Sprintf("first sync finished - transferred %s bytes in 2s", humanBytes(n.backupBytes(g))),
			"suspending guest",
			fmt.Sprintf("starting final sync %s to %s", from, tmp),
			"final sync finished - transferred 0 bytes in 0s",
			"resuming guest",
			"guest is online again after 1 seconds",
		} {
			if err := info("%s", l); err != nil {
				return err
			}
		}
	case "snapshot":
		if err := info("create storage snapshot 'vzdump'"); err != nil {
			return err
		}
		if err := n.vzdumpSnapshot(tl, g, true); err != nil {
			return err
		}
	}

	// The archive: the container's files as they are now.
	data := filepath.Join(n.sim.dir, "nodes", n.name, "dump", base+ext)
	_ = os.RemoveAll(data)
	copyErr := copyTree(g.dir, data)
	written := n.backupBytes(g)
	size := written * map[string]int64{"0": 100, "1": 50, "lzo": 50, "gzip": 40, "zstd": 35}[job.compress] / 100
	steps := []string{fmt.Sprintf("creating vzdump archive '%s'", target)}
	if copyErr == nil {
		steps = append(steps, fmt.Sprintf("Total bytes written: %d (%s, 180MiB/s)", written, humanBytes(written)),
			"archive file size: "+vzdumpSize(size))
	}
	for _, l := range steps {
		if err := info("%s", l); err != nil {
			return err
		}
	}
	if mode == "snapshot" {
		defer func() {
			if cerr := n.vzdumpSnapshot(tl, g, false); err == nil && cerr != nil {
				err = cerr
			}
		}()
	}
	if restart {
		defer func() {
			if info("restarting vm") != nil {
				return
			}
			e.mu.Lock()
			if g.status != "running" {
				n.sim.setRunning(g, true)
			}
			e.mu.Unlock()
			_ = info("guest is online again after %d seconds", max(1, int(n.sim.opts.TaskDuration/time.Second)))
		}()
	}
	if copyErr != nil {
		_ = os.RemoveAll(data)
		return fmt.Errorf("command 'tar cpf - --totals' failed: %v", copyErr)
	}
	volid := job.storage + ":backup/" + base + ext
	v := volume{volid: volid, content: "backup", format: strings.TrimPrefix(ext, "."), size: size,
		ctime: backupTime.Unix(), vmid: vmid, subtype: "lxc", protected: job.protect,
		archive: &archive{conf: archiveConf(conf), dir: data}}
	if job.notes != "" {
		if err := info("adding notes to backup"); err != nil {
			return err
		}
		v.notes = n.notesFor(job.notes, conf["hostname"], vmid)
	}
	if job.protect {
		if err := info("marking backup as protected"); err != nil {
			return err
		}
	}
	e.mu.Lock()
	if old, had := st.volume(volid); had {
		st.used -= old.size
	}
	st.used += size
	st.addVolume(v)
	e.mu.Unlock()
	return nil
}

// vzdumpSnapshot takes (or, after the archive, drops) the temporary
// "vzdump" snapshot; the backup lock steps aside meanwhile, as in PVE.
func (n *Node) vzdumpSnapshot(tl *taskLog, g *guest, create bool) error {
	e := n.estate
	e.mu.Lock()
	g.setLock("")
	e.mu.Unlock()
	var err error
	if create {
		err = n.createSnapshot(tl, g.vmid, "vzdump", "vzdump backup snapshot")
	} else if tl.Log("INFO: cleanup temporary 'vzdump' snapshot") {
		e.mu.Lock()
		snap := g.snapshots["vzdump"]
		e.mu.Unlock()
		if snap != nil {
			err = n.dropSnapshot(tl, g, "vzdump", n.backupVolumes(snap))
		}
	} else {
		err = errClosed
	}
	e.mu.Lock()
	if g.lock() == "" {
		g.setLock("backup")
	}
	e.mu.Unlock()
	return err
}

// backupVolumes are the volumes a backup includes: rootfs and mount points
// with backup=1.
func (n *Node) backupVolumes(c ctConf) []string {
	var out []string
	for _, k := range volumeKeys(c) {
		mp := parseMountPoint(k, c[k])
		if mp.kind == "volume" && (k == "rootfs" || mp.opts["backup"] == "1") {
			out = append(out, mp.volume)
		}
	}
	return out
}

// backupBytes is what tar reads from a container: its used space.
func (n *Node) backupBytes(g *guest) int64 {
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	return n.sim.usage(g).disk + treeSize(g.dir)
}

// archiveConf is what assemble writes to the archive's pct.conf.
func archiveConf(c ctConf) ctConf {
	out := c.clone()
	for _, k := range []string{"lock", "parent"} {
		delete(out, k)
	}
	return out
}

// notesFor renders a notes template ({{guestname}}, {{vmid}}, {{node}}, {{cluster}}).
func (n *Node) notesFor(tmpl, hostname string, vmid int) string {
	cluster := n.estate.name
	if n.estate.standalone {
		cluster = "standalone node"
	}
	vars := map[string]string{"guestname": hostname, "vmid": strconv.Itoa(vmid), "node": n.name, "cluster": cluster}
	tmpl = strings.NewReplacer(`\\`, `\`, `\n`, "\n").Replace(tmpl)
	return notesVarRe.ReplaceAllStringFunc(tmpl, func(m string) string {
		if v, ok := vars[m[2:len(m)-2]]; ok {
			return v
		}
		return m
	})
}

// vzdumpSize is VZDump::format_size.
func vzdumpSize(n int64) string {
	kb := float64(n) / 1024
	if kb < 1024 {
		return fmt.Sprintf("%dKB", int64(kb))
	}
	mb := kb / 1024
	if mb < 1024 {
		return fmt.Sprintf("%dMB", int64(mb))
	}
	gb := mb / 1024
	if gb < 1024 {
		return fmt.Sprintf("%.2fGB", gb)
	}
	return fmt.Sprintf("%.2fTB", gb/1024)
}

// humanBytes is how tar --totals and rsync -h print sizes.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// clockDuration is VZDump::format_time: HH:MM:SS.
func clockDuration(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// backupVolume finds a backup volume on this node; the caller holds estate.mu.
func (n *Node) backupVolume(volid string) (*storage, volume, bool) {
	sid, _, _ := strings.Cut(volid, ":")
	st := n.storage(sid)
	if st == nil {
		return nil, volume{}, false
	}
	v, ok := st.volume(volid)
	return st, v, ok && v.content == "backup"
}

// errRestorePerm is raise_perm_exc() without a detail.
var errRestorePerm = errStatus(http.StatusForbidden, "Permission check failed")
