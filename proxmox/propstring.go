package proxmox

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ParsePropertyString splits a Proxmox property string such as
// "name=eth0,bridge=vmbr0,ip=dhcp" into its keys. An item without '=' is the
// value of defaultKey ("volume" for rootfs: "local-lvm:vm-105-disk-0,size=8G").
func ParsePropertyString(s, defaultKey string) map[string]string {
	out := make(map[string]string)
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			if defaultKey != "" {
				out[defaultKey] = item
			}
			continue
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// propBool reads a property-string boolean (1/0/on/off/yes/no/true/false).
func propBool(m map[string]string, key string) bool {
	b, _ := parseBool(m[key])
	return b
}

func propInt(m map[string]string, key string) int {
	n, _ := strconv.Atoi(m[key])
	return n
}

// NetConfig is a container network device (net0, net1, ...).
type NetConfig struct {
	Name     string // interface name inside the CT, e.g. eth0 (required)
	Bridge   string
	HWAddr   string
	IP       string // CIDR, dhcp or manual
	GW       string
	IP6      string // CIDR, auto, dhcp or manual
	GW6      string
	Firewall bool
	Tag      int // VLAN tag, 0 for none
	MTU      int
	Type     string // veth
}

// ParseNetConfig parses a netN value.
func ParseNetConfig(s string) NetConfig {
	m := ParsePropertyString(s, "")
	return NetConfig{
		Name: m["name"], Bridge: m["bridge"], HWAddr: m["hwaddr"],
		IP: m["ip"], GW: m["gw"], IP6: m["ip6"], GW6: m["gw6"],
		Firewall: propBool(m, "firewall"), Tag: propInt(m, "tag"), MTU: propInt(m, "mtu"),
		Type: m["type"],
	}
}

// StaticIPv4 returns the configured IPv4 address without its mask, or "" for
// dhcp, manual or none.
func (n NetConfig) StaticIPv4() string {
	if n.IP == "" || n.IP == "dhcp" || n.IP == "manual" {
		return ""
	}
	ip, _, _ := strings.Cut(n.IP, "/")
	return ip
}

// String formats the device as Proxmox expects it, omitting unset keys.
func (n NetConfig) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("name", n.Name)
	add("bridge", n.Bridge)
	if n.Firewall {
		add("firewall", "1")
	}
	add("gw", n.GW)
	add("gw6", n.GW6)
	add("hwaddr", n.HWAddr)
	add("ip", n.IP)
	add("ip6", n.IP6)
	if n.MTU > 0 {
		add("mtu", strconv.Itoa(n.MTU))
	}
	if n.Tag > 0 {
		add("tag", strconv.Itoa(n.Tag))
	}
	add("type", n.Type)
	return strings.Join(parts, ",")
}

// RootFS is a container's root volume.
type RootFS struct {
	Volume string // local-lvm:vm-105-disk-0
	Size   string // 8G
}

// ParseRootFS parses the rootfs value.
func ParseRootFS(s string) RootFS {
	m := ParsePropertyString(s, "volume")
	return RootFS{Volume: m["volume"], Size: m["size"]}
}

// Storage returns the storage id part of the volume.
func (r RootFS) Storage() string {
	sid, _, _ := strings.Cut(r.Volume, ":")
	return sid
}

// Features are the container feature flags. API tokens may only set Nesting.
type Features struct {
	Nesting    bool
	Keyctl     bool
	Fuse       bool
	Mknod      bool
	ForceRWSys bool
	Mount      string // allowed fs types, ';'-separated
}

// ParseFeatures parses the features value.
func ParseFeatures(s string) Features {
	m := ParsePropertyString(s, "")
	return Features{
		Nesting: propBool(m, "nesting"), Keyctl: propBool(m, "keyctl"), Fuse: propBool(m, "fuse"),
		Mknod: propBool(m, "mknod"), ForceRWSys: propBool(m, "force_rw_sys"), Mount: m["mount"],
	}
}

// String formats the set flags, "" when none are set.
func (f Features) String() string {
	var parts []string
	for _, x := range []struct {
		key string
		on  bool
	}{{"force_rw_sys", f.ForceRWSys}, {"fuse", f.Fuse}, {"keyctl", f.Keyctl}, {"mknod", f.Mknod}, {"nesting", f.Nesting}} {
		if x.on {
			parts = append(parts, x.key+"=1")
		}
	}
	if f.Mount != "" {
		parts = append(parts, "mount="+f.Mount)
	}
	return strings.Join(parts, ",")
}

// MountPoint is a container mount point (mp0, mp1, ...): a volume on a
// storage, or a bind mount of a host directory when Volume is a path.
type MountPoint struct {
	Volume   string // local-lvm:vm-105-disk-1, "local-lvm:8" for a new 8 GiB volume, or /host/path
	Path     string // where it appears inside the container (mp=)
	Size     string // 8G; read only, Proxmox keeps it
	Backup   bool   // include the volume in backups
	ReadOnly bool
	// Other holds the keys Corral does not model (acl, quota, mountoptions,
	// replicate, shared, keepattrs, idmap), kept so a rewrite loses nothing.
	Other map[string]string
}

// ParseMountPoint parses an mpN value.
func ParseMountPoint(s string) MountPoint {
	m := ParsePropertyString(s, "volume")
	mp := MountPoint{Volume: m["volume"], Path: m["mp"], Size: m["size"],
		Backup: propBool(m, "backup"), ReadOnly: propBool(m, "ro")}
	for _, k := range []string{"volume", "mp", "size", "backup", "ro"} {
		delete(m, k)
	}
	if len(m) > 0 {
		mp.Other = m
	}
	return mp
}

// IsBind reports whether the mount point is a host path (only root@pam may
// set those, through `pct set` on the node).
func (m MountPoint) IsBind() bool { return strings.HasPrefix(m.Volume, "/") }

// Storage returns the storage of a volume mount point, "" for a bind mount.
func (m MountPoint) Storage() string {
	if m.IsBind() {
		return ""
	}
	sid, _, _ := strings.Cut(m.Volume, ":")
	return sid
}

// String formats the mount point as Proxmox prints it: the volume, mp=,
// then the other keys in sorted order.
func (m MountPoint) String() string {
	keys := map[string]string{}
	for k, v := range m.Other {
		keys[k] = v
	}
	if m.Backup {
		keys["backup"] = "1"
	}
	if m.ReadOnly {
		keys["ro"] = "1"
	}
	if m.Size != "" {
		keys["size"] = m.Size
	}
	parts := []string{m.Volume}
	if m.Path != "" {
		parts = append(parts, "mp="+m.Path)
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		parts = append(parts, k+"="+keys[k])
	}
	return strings.Join(parts, ",")
}

// NewVolume is the mount point value that makes Proxmox allocate a new
// volume of gib GiB on storage, mounted at path.
func NewVolume(storage string, gib int, path string, backup bool) MountPoint {
	return MountPoint{Volume: storage + ":" + strconv.Itoa(gib), Path: path, Backup: backup}
}

// ParseDiskSize reads Proxmox's disk sizes ("8G", "512M", "1.5T", "2048K",
// bytes without a unit) into bytes.
func ParseDiskSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("proxmox: %q is not a disk size", s)
	}
	return int64(f * float64(mult)), nil
}

// FormatDiskSize prints bytes in the largest unit that divides them, as
// Proxmox writes size= ("10G", "8704M").
func FormatDiskSize(n int64) string {
	unit := ""
	for _, u := range []string{"K", "M", "G", "T"} {
		if n == 0 || n%1024 != 0 {
			break
		}
		n /= 1024
		unit = u
	}
	return strconv.FormatInt(n, 10) + unit
}
