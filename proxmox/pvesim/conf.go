package pvesim

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// maxNets and maxMountPoints are how many net[n] and mp[n] keys PVE allows.
const (
	maxNets        = 32
	maxMountPoints = 256
	maxUnused      = 256
)

var sizeRe = regexp.MustCompile(`^(\d+(\.\d+)?)([KMGT](?:iB)?)?$`)

// ctConf is one section of a guest's configuration file, as PVE stores it:
// key → value text ("memory" → "512", "net0" → "name=eth0,…"). The JSON
// types PVE gives the values come from confKinds when a section is shown.
type ctConf map[string]string

func (c ctConf) clone() ctConf { return maps.Clone(c) }

// intKeys and boolKeys are the config keys of type integer and boolean in
// pve-container's schema (LXC/Config.pm); PVE's parser numifies exactly
// these, everything else (cpulimit included) stays a string.
var (
	intKeys  = map[string]bool{"cores": true, "cpuunits": true, "memory": true, "swap": true, "tty": true, "snaptime": true}
	boolKeys = map[string]bool{"onboot": true, "template": true, "console": true, "protection": true, "unprivileged": true, "debug": true}
)

// json renders a section with PVE's JSON types.
func (c ctConf) json() map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		switch {
		case intKeys[k], boolKeys[k]:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				out[k] = v
				continue
			}
			out[k] = n
		case k == "description":
			out[k] = readDescription(v)
		default:
			out[k] = v
		}
	}
	return out
}

// readDescription is a description as PVE reads it back from the file's
// comment lines: every line ends with a newline.
func readDescription(v string) string {
	lines := descriptionLines(v)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// descriptionLines splits like Perl's split(/\n/): trailing empty lines go.
func descriptionLines(v string) []string {
	lines := strings.Split(v, "\n")
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// intOr reads an integer key, def when absent.
func (c ctConf) intOr(key string, def int) int {
	if v, ok := c[key]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func (c ctConf) isSet(key string) bool { return c[key] == "1" }

// render writes the section like write_pct_config: the description as
// comment lines on top, then the keys in sorted order.
func (c ctConf) render(b *strings.Builder) {
	for _, line := range descriptionLines(c["description"]) {
		b.WriteString("#" + encodeText(line) + "\n")
	}
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if k == "description" {
			continue
		}
		fmt.Fprintf(b, "%s: %s\n", k, c[k])
	}
}

// encodeText escapes what PVE escapes in config comments.
func encodeText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '%' || r < 0x20 {
			fmt.Fprintf(&b, "%%%02X", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// rawConfig is the guest's .conf file: main section, [pve:pending],
// then the snapshot sections by name.
func (g *guest) rawConfig() string {
	var b strings.Builder
	g.conf.render(&b)
	if len(g.pending) > 0 || len(g.pendingDelete) > 0 {
		b.WriteString("\n[pve:pending]\n")
		p := g.pending.clone()
		if p == nil {
			p = ctConf{}
		}
		if len(g.pendingDelete) > 0 {
			p["delete"] = strings.Join(g.pendingDelete, ",")
		}
		p.render(&b)
	}
	for _, name := range slices.Sorted(maps.Keys(g.snapshots)) {
		fmt.Fprintf(&b, "\n[%s]\n", name)
		g.snapshots[name].render(&b)
	}
	return b.String()
}

// digest is the SHA-1 of the configuration file, as PVE reports it.
func (g *guest) digest() string {
	sum := sha1.Sum([]byte(g.rawConfig()))
	return hex.EncodeToString(sum[:])
}

// effective is the configuration with pending changes applied (PVE's
// default view of GET …/config), or the running one when current.
func (g *guest) effective(current bool) ctConf {
	c := g.conf.clone()
	if current {
		return c
	}
	for k, v := range g.pending {
		c[k] = v
	}
	for _, k := range g.pendingDelete {
		delete(c, k)
	}
	return c
}

// lock is the persistent lock (create, backup, snapshot, …), "" when unlocked.
func (g *guest) lock() string { return g.conf["lock"] }

func (g *guest) setLock(l string) {
	if l == "" {
		delete(g.conf, "lock")
		return
	}
	g.conf["lock"] = l
}

// hostname is the configured name: hostname for containers, name for VMs.
func (g *guest) hostname() string {
	if g.typ == QEMU {
		return g.conf["name"]
	}
	return g.conf["hostname"]
}

// memoryMiB is the memory limit; PVE's default is 512.
func (g *guest) memoryMiB() int { return g.conf.intOr("memory", 512) }

// swapMiB is the swap limit; PVE's default is 512.
func (g *guest) swapMiB() int { return g.conf.intOr("swap", 512) }

// cores is the core limit, 0 meaning all host cores.
func (g *guest) cores() int { return g.conf.intOr("cores", 0) }

func (g *guest) tags() string       { return g.conf["tags"] }
func (g *guest) isTemplate() bool   { return g.conf.isSet("template") }
func (g *guest) protected() bool    { return g.conf.isSet("protection") }
func (g *guest) unprivileged() bool { return g.conf.isSet("unprivileged") }

// rootVolume is the volume id of the root disk ("local-lvm:vm-105-disk-0").
func (g *guest) rootVolume() string {
	key := "rootfs"
	if g.typ == QEMU {
		key = "scsi0"
	}
	vol, _, _ := strings.Cut(g.conf[key], ",")
	return vol
}

// diskBytes is the size of the root disk as the config records it.
func (g *guest) diskBytes() int64 {
	key := "rootfs"
	if g.typ == QEMU {
		key = "scsi0"
	}
	return volumeSize(g.conf[key])
}

// volumeSize reads the size= of a mount point or disk value, 0 when absent.
func volumeSize(value string) int64 {
	for rest := value; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		if v, ok := strings.CutPrefix(part, "size="); ok {
			n, _ := parseSize(v)
			return n
		}
	}
	return 0
}

// parseSize reads PVE's disk-size format ("8G", "512M", "1.5T", bytes
// without a unit), as JSONSchema parse_size does.
func parseSize(v string) (int64, bool) {
	if n, ok := parsePlainSize(v); ok {
		return n, true
	}
	m := sizeRe.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return int64(f * sizeUnits[m[3]]), true
}

// parsePlainSize reads the common form, digits and an optional one-letter
// unit ("8G"), without the regular expression: /cluster/resources reads
// every guest's disk size.
func parsePlainSize(v string) (int64, bool) {
	digits, mult := v, int64(1)
	if l := len(v); l > 1 {
		switch v[l-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			digits = v[:l-1]
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 || digits[0] == '+' || digits[0] == '-' {
		return 0, false
	}
	return n * mult, true
}

var sizeUnits = map[string]float64{"": 1, "K": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MiB": 1 << 20,
	"G": 1 << 30, "GiB": 1 << 30, "T": 1 << 40, "TiB": 1 << 40}

// formatSize prints a byte count in the largest unit that divides it, as
// JSONSchema format_size does ("8G", "8704M", "123").
func formatSize(n int64) string {
	units := []string{"K", "M", "G", "T"}
	unit := ""
	for _, u := range units {
		if n%1024 != 0 || n == 0 {
			break
		}
		n /= 1024
		unit = u
	}
	return strconv.FormatInt(n, 10) + unit
}
