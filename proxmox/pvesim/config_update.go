package pvesim

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// configKeySchema are the container options of pve-container's
// $confdesc that PUT …/config (and `pct set`) accept.
var configKeySchema = func() schema {
	s := schema{
		"arch":         {kind: kEnum, enum: []string{"amd64", "i386", "arm64", "armhf", "riscv32", "riscv64"}},
		"cmode":        {kind: kEnum, enum: []string{"shell", "console", "tty"}},
		"console":      {kind: kBool},
		"cores":        {kind: kInt, min: lim(1), max: lim(8192)},
		"cpulimit":     {kind: kNumber, min: lim(0), max: lim(8192)},
		"cpuunits":     {kind: kInt, min: lim(0), max: lim(500000)},
		"debug":        {kind: kBool},
		"description":  {kind: kString, maxLen: 8192},
		"entrypoint":   {kind: kString},
		"env":          {kind: kString},
		"features":     {kind: kString, format: formatPropString("features", "", featuresFormat)},
		"hookscript":   {kind: kString},
		"hostname":     {kind: kDNS, maxLen: 255},
		"lock":         {kind: kEnum, enum: lockValues},
		"memory":       {kind: kInt, min: lim(16)},
		"nameserver":   {kind: kString, format: formatIPList},
		"onboot":       {kind: kBool},
		"ostype":       {kind: kEnum, enum: []string{"debian", "devuan", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine", "gentoo", "nixos", "unmanaged"}},
		"protection":   {kind: kBool},
		"rootfs":       {kind: kString, format: formatPropString("rootfs", "volume", rootfsFormat)},
		"searchdomain": {kind: kString, format: formatDNSList},
		"startup":      {kind: kString, format: formatStartup},
		"swap":         {kind: kInt, min: lim(0)},
		"tags":         {kind: kString, format: formatTagList},
		"template":     {kind: kBool},
		"timezone":     {kind: kString},
		"tty":          {kind: kInt, min: lim(0), max: lim(6)},
		"unprivileged": {kind: kBool},
	}
	for i := 0; i < maxNets; i++ {
		k := fmt.Sprintf("net%d", i)
		s[k] = prop{kind: kString, format: formatPropString(k, "", netFormat)}
	}
	for i := 0; i < maxMountPoints; i++ {
		k := fmt.Sprintf("mp%d", i)
		s[k] = prop{kind: kString, format: formatPropString(k, "volume", mpFormat)}
	}
	for i := 0; i < maxUnused; i++ {
		s[fmt.Sprintf("unused%d", i)] = prop{kind: kString}
	}
	return s
}()

// lockValues are the config lock values of pve-container's schema.
var lockValues = []string{"backup", "create", "destroyed", "disk", "fstrim", "migrate", "mounted", "rollback", "snapshot", "snapshot-delete"}

// updateSchema is PUT /nodes/{node}/lxc/{vmid}/config.
var updateSchema = func() schema {
	s := maps.Clone(configKeySchema)
	s["delete"] = prop{kind: kString, format: formatConfigIDList}
	s["revert"] = prop{kind: kString, format: formatConfigIDList}
	s["digest"] = prop{kind: kString, maxLen: 40}
	return s
}()

// configPrivs are the privileges of which update_vm needs any one.
var configPrivs = []string{"VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"}

// fastplug are the options a running container takes at once
// ($LXC_FASTPLUG_OPTIONS); hotplugged are those applied live by the code
// of vmconfig_hotplug_pending. Everything else waits for a restart.
var fastplug = map[string]bool{"description": true, "onboot": true, "startup": true, "protection": true,
	"hostname": true, "hookscript": true, "cores": true, "tags": true, "lock": true}

var (
	mpKeyRe     = regexp.MustCompile(`^mp\d+$`)
	unusedKeyRe = regexp.MustCompile(`^unused\d+$`)
	newDiskRe   = regexp.MustCompile(`^([^:\s]+):(\d+(\.\d+)?)$`)
	ownerRe     = regexp.MustCompile(`^(?:base|vm)-(\d+)-`)
	// vmconfig_hotplug_pending matches one digit only, so deleting net10
	// and above waits for a restart.
	hotDeleteNetRe = regexp.MustCompile(`^net\d$`)
)

// configUpdate is one PUT …/config or `pct set`: values to set, keys to
// delete or revert, and the digest the caller saw.
type configUpdate struct {
	set            ctConf
	delete, revert []string
	digest         string
	any            bool // anything but the digest was given
}

func updateFromParams(p params) configUpdate {
	u := configUpdate{set: ctConf{}}
	for k, v := range p {
		switch k {
		case "node", "vmid":
		case "digest":
			u.digest = v
		case "delete":
			u.delete, u.any = splitList(v), true
		case "revert":
			u.revert, u.any = splitList(v), true
		default:
			u.set[k], u.any = v, true
		}
	}
	return u
}

func putLXCConfig(rq *request) (any, error) {
	if err := rq.needAnyVM(configPrivs...); err != nil {
		return nil, err
	}
	return nil, rq.n.updateConfig(rq.tok, rq.vmid(), updateFromParams(rq.p))
}

// needAnyVM checks that the token holds one of privs on /vms/{vmid}.
func (rq *request) needAnyVM(privs ...string) error {
	if slices.ContainsFunc(privs, func(p string) bool { return rq.tok.can(vmPath(rq.vmid()), p) }) {
		return nil
	}
	return errPerm(vmPath(rq.vmid()), privs...)
}

// updateConfig is update_vm: under the config lock, check lock, digest and
// privileges, then write the change as pending and apply what the
// container's state allows (everything when stopped).
func (n *Node) updateConfig(tok *token, vmid int, u configUpdate) error {
	if !u.any {
		return errStatus(http.StatusInternalServerError, "no options specified")
	}
	release, err := n.lockConfig(vmid)
	if err != nil {
		return err
	}
	defer release()
	e := n.estate
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.guests[vmid]
	if g == nil || g.node != n.name || g.typ != LXC {
		return errNoConfig(n.name, vmid)
	}
	if l := g.lock(); l != "" {
		return errStatus(http.StatusInternalServerError, "CT is locked (%s)", l)
	}
	if u.digest != "" && u.digest != g.digest() {
		return errStatus(http.StatusInternalServerError, "detected modified configuration - file changed by other user? Try again.")
	}
	if err := n.checkConfigPerms(tok, g, u); err != nil {
		return err
	}
	for _, opt := range u.revert {
		if _, ok := configKeySchema[opt]; !ok {
			return errParam(map[string]string{"revert": fmt.Sprintf("unknown option '%s'", opt)})
		}
		if _, ok := u.set[opt]; ok {
			return errParam(map[string]string{"revert": fmt.Sprintf("you can't use '-%s' and '-revert %s' at the same time", opt, opt)})
		}
	}
	for _, opt := range u.delete {
		if _, ok := configKeySchema[opt]; !ok {
			return errParam(map[string]string{"delete": fmt.Sprintf("unknown option '%s'", opt)})
		}
		if _, ok := u.set[opt]; ok {
			return errParam(map[string]string{"delete": fmt.Sprintf("you can't use '-%s' and -delete %s' at the same time", opt, opt)})
		}
		if slices.Contains(u.revert, opt) {
			return errParam(map[string]string{"delete": fmt.Sprintf("you can't use '-delete %s' and '-revert %s' at the same time", opt, opt)})
		}
	}
	return n.applyUpdate(g, u)
}

// checkConfigPerms is check_ct_modify_config_perm; root@pam may do anything.
func (n *Node) checkConfigPerms(tok *token, g *guest, u configUpdate) error {
	if tok.isRootPam() {
		return nil
	}
	path := vmPath(g.vmid)
	need := func(priv string) error {
		if !tok.can(path, priv) {
			return errPerm(path, priv)
		}
		return nil
	}
	check := func(opt, value string, deleting bool) error {
		switch {
		case opt == "cores" || opt == "cpuunits" || opt == "cpulimit":
			return need("VM.Config.CPU")
		case opt == "rootfs" || mpKeyRe.MatchString(opt):
			if err := need("VM.Config.Disk"); err != nil || deleting {
				return err
			}
			return n.checkVolumePerm(tok, g.vmid, parseMountPoint(opt, value))
		case opt == "memory" || opt == "swap":
			return need("VM.Config.Memory")
		case netKeyRe.MatchString(opt):
			if err := need("VM.Config.Network"); err != nil {
				return err
			}
			for _, v := range []string{g.conf[opt], value} {
				if err := checkBridgeAccess(tok, v); err != nil {
					return err
				}
			}
			return nil
		case opt == "nameserver" || opt == "searchdomain" || opt == "hostname":
			return need("VM.Config.Network")
		case opt == "features":
			return checkFeaturePerm(tok, g, value, deleting)
		case opt == "hookscript":
			return errStatus(http.StatusForbidden, "Permission check failed (changing the hookscript is only allowed for root@pam)")
		}
		return need("VM.Config.Options")
	}
	for _, opt := range append(slices.Clone(u.delete), u.revert...) {
		if err := check(opt, "", true); err != nil {
			return err
		}
	}
	for _, opt := range slices.Sorted(maps.Keys(u.set)) {
		if err := check(opt, u.set[opt], false); err != nil {
			return err
		}
	}
	return nil
}

// checkVolumePerm is the mount point part of the permission check: only
// root@pam may bind-mount host paths or pass devices.
func (n *Node) checkVolumePerm(tok *token, vmid int, mp mountPoint) error {
	if mp.kind != "volume" {
		return errStatus(http.StatusForbidden, "Permission check failed (mount point type %s is only allowed for root@pam)", mp.kind)
	}
	sid, name, _ := strings.Cut(mp.volume, ":")
	if newDiskRe.MatchString(mp.volume) {
		if !tok.can("/storage/"+sid, "Datastore.AllocateSpace") {
			return errPerm("/storage/"+sid, "Datastore.AllocateSpace")
		}
		return nil
	}
	if tok.can("/storage/"+sid, "Datastore.Allocate") {
		return nil
	}
	if m := ownerRe.FindStringSubmatch(name); m != nil {
		owner, _ := strconv.Atoi(m[1])
		if owner == vmid {
			return nil
		}
		if !tok.can("/storage/"+sid, "Datastore.Audit") {
			return errPerm("/storage/"+sid, "Datastore.Audit")
		}
		if !tok.can(vmPath(owner), "VM.Config.Disk") {
			return errPerm(vmPath(owner), "VM.Config.Disk")
		}
		return nil
	}
	return errStatus(http.StatusInternalServerError, "missing privileges to access %s", mp.volume)
}

// checkBridgeAccess is SDN.Use on the bridge (and its VLAN) of a net[n] value.
func checkBridgeAccess(tok *token, value string) error {
	if value == "" {
		return nil
	}
	net, _ := parsePropString("net", value, "", netFormat)
	br := net["bridge"]
	if br == "" {
		return nil
	}
	zone := "/sdn/zones/localnetwork/" + br
	if tag := net["tag"]; tag != "" {
		zone += "/" + tag
	}
	if !tok.can(zone, "SDN.Use") {
		return errPerm(zone, "SDN.Use")
	}
	return nil
}

// checkFeaturePerm: a token may only toggle nesting (needing VM.Allocate),
// and only on unprivileged containers.
func checkFeaturePerm(tok *token, g *guest, value string, deleting bool) error {
	if !g.unprivileged() {
		return errStatus(http.StatusForbidden, "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)")
	}
	old, _ := parsePropString("features", g.conf["features"], "", featuresFormat)
	var nesting, other bool
	if deleting {
		nesting = len(old) == 1 && old["nesting"] != ""
		other = len(old) > 0 && !nesting
	} else {
		f, _ := parsePropString("features", value, "", featuresFormat)
		for _, k := range slices.Concat(slices.Collect(maps.Keys(old)), slices.Collect(maps.Keys(f))) {
			if old[k] != f[k] {
				if k == "nesting" {
					nesting = true
				} else {
					other = true
				}
			}
		}
	}
	if other {
		return errStatus(http.StatusForbidden, "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)")
	}
	if nesting && !tok.can(vmPath(g.vmid), "VM.Allocate") {
		return errPerm(vmPath(g.vmid), "VM.Allocate")
	}
	return nil
}

// applyUpdate is update_pct_config and the hotplug/apply step after it.
// On any error nothing is kept, as PVE does not write the config then.
// The caller holds estate.mu.
func (n *Node) applyUpdate(g *guest, u configUpdate) error {
	saved := struct {
		conf, pending ctConf
		del           []string
	}{g.conf.clone(), g.pending.clone(), slices.Clone(g.pendingDelete)}
	disksBefore := n.diskSet(g.vmid)
	err := n.stageUpdate(g, u)
	if err != nil {
		g.conf, g.pending, g.pendingDelete = saved.conf, saved.pending, saved.del
		n.freeDisksExcept(g.vmid, disksBefore)
		return err
	}
	return nil
}

func (n *Node) stageUpdate(g *guest, u configUpdate) error {
	if g.pending == nil {
		g.pending = ctConf{}
	}
	for _, opt := range u.revert {
		delete(g.pending, opt)
		g.removePendingDelete(opt)
	}
	modified := map[string]bool{}
	for _, opt := range u.delete {
		if _, set := g.conf[opt]; !set {
			if _, pending := g.pending[opt]; !pending {
				continue // PVE warns "cannot delete 'x' - not set in current configuration!"
			}
		}
		modified[opt] = true
		switch {
		case opt == "memory" || opt == "rootfs" || opt == "ostype":
			return errStatus(http.StatusInternalServerError, "unable to delete required option '%s'", opt)
		case unusedKeyRe.MatchString(opt) || mpKeyRe.MatchString(opt):
			if g.protected() {
				return errStatus(http.StatusInternalServerError, "can't remove CT %d drive '%s' - protection mode enabled", g.vmid, opt)
			}
		case opt == "unprivileged":
			return errStatus(http.StatusInternalServerError, "unable to delete read-only option: '%s'", opt)
		}
		g.addPendingDelete(opt)
	}
	for _, opt := range slices.Sorted(maps.Keys(u.set)) {
		modified[opt] = true
		value := u.set[opt]
		switch {
		case opt == "rootfs" || mpKeyRe.MatchString(opt):
			if g.protected() {
				return errStatus(http.StatusInternalServerError, "can't update CT %d drive '%s' - protection mode enabled", g.vmid, opt)
			}
			if mp := parseMountPoint(opt, value); mp.kind == "volume" {
				sid, _, _ := strings.Cut(mp.volume, ":")
				st := n.storage(sid)
				if st == nil {
					return errStatus(http.StatusInternalServerError, "storage '%s' does not exist", sid)
				}
				if !st.allows("rootdir") {
					return errStatus(http.StatusInternalServerError, "storage '%s' does not allow content type 'rootdir' (Container)", sid)
				}
			}
		case opt == "nameserver" || opt == "searchdomain":
			value = strings.Join(splitList(value), " ")
		case opt == "unprivileged":
			return errStatus(http.StatusInternalServerError, "unable to modify read-only option: '%s'", opt)
		case opt == "tags":
			value = normaliseTags(value)
		case netKeyRe.MatchString(opt):
			net, _ := parsePropString(opt, value, "", netFormat)
			if mtu, _ := strconv.Atoi(net["mtu"]); mtu > bridgeMTU {
				return errStatus(http.StatusInternalServerError, "%s: MTU size '%d' is bigger than bridge MTU '%d'", opt, mtu, bridgeMTU)
			}
		}
		g.pending[opt] = value
		g.removePendingDelete(opt)
	}
	g.cleanupPending()
	var errs map[string]string
	if g.status == "running" {
		errs = n.hotplugPending(g, modified)
	} else {
		errs = n.applyPendingSelected(g, modified)
	}
	if len(errs) > 0 {
		return errParam(errs)
	}
	return nil
}

// bridgeMTU is the MTU of the simulated vmbr0.
const bridgeMTU = 1500

// errSkip leaves a pending change for the next start.
var errSkip = fmt.Errorf("skip")

// hotplugPending is vmconfig_hotplug_pending: what a running container
// takes live is applied, the rest stays pending.
func (n *Node) hotplugPending(g *guest, selection map[string]bool) map[string]string {
	errs := map[string]string{}
	for _, opt := range slices.Sorted(maps.Keys(g.pending)) {
		if selection[opt] && fastplug[opt] {
			g.conf[opt] = g.pending[opt]
			delete(g.pending, opt)
		}
	}
	for _, opt := range slices.Clone(g.pendingDelete) {
		if !selection[opt] {
			continue
		}
		switch {
		case fastplug[opt], opt == "swap", opt == "cpulimit", opt == "cpuunits":
		case unusedKeyRe.MatchString(opt):
			n.destroyUnlessUsed(g, g.conf[opt])
		case hotDeleteNetRe.MatchString(opt):
			g.box = nil // the address changes
		default:
			continue
		}
		delete(g.conf, opt)
		g.removePendingDelete(opt)
	}
	for _, opt := range slices.Sorted(maps.Keys(g.pending)) {
		if !selection[opt] {
			continue
		}
		var err error
		switch {
		case opt == "cpulimit" || opt == "cpuunits" || opt == "memory" || opt == "swap":
		case netKeyRe.MatchString(opt):
			err = n.hotplugNet(g, opt)
		case mpKeyRe.MatchString(opt):
			if _, exists := g.conf[opt]; exists {
				err = errSkip // no hotplug over an existing mount point
			} else {
				err = n.applyMountPoint(g, opt, true)
			}
		default:
			err = errSkip
		}
		if err == errSkip {
			continue
		}
		if err != nil {
			errs[opt] = fmt.Sprintf("unable to hotplug %s: %s\n", opt, err)
			continue
		}
		g.conf[opt] = g.pending[opt]
		delete(g.pending, opt)
	}
	return errs
}

// hotplugNet connects a changed interface of a running container.
func (n *Node) hotplugNet(g *guest, opt string) error {
	net, _ := parsePropString(opt, g.pending[opt], "", netFormat)
	if br := net["bridge"]; br != "" && !n.hasBridge(br) {
		return fmt.Errorf("bridge '%s' does not exist", br)
	}
	idx, _ := strconv.Atoi(strings.TrimPrefix(opt, "net"))
	g.pending[opt] = n.sim.normaliseNet(net, g.vmid, idx)
	g.box = nil // the sandbox picks up the new address when next opened
	return nil
}

// applyPending applies every pending change, as vm_start does first.
func (n *Node) applyPending(g *guest) {
	all := map[string]bool{}
	for k := range g.pending {
		all[k] = true
	}
	for _, k := range g.pendingDelete {
		all[k] = true
	}
	n.applyPendingSelected(g, all)
}

// applyPendingSelected is vmconfig_apply_pending for a stopped container.
func (n *Node) applyPendingSelected(g *guest, selection map[string]bool) map[string]string {
	errs := map[string]string{}
	for _, opt := range slices.Clone(g.pendingDelete) {
		if !selection[opt] {
			continue
		}
		old := g.conf[opt]
		delete(g.conf, opt)
		g.removePendingDelete(opt)
		switch {
		case mpKeyRe.MatchString(opt):
			if mp := parseMountPoint(opt, old); mp.kind == "volume" {
				g.addUnused(mp.volume)
			}
		case unusedKeyRe.MatchString(opt):
			n.destroyUnlessUsed(g, old)
		}
	}
	g.cleanupPending()
	for _, opt := range slices.Sorted(maps.Keys(g.pending)) {
		if !selection[opt] {
			continue
		}
		switch {
		case mpKeyRe.MatchString(opt):
			if err := n.applyMountPoint(g, opt, false); err != nil {
				errs[opt] = fmt.Sprintf("unable to apply pending change %s : %s\n", opt, err)
				continue
			}
		case netKeyRe.MatchString(opt):
			net, _ := parsePropString(opt, g.pending[opt], "", netFormat)
			idx, _ := strconv.Atoi(strings.TrimPrefix(opt, "net"))
			g.pending[opt] = n.sim.normaliseNet(net, g.vmid, idx)
			g.box = nil
		}
		g.conf[opt] = g.pending[opt]
		delete(g.pending, opt)
	}
	return errs
}

// applyMountPoint is apply_pending_mountpoint: allocate a new volume
// ("storage:GiB"), or take an existing volume or path; a replaced volume
// becomes an unused disk.
func (n *Node) applyMountPoint(g *guest, opt string, running bool) error {
	mp := parseMountPoint(opt, g.pending[opt])
	old, hadOld := g.conf[opt]
	if m := newDiskRe.FindStringSubmatch(mp.volume); mp.kind == "volume" && m != nil {
		gib, _ := strconv.ParseFloat(m[2], 64)
		size := int64(gib*1024) << 20
		st := n.storage(m[1])
		if size > st.availBytes() {
			return fmt.Errorf("no space left on storage '%s'", m[1])
		}
		mp.volume = st.allocDisk(g.vmid, size, n.sim.now())
		mp.opts["size"] = formatSize(size)
	} else {
		if running && hadOld {
			return errSkip
		}
		switch mp.kind {
		case "volume":
			sid, _, _ := strings.Cut(mp.volume, ":")
			d := n.storage(sid).diskOf(mp.volume)
			if d == nil {
				return fmt.Errorf("volume '%s' does not exist", mp.volume)
			}
			mp.opts["size"] = formatSize(d.size)
		case "bind":
			if running && !n.hostDirExists(mp.volume) {
				return fmt.Errorf("directory '%s' does not exist", mp.volume)
			}
		}
	}
	g.pending[opt] = mp.String(opt == "rootfs")
	if hadOld {
		if o := parseMountPoint(opt, old); o.kind == "volume" && o.volume != mp.volume {
			g.addUnused(o.volume)
		}
	}
	return nil
}

// hostDirExists reports whether a host path is a directory on the node.
func (n *Node) hostDirExists(path string) bool {
	root, err := os.OpenRoot(n.dir)
	if err != nil {
		return false
	}
	defer root.Close()
	fi, err := root.Stat(rootRel(path))
	return err == nil && fi.IsDir()
}

// destroyUnlessUsed frees a volume unless a snapshot still refers to it.
func (n *Node) destroyUnlessUsed(g *guest, volid string) {
	for _, snap := range g.snapshots {
		if slices.Contains(volumesOf(snap), volid) {
			return
		}
	}
	sid, name, _ := strings.Cut(volid, ":")
	if st := n.storage(sid); st != nil {
		delete(st.disks, name)
	}
}

// volumesOf lists the volume ids a config section mounts (rootfs, mp[n]).
func volumesOf(c ctConf) []string {
	var out []string
	for k, v := range c {
		if k == "rootfs" || mpKeyRe.MatchString(k) {
			if mp := parseMountPoint(k, v); mp.kind == "volume" {
				out = append(out, mp.volume)
			}
		}
	}
	slices.Sort(out)
	return out
}

// addUnused records a volume as unused[n] unless it already is or is still mounted.
func (g *guest) addUnused(volid string) {
	if slices.Contains(volumesOf(g.conf), volid) {
		return
	}
	for i := 0; i < maxUnused; i++ {
		if g.conf[fmt.Sprintf("unused%d", i)] == volid {
			return
		}
	}
	for i := 0; i < maxUnused; i++ {
		k := fmt.Sprintf("unused%d", i)
		if _, taken := g.conf[k]; !taken {
			g.conf[k] = volid
			return
		}
	}
}

func (g *guest) addPendingDelete(opt string) {
	if !slices.Contains(g.pendingDelete, opt) {
		g.pendingDelete = append(g.pendingDelete, opt)
	}
}

func (g *guest) removePendingDelete(opt string) {
	g.pendingDelete = slices.DeleteFunc(g.pendingDelete, func(k string) bool { return k == opt })
}

// cleanupPending drops pending values equal to the current ones and
// deletions of keys that are not set, and unused[n] entries whose volume
// is mounted again.
func (g *guest) cleanupPending() {
	for k, v := range g.pending {
		if cur, ok := g.conf[k]; ok && cur == v {
			delete(g.pending, k)
		}
	}
	g.pendingDelete = slices.DeleteFunc(g.pendingDelete, func(k string) bool {
		_, set := g.conf[k]
		return !set
	})
	mounted := volumesOf(g.conf)
	for k, v := range g.conf {
		if unusedKeyRe.MatchString(k) && slices.Contains(mounted, v) {
			delete(g.conf, k)
		}
	}
}

// mountPoint is a parsed rootfs or mp[n] value.
type mountPoint struct {
	volume string
	kind   string // volume, bind or device
	opts   propString
}

func parseMountPoint(key, value string) mountPoint {
	format := mpFormat
	if key == "rootfs" {
		format = rootfsFormat
	}
	p, _ := parsePropString(key, value, "volume", format)
	vol := p["volume"]
	delete(p, "volume")
	kind := "volume"
	if strings.HasPrefix(vol, "/") {
		kind = "bind"
		if strings.HasPrefix(vol, "/dev/") {
			kind = "device"
		}
	}
	return mountPoint{volume: vol, kind: kind, opts: p}
}

// String prints the mount point as print_ct_mountpoint: the volume, the
// required path, then the other keys sorted.
func (mp mountPoint) String(rootfs bool) string {
	parts := []string{mp.volume}
	if v, ok := mp.opts["mp"]; ok && !rootfs {
		parts = append(parts, "mp="+v)
	}
	for _, k := range slices.Sorted(maps.Keys(mp.opts)) {
		if k == "mp" {
			continue
		}
		parts = append(parts, k+"="+mp.opts[k])
	}
	return strings.Join(parts, ",")
}

// diskSet and freeDisksExcept undo the allocations of a failed update.
func (n *Node) diskSet(vmid int) map[string]bool {
	out := map[string]bool{}
	for _, st := range n.storages {
		for name, d := range st.disks {
			if d.vmid == vmid {
				out[st.id+":"+name] = true
			}
		}
	}
	return out
}

func (n *Node) freeDisksExcept(vmid int, keep map[string]bool) {
	for _, st := range n.storages {
		for name, d := range st.disks {
			if d.vmid == vmid && !keep[st.id+":"+name] {
				delete(st.disks, name)
			}
		}
	}
}

// diskNames are the names of vmid's disks on this node, sorted.
func (n *Node) diskNames(vmid int) []string {
	var out []string
	for _, st := range n.storages {
		for name, d := range st.disks {
			if d.vmid == vmid {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// lockConfig takes lock_config for vmid, waiting up to Options.LockTimeout
// like flock does, and fails with PVE's message when it cannot.
func (n *Node) lockConfig(vmid int) (release func(), err error) {
	n.estate.mu.Lock()
	g := n.estate.guests[vmid]
	n.estate.mu.Unlock()
	if g == nil {
		return func() {}, nil // the caller reports the missing config
	}
	t := time.NewTimer(n.sim.opts.LockTimeout)
	defer t.Stop()
	select {
	case g.flock <- struct{}{}:
		return func() { <-g.flock }, nil
	case <-t.C:
		return nil, errStatus(http.StatusInternalServerError,
			"can't lock file '/run/lock/lxc/pve-config-%d.lock' - got timeout", vmid)
	case <-n.sim.ctx.Done():
		return nil, errStatus(http.StatusInternalServerError, "interrupted by signal")
	}
}

// pendingRows is GET …/pending: every key with its current value, pending
// value and pending deletion.
func (g *guest) pendingRows() []any {
	cur := g.conf.json()
	cur["digest"] = g.digest()
	pend := g.pending.json()
	rows := []any{}
	seen := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		row := map[string]any{"key": k, "value": cur[k]}
		if v, ok := pend[k]; ok {
			row["pending"] = v
		}
		if slices.Contains(g.pendingDelete, k) {
			row["delete"] = 1
		}
		rows = append(rows, row)
		seen[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(pend)) {
		if !seen[k] {
			rows = append(rows, map[string]any{"key": k, "pending": pend[k]})
			seen[k] = true
		}
	}
	for _, k := range g.pendingDelete {
		if !seen[k] {
			rows = append(rows, map[string]any{"key": k, "delete": 1})
		}
	}
	return rows
}

func getLXCPending(rq *request) (any, error) {
	return rq.withCT(func(g *guest) (any, error) {
		return g.pendingRows(), nil
	}, "VM.Audit")
}
