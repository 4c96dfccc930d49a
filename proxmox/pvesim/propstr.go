package pvesim

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// propString is a parsed PVE property string ("name=eth0,bridge=vmbr0").
type propString map[string]string

// propKey describes one key of a property-string format.
type propKey struct {
	kind     string // "string", "bool", "int", or an address format (see addrFormats)
	required bool
	min, max int
}

// parsePropString parses s against format. defaultKey receives a value given
// without "key=" (e.g. the volume in "local-lvm:8"). Problems come back as
// PVE words them: "<param>.<key>: <message>" lines.
func parsePropString(param, s, defaultKey string, format map[string]propKey) (propString, []string) {
	out := propString{}
	var problems []string
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			if defaultKey == "" {
				problems = append(problems, fmt.Sprintf("%s: invalid format", param))
				continue
			}
			k, v = defaultKey, part
		}
		if _, dup := out[k]; dup {
			problems = append(problems, fmt.Sprintf("%s.%s: duplicate key in comma-separated list property", param, k))
			continue
		}
		spec, known := format[k]
		if !known {
			problems = append(problems, fmt.Sprintf("%s.%s: property is not defined in schema and the schema does not allow additional properties", param, k))
			continue
		}
		switch spec.kind {
		case "bool":
			b, ok := parsePropBool(v)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s.%s: type check ('boolean') failed - got '%s'", param, k, v))
				continue
			}
			v = b
		case "int":
			n, ok := parseInt(v)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s.%s: type check ('integer') failed - got '%s'", param, k, v))
				continue
			}
			if spec.max > 0 && (n < int64(spec.min) || n > int64(spec.max)) {
				problems = append(problems, fmt.Sprintf("%s.%s: value must have a minimum value of %d", param, k, spec.min))
				continue
			}
		default:
			if check, ok := addrFormats[spec.kind]; ok {
				if msg := check(v); msg != "" {
					problems = append(problems, fmt.Sprintf("%s.%s: %s", param, k, msg))
					continue
				}
			}
		}
		out[k] = v
	}
	for _, k := range slices.Sorted(mapsKeys(format)) {
		if format[k].required {
			if _, ok := out[k]; !ok {
				problems = append(problems, fmt.Sprintf("%s.%s: property is missing and it is not optional", param, k))
			}
		}
	}
	return out, problems
}

// propError formats property-string problems as the errors value PVE sends.
func propError(problems []string) string {
	return "invalid format - format error\n" + strings.Join(problems, "\n")
}

// String prints the property string with first leading, the rest sorted, as PVE does.
func (p propString) String(first string) string {
	var parts []string
	if v, ok := p[first]; ok {
		parts = append(parts, first+"="+v)
	}
	for _, k := range slices.Sorted(mapsKeys(p)) {
		if k != first {
			parts = append(parts, k+"="+p[k])
		}
	}
	return strings.Join(parts, ",")
}

// parsePropBool accepts what property strings accept and normalises to 0/1.
func parsePropBool(v string) (string, bool) {
	switch strings.ToLower(v) {
	case "1", "on", "yes", "true":
		return "1", true
	case "0", "off", "no", "false":
		return "0", true
	}
	return "", false
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// netFormat is the net[n] property string format of pve-container.
var netFormat = map[string]propKey{
	"name": {kind: "string", required: true}, "bridge": {kind: "string"}, "firewall": {kind: "bool"},
	"gw": {kind: "ipv4"}, "gw6": {kind: "ipv6"}, "hwaddr": {kind: "string"}, "ip": {kind: "ipv4-config"},
	"ip6": {kind: "ipv6-config"}, "link_down": {kind: "bool"}, "mtu": {kind: "int", min: 64, max: 65535},
	"rate": {kind: "string"}, "tag": {kind: "int", min: 1, max: 4094}, "trunks": {kind: "string"},
	"type": {kind: "string"}, "host-managed": {kind: "bool"},
}

// rootfsFormat is the rootfs property string format.
var rootfsFormat = map[string]propKey{
	"volume": {kind: "lxc-mp-string", required: true}, "size": {kind: "disk-size"}, "acl": {kind: "bool"},
	"mountoptions": {kind: "string"}, "quota": {kind: "bool"}, "replicate": {kind: "bool"},
	"ro": {kind: "bool"}, "shared": {kind: "bool"}, "idmap": {kind: "string"},
}

// mpFormat is the mp[n] format: rootfs's plus the path inside the CT.
var mpFormat = func() map[string]propKey {
	m := maps.Clone(rootfsFormat)
	m["mp"] = propKey{kind: "lxc-mp-string", required: true}
	m["backup"] = propKey{kind: "bool"}
	m["keepattrs"] = propKey{kind: "bool"}
	return m
}()

// featuresFormat is the features property string format.
var featuresFormat = map[string]propKey{
	"force_rw_sys": {kind: "bool"}, "fuse": {kind: "bool"}, "keyctl": {kind: "bool"},
	"mknod": {kind: "bool"}, "mount": {kind: "string"}, "nesting": {kind: "bool"},
}

// addrFormats are PVE's address formats (pve-ipv4-config, ipv4, ...): each
// returns PVE's complaint about v, or "" when v is valid.
var addrFormats = map[string]func(v string) string{
	"ipv4":          func(v string) string { return addrProblem(v, true, false, "IPv4 address") },
	"ipv6":          func(v string) string { return addrProblem(v, false, false, "IPv6 address") },
	"ipv4-config":   func(v string) string { return ipConfigProblem(v, true, "dhcp", "manual") },
	"ipv6-config":   func(v string) string { return ipConfigProblem(v, false, "dhcp", "manual", "auto") },
	"lxc-mp-string": mpPathProblem,
	"disk-size": func(v string) string {
		if _, ok := parseSize(v); !ok {
			return "value does not look like a valid disk size: " + v
		}
		return ""
	},
}

func addrProblem(v string, v4, cidr bool, what string) string {
	var addr netip.Addr
	if cidr {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return "value does not look like a valid " + what
		}
		addr = p.Addr()
	} else {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "value does not look like a valid " + what
		}
		addr = a
	}
	if addr.Is4() != v4 {
		return "value does not look like a valid " + what
	}
	return ""
}

func ipConfigProblem(v string, v4 bool, keywords ...string) string {
	family := "ipv6"
	if v4 {
		family = "ipv4"
	}
	if slices.Contains(keywords, v) || addrProblem(v, v4, true, "") == "" {
		return ""
	}
	return "value does not look like a valid " + family + " network configuration"
}
