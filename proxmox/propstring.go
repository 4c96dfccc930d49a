package proxmox

import (
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
