package pvesim

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// estate is what one pmxcfs would hold: a cluster, or a standalone node.
// Its mutex guards every guest, storage volume and task of its nodes.
type estate struct {
	name       string // cluster name; the node name when standalone
	standalone bool
	ca         *certAuthority

	mu     sync.Mutex
	nodes  []*Node
	guests map[int]*guest
	tokens map[string]*token
}

func (e *estate) node(name string) *Node {
	for _, n := range e.nodes {
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
	status    string // running or stopped
	lock      string // create, destroyed, …; "" when unlocked
	startedAt time.Time
	created   time.Time
	statsSeen bool // false until "pvestatd" has seen it: /cluster/resources shows status unknown

	// config, as PVE stores it (values already normalised, strings)
	hostname     string
	ostemplate   string
	ostype       string
	arch         string
	cores        int // 0 = all host cores
	cpulimit     string
	memory       int // MiB
	swap         int // MiB
	rootfs       string
	diskBytes    int64
	nets         map[string]string
	features     string
	tags         string
	nameserver   string
	searchdomain string
	description  string
	onboot       bool
	unprivileged bool
	protection   bool
	template     bool

	// pendingFeatures is a features change made while running (nil: none);
	// it applies at the next start.
	pendingFeatures *string

	ignoreShutdown bool

	dir       string          // private data directory, the root the guest sandbox runs in
	box       box             // made on first use
	runCtx    context.Context // ends when the container stops: its sessions die with it
	runCancel context.CancelFunc
}

// displayName is the list "name": the hostname, or CT<vmid>/VM<vmid>.
func (g *guest) displayName() string {
	if g.hostname != "" {
		return g.hostname
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
// applied unless current.
func (g *guest) configMap(current bool) map[string]any {
	if g.lock == "create" {
		// vzcreate writes the real config only at its end; until then the
		// file holds little more than the lock.
		c := map[string]any{"lock": "create"}
		c["digest"] = g.digest(c)
		return c
	}
	c := map[string]any{"arch": g.arch, "memory": g.memory, "swap": g.swap, "hostname": g.displayName()}
	if g.ostype != "" {
		c["ostype"] = g.ostype
	}
	if g.cores > 0 {
		c["cores"] = g.cores
	}
	if g.cpulimit != "" {
		c["cpulimit"] = g.cpulimit
	}
	if g.rootfs != "" {
		c["rootfs"] = g.rootfs
	}
	for k, v := range g.nets {
		c[k] = v
	}
	features := g.features
	if g.pendingFeatures != nil && !current {
		features = *g.pendingFeatures
	}
	optStr := map[string]string{
		"features": features, "tags": g.tags, "nameserver": g.nameserver,
		"searchdomain": g.searchdomain, "description": g.description, "lock": g.lock,
	}
	for k, v := range optStr {
		if v != "" {
			c[k] = v
		}
	}
	optBool := map[string]bool{"onboot": g.onboot, "unprivileged": g.unprivileged, "protection": g.protection, "template": g.template}
	for k, v := range optBool {
		if v {
			c[k] = 1
		}
	}
	c["digest"] = g.digest(c)
	return c
}

// digest is the SHA-1 of the config rendered as a .conf file.
func (g *guest) digest(c map[string]any) string {
	keys := slices.Sorted(maps.Keys(c))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %v\n", k, c[k])
	}
	sum := sha1.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// storage is one storage as seen from one node.
type storage struct {
	id      string
	typ     string // dir, lvmthin
	content []string
	shared  bool
	total   int64
	used    int64
	volumes []volume
}

// volume is an item of /storage/{storage}/content.
type volume struct {
	volid   string
	content string
	format  string
	size    int64
	ctime   int64
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
		total: 100_861_726_720, used: 12_415_746_048}
	for _, t := range templates {
		local.addVolume(volume{volid: "local:vztmpl/" + t, content: "vztmpl", format: templateFormat(t),
			size: templateSize(t), ctime: now.Add(-72 * time.Hour).Unix()})
	}
	lvm := &storage{id: "local-lvm", typ: "lvmthin", content: []string{"rootdir", "images"},
		total: 373_553_102_848, used: 18_640_299_832}
	return []*storage{local, lvm}
}
