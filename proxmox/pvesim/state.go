package pvesim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// estate is what one pmxcfs would hold: a cluster, or a standalone node.
// Its mutex guards every guest, storage volume and task of its nodes.
type estate struct {
	name       string // cluster name; the node name when standalone
	standalone bool
	ca         *certAuthority

	nodes atomic.Pointer[[]*Node] // the members, in node-id order; see members.go

	// Member addresses and shared ports (addresses.go), set while
	// Sim.nodesMu is held.
	subnet           string
	apiPort, sshPort int

	mu     sync.Mutex
	guests map[int]*guest
	tokens map[string]*token
}

func (e *estate) node(name string) *Node {
	for _, n := range e.members() {
		if n.name == name {
			return n
		}
	}
	return nil
}

// sortedGuests returns guests in vmid order. Callers hold e.mu.
func (e *estate) sortedGuests() []*guest {
	ids := slices.Sorted(maps.Keys(e.guests))
	out := make([]*guest, 0, len(ids))
	for _, id := range ids {
		out = append(out, e.guests[id])
	}
	return out
}

// guest is a container or a QEMU VM.
type guest struct {
	vmid      int
	typ       GuestType
	node      string
	resID     string // "lxc/105": the /cluster/resources id, made once
	status    string // running or stopped
	startedAt time.Time
	created   time.Time
	statsSeen bool // false until "pvestatd" has seen it: /cluster/resources shows status unknown

	// conf is the main section of the configuration file (lock included),
	// pending holds changes that wait for the next start, pendingDelete the
	// keys to delete then, and snapshots the snapshot sections by name.
	conf          ctConf
	pending       ctConf
	pendingDelete []string
	snapshots     map[string]ctConf

	ignoreShutdown bool

	// flock is lock_config: held by tasks that change the config over time
	// (resize, restore); others wait for it up to Options.LockTimeout.
	flock chan struct{}

	dir       string          // private data directory, the root the guest sandbox runs in
	box       box             // made on first use
	runCtx    context.Context // ends when the container stops: its sessions die with it
	runCancel context.CancelFunc
}

func newGuest(vmid int, typ GuestType, node string, conf ctConf) *guest {
	return &guest{vmid: vmid, typ: typ, node: node, resID: string(typ) + "/" + strconv.Itoa(vmid), status: "stopped", conf: conf,
		snapshots: map[string]ctConf{}, flock: make(chan struct{}, 1)}
}

// displayName is the list "name": the hostname, or CT<vmid>/VM<vmid>.
func (g *guest) displayName() string {
	if h := g.hostname(); h != "" {
		return h
	}
	if g.typ == QEMU {
		return fmt.Sprintf("VM%d", g.vmid)
	}
	return fmt.Sprintf("CT%d", g.vmid)
}

// kindWord is how PVE's error messages name the guest kind.
func (g *guest) kindWord() string {
	if g.typ == QEMU {
		return "VM"
	}
	return "CT"
}

// configMap is GET …/lxc/{vmid}/config, with PVE's types: pending changes
// applied unless current, plus the digest of the whole file.
func (g *guest) configMap(current bool) map[string]any {
	c := g.effective(current).json()
	c["digest"] = g.digest()
	return c
}

// storage is one storage as seen from one node.
type storage struct {
	id      string
	typ     string // dir, lvmthin
	content []string
	shared  bool
	total   int64
	used    int64    // bytes used by files (the install, templates, backups)
	volumes []volume // files: templates and backups
	disks   map[string]*disk
}

// disk is a guest volume on a block storage (lvmthin), by name.
type disk struct {
	vmid  int
	size  int64
	ctime int64
}

// volume is a file item of /storage/{storage}/content.
type volume struct {
	volid   string
	content string
	format  string
	size    int64
	ctime   int64

	// backups only
	vmid      int
	subtype   string // lxc or qemu
	notes     string
	protected bool
	archive   *archive
}

func (s *storage) allows(content string) bool { return slices.Contains(s.content, content) }

func (s *storage) volume(volid string) (volume, bool) {
	for _, v := range s.volumes {
		if v.volid == volid {
			return v, true
		}
	}
	return volume{}, false
}

func (s *storage) addVolume(v volume) {
	s.volumes = slices.DeleteFunc(s.volumes, func(o volume) bool { return o.volid == v.volid })
	s.volumes = append(s.volumes, v)
	sort.Slice(s.volumes, func(i, j int) bool {
		return strings.ToLower(s.volumes[i].volid) < strings.ToLower(s.volumes[j].volid)
	})
}

// thinShare is how much of a thin volume's size the pool really holds in
// the simulation: containers rarely fill their disks.
const thinShare = 5

// usedBytes is what the storage reports as used: files plus the written
// part of thin volumes.
func (s *storage) usedBytes() int64 {
	used := s.used
	for _, d := range s.disks {
		used += d.size / thinShare
	}
	return used
}

func (s *storage) availBytes() int64 { return s.total - s.usedBytes() }

// allocDisk creates the next free vm-<vmid>-disk-<n> and returns its volume id.
func (s *storage) allocDisk(vmid int, size int64, now time.Time) string {
	for i := 0; ; i++ {
		name := fmt.Sprintf("vm-%d-disk-%d", vmid, i)
		if _, taken := s.disks[name]; !taken {
			s.disks[name] = &disk{vmid: vmid, size: size, ctime: now.Unix()}
			return s.id + ":" + name
		}
	}
}

// diskOf returns the disk behind a volume id on this storage.
func (s *storage) diskOf(volid string) *disk {
	sid, name, ok := strings.Cut(volid, ":")
	if !ok || sid != s.id {
		return nil
	}
	return s.disks[name]
}

// templateFormat is the vztmpl "format" PVE derives from the file name.
func templateFormat(file string) string {
	for suffix, f := range map[string]string{".tar.zst": "tzst", ".tar.gz": "tgz", ".tar.xz": "txz", ".tar.bz2": "tbz2"} {
		if strings.HasSuffix(file, suffix) {
			return f
		}
	}
	return "tar"
}

// templateSize is a stable, plausible size for a template file.
func templateSize(file string) int64 {
	var h int64
	for _, c := range file {
		h = h*31 + int64(c)
	}
	if h < 0 {
		h = -h
	}
	return 90_000_000 + h%160_000_000
}

// defaultStorages are what a fresh PVE install has.
func defaultStorages(templates []string, now time.Time) []*storage {
	local := &storage{id: "local", typ: "dir", content: []string{"vztmpl", "iso", "backup"},
		total: 100_861_726_720, used: 12_415_746_048, disks: map[string]*disk{}}
	for _, t := range templates {
		local.addVolume(volume{volid: "local:vztmpl/" + t, content: "vztmpl", format: templateFormat(t),
			size: templateSize(t), ctime: now.Add(-72 * time.Hour).Unix()})
	}
	lvm := &storage{id: "local-lvm", typ: "lvmthin", content: []string{"rootdir", "images"},
		total: 373_553_102_848, used: 18_640_299_832, disks: map[string]*disk{}}
	return []*storage{local, lvm}
}
