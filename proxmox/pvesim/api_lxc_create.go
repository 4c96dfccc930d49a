package pvesim

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// createSchema is the part of POST /nodes/{node}/lxc's schema Corral and its
// users touch; other PVE parameters are accepted and ignored where harmless.
var createSchema = func() schema {
	s := schema{
		"vmid": {kind: kVMID, required: true}, "ostemplate": {kind: kString, required: true, maxLen: 255}, "hostname": {kind: kDNS, maxLen: 255},
		"storage": {kind: kStorageID}, "rootfs": {kind: kString}, "cores": {kind: kInt, min: lim(1), max: lim(8192)},
		"cpulimit": {kind: kNumber, min: lim(0), max: lim(8192)}, "cpuunits": {kind: kInt, min: lim(0), max: lim(500000)},
		"memory": {kind: kInt, min: lim(16)}, "swap": {kind: kInt, min: lim(0)},
		"password": {kind: kString, minLen: 5}, "ssh-public-keys": {kind: kString},
		"unprivileged": {kind: kBool}, "features": {kind: kString}, "start": {kind: kBool},
		"tags": {kind: kString}, "nameserver": {kind: kString}, "searchdomain": {kind: kString},
		"onboot": {kind: kBool}, "description": {kind: kString, maxLen: 8192}, "protection": {kind: kBool},
		"console": {kind: kBool}, "tty": {kind: kInt, min: lim(0), max: lim(6)}, "pool": {kind: kString},
		"unique": {kind: kBool}, "force": {kind: kBool}, "timezone": {kind: kString},
		"restore": {kind: kBool}, "bwlimit": {kind: kNumber, min: lim(0)}, "ignore-unpack-errors": {kind: kBool},
		"ha-managed": {kind: kBool}, "startup": {kind: kString, format: formatStartup},
		"ostype": {kind: kEnum, enum: []string{"debian", "devuan", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine", "gentoo", "nixos", "unmanaged"}},
		"arch":   {kind: kEnum, enum: []string{"amd64", "i386", "arm64", "armhf", "riscv32", "riscv64"}},
		"cmode":  {kind: kEnum, enum: []string{"shell", "console", "tty"}},
	}
	for i := 0; i < 32; i++ {
		s[fmt.Sprintf("net%d", i)] = prop{kind: kString}
	}
	return s
}()

var (
	tagRe    = regexp.MustCompile(`(?i)^[a-z0-9_][a-z0-9_\-+.]*$`)
	netKeyRe = regexp.MustCompile(`^net\d+$`)
)

// privFor is the privilege a create/config option needs (container
// check_ct_modify_config_perm).
func privFor(key string) string {
	switch {
	case key == "cores" || key == "cpulimit" || key == "cpuunits":
		return "VM.Config.CPU"
	case key == "memory" || key == "swap":
		return "VM.Config.Memory"
	case netKeyRe.MatchString(key) || key == "hostname" || key == "nameserver" || key == "searchdomain":
		return "VM.Config.Network"
	case key == "rootfs":
		return "VM.Config.Disk"
	}
	return "VM.Config.Options"
}

// createCheck is a validated create request.
type createCheck struct {
	g        *guest
	conf     ctConf // the config vzcreate writes at its end (rootfs added then)
	rootSID  string // storage of the root disk
	rootSize int64
	template string // file name of the template
	keys     string
	password bool
	start    bool
}

func postLXCCreate(rq *request) (any, error) {
	if rq.p.boolParam("restore") {
		return postLXCRestore(rq)
	}
	if err := rq.checkVMIDUnused(); err != nil {
		return nil, err
	}
	c, err := rq.checkCreate()
	if err != nil {
		return nil, err
	}
	n, s, e := rq.n, rq.n.sim, rq.n.estate
	e.mu.Lock()
	if old := e.guests[c.g.vmid]; old != nil {
		e.mu.Unlock()
		return nil, errStatus(http.StatusInternalServerError, "%s %d already exists on node '%s'", old.kindWord(), old.vmid, old.node)
	}
	dir, derr := s.makeGuestDir(n, c.g.vmid)
	if derr != nil {
		e.mu.Unlock()
		return nil, errStatus(http.StatusInternalServerError, "unable to create CT %d - %s", c.g.vmid, derr)
	}
	c.g.dir = dir
	e.guests[c.g.vmid] = c.g
	e.mu.Unlock()

	return n.startTask(rq.tok, "vzcreate", vmidString(c.g.vmid), 10, n.createWork(rq.tok, c)), nil
}

// createWork is the vzcreate worker: disk, archive, keys; then optional start.
func (n *Node) createWork(tok *token, c *createCheck) func(tl *taskLog) error {
	g := c.g
	return func(tl *taskLog) error {
		n.estate.mu.Lock()
		vol := n.storage(c.rootSID).allocDisk(g.vmid, c.rootSize, n.sim.now())
		n.estate.mu.Unlock()
		c.conf["rootfs"] = vol + ",size=" + formatSize(c.rootSize)
		lines := append(mkfsLines(vol, c.rootSize),
			fmt.Sprintf("extracting archive '/var/lib/vz/template/cache/%s'", c.template),
			fmt.Sprintf("Total bytes read: %d (%dMiB, 289MiB/s)", templateSize(c.template)*3, templateSize(c.template)*3>>20),
			"Detected container architecture: "+c.conf["arch"],
			"Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...",
			fmt.Sprintf("done: SHA256:%s root@%s", strings.ReplaceAll(randUUID(), "-", ""), c.conf["hostname"]),
		)
		for _, l := range lines {
			if !tl.Log("%s", l) {
				n.abortCreate(g)
				return fmt.Errorf("unable to create CT %d - interrupted by signal", g.vmid)
			}
		}
		if err := seedGuestDir(g.dir, c.conf["hostname"], c.keys); err != nil {
			n.abortCreate(g)
			return fmt.Errorf("unable to create CT %d - %w", g.vmid, err)
		}
		n.estate.mu.Lock()
		g.conf = c.conf
		g.statsSeen = true
		n.estate.mu.Unlock()
		if c.start {
			// Like PVE, vzcreate forks a separate vzstart task and does not wait for it.
			n.startTask(tok, "vzstart", vmidString(g.vmid), 2, n.startWork(g.vmid))
		}
		return nil
	}
}

func (n *Node) abortCreate(g *guest) {
	n.estate.mu.Lock()
	if n.estate.guests[g.vmid] == g {
		delete(n.estate.guests, g.vmid)
	}
	n.freeDisks(g.vmid)
	n.estate.mu.Unlock()
	_ = os.RemoveAll(g.dir)
}

// freeDisks destroys every disk of vmid on this node; the caller holds estate.mu.
func (n *Node) freeDisks(vmid int) {
	for _, st := range n.storages {
		for name, d := range st.disks {
			if d.vmid == vmid {
				delete(st.disks, name)
			}
		}
	}
}

// mkfsLines is what allocating and formatting a container volume prints.
func mkfsLines(volid string, size int64) []string {
	blocks := size / 4096
	return []string{
		fmt.Sprintf("  Logical volume \"%s\" created.", lvName(volid)),
		fmt.Sprintf("Creating filesystem with %d 4k blocks and %d inodes", blocks, blocks/4),
		"Filesystem UUID: " + randUUID(),
		"Superblock backups stored on blocks: ",
		"\t32768, 98304, 163840, 229376, 294912, 819200, 884736, 1605632",
	}
}

// seedGuestDir writes what vzcreate leaves in a fresh root: hostname and root's keys.
func seedGuestDir(dir, hostname, keys string) error {
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "hostname"), []byte(hostname+"\n"), 0o644); err != nil {
		return err
	}
	if keys == "" {
		return nil
	}
	sshDir := filepath.Join(dir, "root", ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(sshDir, "authorized_keys"), []byte(strings.TrimRight(keys, "\n")+"\n"), 0o600)
}

// checkCreate does everything PVE checks before forking the vzcreate worker.
func (rq *request) checkCreate() (*createCheck, error) {
	p, n, tok := rq.p, rq.n, rq.tok
	vmid := p.intParam("vmid", 0)
	if !tok.can(vmPath(vmid), "VM.Allocate") {
		return nil, errPerm(vmPath(vmid), "VM.Allocate")
	}
	for k := range p {
		if k == "vmid" || k == "node" || k == "ostemplate" || k == "storage" || k == "password" ||
			k == "ssh-public-keys" || k == "start" || k == "pool" || k == "unique" || k == "force" || k == "unprivileged" {
			continue
		}
		if priv := privFor(k); !tok.can(vmPath(vmid), priv) {
			return nil, errPerm(vmPath(vmid), priv)
		}
	}
	if pool := p["pool"]; pool != "" {
		return nil, errStatus(http.StatusForbidden, "Permission check failed (pool '%s' does not exist)", pool)
	}
	unpriv := true
	if v, ok := p["unprivileged"]; ok {
		unpriv = v == "1"
	}
	if !unpriv && !tok.can("/", "Sys.Modify") {
		return nil, errPerm("/", "Sys.Modify")
	}
	conf := ctConf{"arch": "amd64", "memory": strconv.Itoa(p.intParam("memory", 512)),
		"swap": strconv.Itoa(p.intParam("swap", 512)), "hostname": p["hostname"]}
	if conf["hostname"] == "" {
		conf["hostname"] = fmt.Sprintf("CT%d", vmid)
	}
	for _, k := range []string{"cores", "cpulimit", "cpuunits", "nameserver", "searchdomain", "description",
		"arch", "startup", "timezone", "tty", "cmode", "console"} {
		if v, ok := p[k]; ok {
			conf[k] = v
		}
	}
	for _, k := range []string{"onboot", "protection"} {
		if p.boolParam(k) {
			conf[k] = "1"
		}
	}
	if unpriv {
		conf["unprivileged"] = "1"
	}
	g := newGuest(vmid, LXC, n.name, ctConf{"lock": "create"})
	g.created = n.sim.now()
	c := &createCheck{g: g, conf: conf}

	if err := rq.checkFeatures(conf, unpriv); err != nil {
		return nil, err
	}
	if tags, ok := p["tags"]; ok {
		v, err := checkTags(tags)
		if err != nil {
			return nil, err
		}
		if v != "" {
			conf["tags"] = v
		}
	}
	if err := rq.checkNets(conf, vmid); err != nil {
		return nil, err
	}
	if err := rq.checkRootfs(c); err != nil {
		return nil, err
	}
	tmpl, err := rq.checkTemplate(p["ostemplate"])
	if err != nil {
		return nil, err
	}
	conf["ostype"] = p["ostype"]
	if conf["ostype"] == "" {
		conf["ostype"] = osTypeOf(tmpl)
	}
	keys := p["ssh-public-keys"]
	for _, line := range strings.Split(keys, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil {
			return nil, errStatus(http.StatusInternalServerError, "SSH public key validation error")
		}
	}
	c.template, c.keys, c.password, c.start = tmpl, keys, p["password"] != "", p.boolParam("start")
	return c, nil
}

// checkTags validates a tag list and returns PVE's stored form.
func checkTags(tags string) (string, error) {
	for _, t := range strings.FieldsFunc(tags, func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
		if !tagRe.MatchString(t) {
			return "", errParam(map[string]string{"tags": "invalid format - invalid characters in tag\n"})
		}
	}
	return normaliseTags(tags), nil
}

func (rq *request) checkFeatures(conf ctConf, unprivileged bool) error {
	v, ok := rq.p["features"]
	if !ok {
		return nil
	}
	f, problems := parsePropString("features", v, "", featuresFormat)
	if len(problems) > 0 {
		return errParam(map[string]string{"features": propError(problems)})
	}
	// A token is never root@pam: only nesting may be set, and only on unprivileged CTs.
	for k := range f {
		if k != "nesting" {
			return errStatus(http.StatusForbidden, "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)")
		}
	}
	if !unprivileged {
		return errStatus(http.StatusForbidden, "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)")
	}
	conf["features"] = f.String("")
	return nil
}

func (rq *request) checkNets(conf ctConf, vmid int) error {
	for k, v := range rq.p {
		if !netKeyRe.MatchString(k) {
			continue
		}
		net, problems := parsePropString(k, v, "", netFormat)
		if len(problems) > 0 {
			return errParam(map[string]string{k: propError(problems)})
		}
		if br := net["bridge"]; br != "" {
			if !rq.n.hasBridge(br) {
				return errStatus(http.StatusInternalServerError, "bridge '%s' does not exist", br)
			}
			zone := "/sdn/zones/localnetwork/" + br
			if !rq.tok.can(zone, "SDN.Use") {
				return errPerm(zone, "SDN.Use")
			}
		}
		idx, _ := strconv.Atoi(strings.TrimPrefix(k, "net"))
		conf[k] = rq.n.sim.normaliseNet(net, vmid, idx)
	}
	return nil
}

func (rq *request) checkRootfs(c *createCheck) error {
	p, n := rq.p, rq.n
	storeID := p["storage"]
	if storeID == "" {
		storeID = "local"
	}
	vol, size := storeID, "4"
	if v, ok := p["rootfs"]; ok {
		rf, problems := parsePropString("rootfs", v, "volume", rootfsFormat)
		if len(problems) > 0 {
			return errParam(map[string]string{"rootfs": propError(problems)})
		}
		vol = rf["volume"]
		if sid, sz, ok := strings.Cut(vol, ":"); ok {
			vol, size = sid, sz
		} else {
			vol, size = storeID, vol
		}
	}
	gib, err := strconv.ParseFloat(size, 64)
	if err != nil || gib <= 0 {
		return errStatus(http.StatusInternalServerError, "unable to parse volume size '%s'", size)
	}
	n.estate.mu.Lock()
	st := n.storage(vol)
	n.estate.mu.Unlock()
	if st == nil {
		return errStatus(http.StatusInternalServerError, "storage '%s' does not exist", vol)
	}
	if !st.allows("rootdir") {
		return errParam(map[string]string{"storage": fmt.Sprintf("storage '%s' does not support container directories", vol)})
	}
	if !rq.tok.can("/storage/"+vol, "Datastore.AllocateSpace") {
		return errPerm("/storage/"+vol, "Datastore.AllocateSpace")
	}
	// create_disks allocates whole MiB: int(GiB * 1024) * 1024 KiB.
	c.rootSID, c.rootSize = vol, int64(gib*1024)<<20
	return nil
}

// checkTemplate resolves "storage:vztmpl/file" to the file name.
func (rq *request) checkTemplate(volid string) (string, error) {
	sid, rest, ok := strings.Cut(volid, ":")
	if !ok {
		return "", errStatus(http.StatusInternalServerError, "can't find file '%s'", volid)
	}
	n := rq.n
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	st := n.storage(sid)
	if st == nil {
		return "", errStatus(http.StatusInternalServerError, "storage '%s' does not exist", sid)
	}
	if !canSeeStorage(rq.tok, sid) {
		return "", errPerm("/storage/"+sid, "Datastore.Audit", "Datastore.AllocateSpace")
	}
	file, ok := strings.CutPrefix(rest, "vztmpl/")
	if !ok {
		return "", errStatus(http.StatusInternalServerError, "unable to use volume %s - content type needs to be 'vztmpl'", volid)
	}
	if _, ok := st.volume(volid); !ok {
		return "", errStatus(http.StatusInternalServerError, "can't find file '%s'", volid)
	}
	return file, nil
}

// osTypeOf guesses ostype from the template name, as PVE does from /etc/os-release.
func osTypeOf(template string) string {
	for _, os := range []string{"debian", "ubuntu", "alpine", "centos", "fedora", "archlinux", "opensuse", "gentoo", "devuan", "nixos"} {
		if strings.HasPrefix(template, os) {
			return os
		}
	}
	if strings.HasPrefix(template, "rockylinux") || strings.HasPrefix(template, "almalinux") {
		return "centos"
	}
	return "unmanaged"
}

// storage finds a storage of this node; the caller holds estate.mu.
func (n *Node) storage(id string) *storage {
	for _, s := range n.storages {
		if s.id == id {
			return s
		}
	}
	return nil
}

// checkVMIDUnused is cluster check_vmid_unused: VMIDs are shared by CTs and VMs.
func (rq *request) checkVMIDUnused() error {
	vmid := rq.p.intParam("vmid", 0)
	if !rq.tok.can(vmPath(vmid), "VM.Allocate") {
		return errPerm(vmPath(vmid), "VM.Allocate")
	}
	rq.n.estate.mu.Lock()
	defer rq.n.estate.mu.Unlock()
	if old := rq.n.estate.guests[vmid]; old != nil {
		return errStatus(http.StatusInternalServerError, "%s %d already exists on node '%s'", old.kindWord(), vmid, old.node)
	}
	return nil
}
