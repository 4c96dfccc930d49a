package pvesim

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// AddGuest adds a container or VM as if it had always existed.
func (s *Sim) AddGuest(spec GuestSpec) error {
	n := s.Node(spec.Node)
	if n == nil {
		return fmt.Errorf("%w: %q", ErrNoSuchNode, spec.Node)
	}
	if spec.Type == "" {
		spec.Type = LXC
	}
	name := spec.Name
	cores, memory, disk := spec.Cores, spec.MemoryMiB, spec.DiskGiB
	if cores == 0 {
		cores = 1
	}
	if memory == 0 {
		memory = 512
	}
	if disk == 0 {
		disk = 8
	}
	conf := ctConf{"cores": strconv.Itoa(cores), "memory": strconv.Itoa(memory)}
	if spec.Template {
		conf["template"] = "1"
	}
	if tags := normaliseTags(spec.Tags); tags != "" {
		conf["tags"] = tags
	}
	if spec.Type == QEMU {
		if name != "" {
			conf["name"] = name
		}
		conf["scsi0"] = fmt.Sprintf("local-lvm:vm-%d-disk-0,size=%dG", spec.VMID, disk)
	} else {
		if name == "" {
			name = fmt.Sprintf("CT%d", spec.VMID)
		}
		conf["hostname"] = name
		for k, v := range map[string]string{"swap": "512", "arch": "amd64", "ostype": "debian", "unprivileged": "1"} {
			conf[k] = v
		}
		net0 := spec.Net0
		if net0 == "" {
			net0 = "name=eth0,bridge=vmbr0,ip=dhcp"
		}
		net, problems := parsePropString("net0", net0, "", netFormat)
		if len(problems) > 0 {
			return fmt.Errorf("pvesim: guest %d: %s", spec.VMID, strings.Join(problems, "; "))
		}
		conf["net0"] = s.normaliseNet(net, spec.VMID, 0)
	}
	g := newGuest(spec.VMID, spec.Type, spec.Node, conf)
	g.statsSeen, g.created = true, s.now()

	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	if old, taken := n.estate.guests[g.vmid]; taken {
		return fmt.Errorf("pvesim: %s %d already exists on node '%s'", old.kindWord(), g.vmid, old.node)
	}
	if g.typ == LXC {
		g.dir = s.guestDirPath(n, g.vmid) // made on first use: see ContainerDir
		vol := n.storage("local-lvm").allocDisk(g.vmid, int64(disk)<<30, g.created)
		g.conf["rootfs"] = fmt.Sprintf("%s,size=%dG", vol, disk)
	}
	if spec.Running {
		s.setRunning(g, true)
		g.startedAt = s.now().Add(-secondsFor(g.vmid))
	}
	n.estate.guests[g.vmid] = g
	return nil
}

// ContainerDir is the private data directory of container vmid on this node
// (the root its guest sandbox runs in), or "" when there is no such container.
func (n *Node) ContainerDir(vmid int) string {
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	g := n.estate.guests[vmid]
	if g == nil || g.node != n.name || g.typ != LXC {
		return ""
	}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		n.sim.log.Warn("container dir", "vmid", vmid, "err", err)
	}
	return g.dir
}

// GuestStatus reports the status ("running"/"stopped") of a guest on this
// node and whether it exists there.
func (n *Node) GuestStatus(vmid int) (string, bool) {
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	g := n.estate.guests[vmid]
	if g == nil || g.node != n.name {
		return "", false
	}
	return g.status, true
}

// guestDirPath is where container vmid of node n keeps its files. Guests
// that exist from the start get the directory on first use (the sandbox,
// pct push/pull, ContainerDir), so a large estate costs no directories;
// snapshots and backups of a guest without one copy nothing.
func (s *Sim) guestDirPath(n *Node, vmid int) string {
	return filepath.Join(s.dir, "nodes", n.name, "lxc", strconv.Itoa(vmid))
}

func (s *Sim) makeGuestDir(n *Node, vmid int) (string, error) {
	dir := s.guestDirPath(n, vmid)
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("pvesim: guest dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("pvesim: guest dir: %w", err)
	}
	return dir, nil
}

// normaliseNet fills in what PVE adds to a net[n] value: hwaddr and type=veth.
func (s *Sim) normaliseNet(net propString, vmid, idx int) string {
	if net["hwaddr"] == "" {
		h := s.hash(fmt.Sprintf("mac/%d/%d", vmid, idx))
		net["hwaddr"] = fmt.Sprintf("BC:24:11:%02X:%02X:%02X", byte(h>>16), byte(h>>8), byte(h))
	}
	if net["type"] == "" {
		net["type"] = "veth"
	}
	return net.String("name")
}

// leaseIP is the address the simulated DHCP server gives a container's
// interface: stable for a given seed, vmid and interface.
func (s *Sim) leaseIP(vmid, idx int) string {
	h := s.hash(fmt.Sprintf("lease/%d/%d", vmid, idx))
	return fmt.Sprintf("192.168.1.%d/24", 50+h%200)
}

func (s *Sim) hash(key string) uint32 {
	f := fnv.New32a()
	fmt.Fprintf(f, "%d/%s", s.seed, key)
	return f.Sum32()
}

// normaliseTags turns a tag list into PVE's stored form: lower case,
// de-duplicated, sorted, joined with ";".
func normaliseTags(s string) string {
	fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sortStrings(out)
	return strings.Join(out, ";")
}
