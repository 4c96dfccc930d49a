package handlers

import (
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"corral/exec/provision"
	"corral/proxmox"
	"corral/views"
)

// settingsForm is the Settings tab's main form: what the user typed, as
// text, before it is checked.
type settingsForm struct {
	Cores, Memory, Swap, DiskGiB string
	OnBoot                       bool
	Order, Up, Down              string
	Tags, Description            string
	HasNet                       bool
	Bridge, IPMode, IP, GW       string
	IP6Mode, IP6, GW6, VLAN      string
	Firewall                     bool
}

// settingsFromConfig fills the form with the container's configuration.
func settingsFromConfig(cfg proxmox.LXCConfig) settingsForm {
	notes, _ := splitCreatedNote(cfg.Description())
	f := settingsForm{Memory: strconv.Itoa(cfg.Memory()), Swap: strconv.Itoa(cfg.Swap()),
		OnBoot: cfg.OnBoot(), Tags: strings.Join(cfg.Tags(), ";"), Description: notes}
	if cfg.Cores() > 0 {
		f.Cores = strconv.Itoa(cfg.Cores())
	}
	if b, err := proxmox.ParseDiskSize(cfg.RootFS().Size); err == nil {
		f.DiskGiB = gibDecimal(b)
	}
	st := proxmox.ParsePropertyString(cfg.Startup(), "order")
	f.Order, f.Up, f.Down = st["order"], st["up"], st["down"]
	if nc, ok := cfg.Net(0); ok {
		f.HasNet = true
		f.Bridge, f.Firewall = nc.Bridge, nc.Firewall
		f.IPMode, f.IP, f.GW = ipMode(nc.IP), "", ""
		if f.IPMode == "static" {
			f.IP, f.GW = nc.IP, nc.GW
		}
		f.IP6Mode = ip6Mode(nc.IP6)
		if f.IP6Mode == "static" {
			f.IP6, f.GW6 = nc.IP6, nc.GW6
		}
		if nc.Tag > 0 {
			f.VLAN = strconv.Itoa(nc.Tag)
		}
	}
	return f
}

func ipMode(ip string) string {
	switch ip {
	case "dhcp":
		return "dhcp"
	case "", "manual":
		return "none"
	}
	return "static"
}

func ip6Mode(ip string) string {
	switch ip {
	case "", "manual":
		return "none"
	case "auto", "dhcp":
		return ip
	}
	return "static"
}

// gibDecimal prints bytes as GiB without a needless fraction ("8", "8.5").
func gibDecimal(b int64) string {
	return strconv.FormatFloat(float64(b)/(1<<30), 'f', -1, 64)
}

// readSettingsForm reads the posted form.
func readSettingsForm(v url.Values) settingsForm {
	t := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return settingsForm{
		Cores: t("cores"), Memory: t("memory"), Swap: t("swap"), DiskGiB: t("disk_size"),
		OnBoot: v.Get("onboot") != "", Order: t("startup_order"), Up: t("startup_up"), Down: t("startup_down"),
		Tags: t("tags"), Description: strings.TrimRight(strings.ReplaceAll(v.Get("description"), "\r\n", "\n"), "\n "),
		HasNet: v.Get("has_net") != "", Bridge: t("bridge"), IPMode: t("ip_mode"), IP: t("ip"), GW: t("gw"),
		IP6Mode: t("ip6_mode"), IP6: t("ip6"), GW6: t("gw6"), VLAN: t("vlan"), Firewall: v.Get("firewall") != "",
	}
}

// values is the form as posted fields (the inverse of readSettingsForm),
// carried by the review page to the apply step.
func (f settingsForm) values() url.Values {
	v := postedForm{url.Values{}}
	set, on := v.text, v.check
	set("cores", f.Cores)
	set("memory", f.Memory)
	set("swap", f.Swap)
	set("disk_size", f.DiskGiB)
	on("onboot", f.OnBoot)
	set("startup_order", f.Order)
	set("startup_up", f.Up)
	set("startup_down", f.Down)
	set("tags", f.Tags)
	set("description", f.Description)
	on("has_net", f.HasNet)
	set("bridge", f.Bridge)
	set("ip_mode", f.IPMode)
	set("ip", f.IP)
	set("gw", f.GW)
	set("ip6_mode", f.IP6Mode)
	set("ip6", f.IP6)
	set("gw6", f.GW6)
	set("vlan", f.VLAN)
	on("firewall", f.Firewall)
	return v.Values
}

// view is the form for the template.
func (f settingsForm) view() views.SettingsForm {
	return views.SettingsForm{Cores: f.Cores, Memory: f.Memory, Swap: f.Swap, DiskGiB: f.DiskGiB,
		OnBoot: f.OnBoot, Order: f.Order, Up: f.Up, Down: f.Down, Tags: f.Tags, Description: f.Description,
		HasNet: f.HasNet, Bridge: f.Bridge, IPMode: f.IPMode, IP: f.IP, GW: f.GW,
		IP6Mode: f.IP6Mode, IP6: f.IP6, GW6: f.GW6, VLAN: f.VLAN, Firewall: f.Firewall}
}

// settingsFacts are what the form is checked against besides the config.
type settingsFacts struct {
	bridges  []string // the node's bridges; empty when unknown
	diskFree int64    // bytes free on the root disk's storage; -1 when unknown
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_+.-]*$`)

// maxDescription bounds the notes (Proxmox keeps them in the config file).
const maxDescription = 8 << 10

// validate checks the form against the container's configuration; the
// messages are keyed by field.
func (f settingsForm) validate(cfg proxmox.LXCConfig, facts settingsFacts) map[string]string {
	errs := map[string]string{}
	intIn := func(key, v string, lo, hi int, optional bool, what string) {
		if v == "" && optional {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs[key] = fmt.Sprintf("%s: a whole number from %d to %d.", what, lo, hi)
		}
	}
	intIn("cores", f.Cores, 1, 8192, true, "Cores")
	intIn("memory", f.Memory, 16, 1<<24, false, "Memory in MiB")
	intIn("swap", f.Swap, 0, 1<<24, false, "Swap in MiB")
	intIn("startup_order", f.Order, 0, 1<<20, true, "Order")
	intIn("startup_up", f.Up, 0, 1<<20, true, "Seconds")
	intIn("startup_down", f.Down, 0, 1<<20, true, "Seconds")
	if _, err := f.diskBytes(cfg, facts); err != "" {
		errs["disk_size"] = err
	}
	for _, t := range splitTagList(f.Tags) {
		if !tagRE.MatchString(t) {
			errs["tags"] = fmt.Sprintf("%q is not a tag: letters, digits, '_', '-', '+' and '.', starting with a letter, digit or '_'.", t)
			break
		}
	}
	if len(f.Description) > maxDescription {
		errs["description"] = fmt.Sprintf("At most %d characters.", maxDescription)
	}
	if !f.HasNet {
		return errs
	}
	_, hasNet := cfg.Net(0)
	if f.Bridge == "" && !hasNet {
		return errs // no network, and none asked for
	}
	if len(facts.bridges) > 0 && !slices.Contains(facts.bridges, f.Bridge) {
		errs["bridge"] = "Choose one of the node's bridges."
	}
	switch f.IPMode {
	case "dhcp", "none":
	case "static":
		pfx, err := netip.ParsePrefix(f.IP)
		switch {
		case err != nil || !pfx.Addr().Is4():
			errs["ip"] = "An IPv4 address with its prefix length, such as 192.168.1.50/24."
		case f.GW != "":
			gw, err := netip.ParseAddr(f.GW)
			if err != nil || !gw.Is4() || !pfx.Masked().Contains(gw) {
				errs["gw"] = "An IPv4 address inside " + pfx.Masked().String() + ", or empty."
			}
		}
	default:
		errs["ip_mode"] = "Choose DHCP, static or none."
	}
	switch f.IP6Mode {
	case "none", "auto", "dhcp":
	case "static":
		pfx, err := netip.ParsePrefix(f.IP6)
		switch {
		case err != nil || !pfx.Addr().Is6() || pfx.Addr().Is4In6():
			errs["ip6"] = "An IPv6 address with its prefix length, such as fd00::50/64."
		case f.GW6 != "":
			if gw, err := netip.ParseAddr(f.GW6); err != nil || !gw.Is6() {
				errs["gw6"] = "An IPv6 address, or empty."
			}
		}
	default:
		errs["ip6_mode"] = "Choose none, SLAAC, DHCP or static."
	}
	intIn("vlan", f.VLAN, 1, 4094, true, "VLAN tag")
	return errs
}

// diskBytes is the new root disk size, 0 when it does not grow, or what is
// wrong with it.
func (f settingsForm) diskBytes(cfg proxmox.LXCConfig, facts settingsFacts) (int64, string) {
	cur, err := proxmox.ParseDiskSize(cfg.RootFS().Size)
	if err != nil || f.DiskGiB == "" {
		return 0, ""
	}
	g, err := strconv.ParseFloat(f.DiskGiB, 64)
	if err != nil || math.IsNaN(g) || g <= 0 || g > 1<<20 {
		return 0, "A size in GiB, such as 16."
	}
	want := int64(math.Round(g*1024)) << 20 // whole MiB
	switch {
	case want < cur:
		return 0, "Proxmox can only grow a disk; it is " + gibDecimal(cur) + " GiB now."
	case want == cur:
		return 0, ""
	case facts.diskFree >= 0 && want-cur > facts.diskFree:
		return 0, fmt.Sprintf("Growing by %s needs more than the %s free on %s.", bytesText(want-cur), bytesText(facts.diskFree), cfg.RootFS().Storage())
	}
	return want, ""
}

// createdNotePrefix starts the line Corral writes into the description of
// a container it creates (provision.CreatedNote): the guard that tells a job's
// container from another one with the same VMID later.
var createdNotePrefix = strings.TrimSuffix(provision.CreatedNote(""), ")")

// splitCreatedNote separates the user's notes from Corral's creation line,
// which the form neither shows nor loses.
func splitCreatedNote(desc string) (notes, created string) {
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(desc, "\n"), "\n") {
		if strings.HasPrefix(l, createdNotePrefix) && created == "" {
			created = l
			continue
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n")), created
}

// splitTagList reads tags separated by ';', ',' or spaces.
func splitTagList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
}

// change is the config PUT the form asks for against cfg, and the new root
// disk size (0: no resize). Only what differs from cfg is sent.
func (f settingsForm) change(cfg proxmox.LXCConfig, facts settingsFacts, digest string) (*proxmox.ConfigChange, int64) {
	ch := &proxmox.ConfigChange{Set: map[string]string{}, Digest: digest}
	ch.Update(cfg, "cores", f.Cores)
	ch.Update(cfg, "memory", f.Memory)
	ch.Update(cfg, "swap", f.Swap)
	switch {
	case f.OnBoot && !cfg.OnBoot():
		ch.Set["onboot"] = "1"
	case !f.OnBoot && cfg.OnBoot():
		ch.Delete = append(ch.Delete, "onboot")
	}
	startup := map[string]string{}
	for k, v := range map[string]string{"order": f.Order, "up": f.Up, "down": f.Down} {
		if v != "" {
			startup[k] = v
		}
	}
	cur := proxmox.ParsePropertyString(cfg.Startup(), "order")
	if !mapsEqual(startup, cur) {
		var parts []string
		for _, k := range []string{"order", "up", "down"} {
			if v, ok := startup[k]; ok {
				parts = append(parts, k+"="+v)
			}
		}
		ch.Update(cfg, "startup", strings.Join(parts, ","))
	}
	tags := splitTagList(f.Tags)
	slices.Sort(tags)
	tags = slices.Compact(tags)
	old := slices.Sorted(slices.Values(cfg.Tags()))
	if !slices.Equal(tags, old) {
		ch.Update(cfg, "tags", strings.Join(tags, ";"))
	}
	desc := f.Description
	if _, note := splitCreatedNote(cfg.Description()); note != "" {
		desc = strings.TrimSpace(desc + "\n\n" + note)
	}
	ch.Update(cfg, "description", desc)
	if nc, ok := f.net(cfg); ok {
		if old, had := cfg.Net(0); !had || old != nc {
			ch.Set["net0"] = nc.String()
		}
	}
	disk, _ := f.diskBytes(cfg, facts)
	return ch, disk
}

// net is net0 as the form sets it, keeping what the form does not show
// (name, MAC address, MTU, type); ok is false when there is no network.
func (f settingsForm) net(cfg proxmox.LXCConfig) (proxmox.NetConfig, bool) {
	nc, had := cfg.Net(0)
	if !f.HasNet || (!had && f.Bridge == "") {
		return nc, false
	}
	if nc.Name == "" {
		nc.Name = "eth0"
	}
	nc.Bridge, nc.Firewall = f.Bridge, f.Firewall
	switch f.IPMode {
	case "static":
		nc.IP, nc.GW = f.IP, f.GW
	case "dhcp":
		nc.IP, nc.GW = "dhcp", ""
	default:
		nc.IP, nc.GW = "", ""
		if had && cfg["net0"] != "" && strings.Contains(cfg["net0"], "ip=manual") {
			nc.IP = "manual"
		}
	}
	switch f.IP6Mode {
	case "static":
		nc.IP6, nc.GW6 = f.IP6, f.GW6
	case "auto", "dhcp":
		nc.IP6, nc.GW6 = f.IP6Mode, ""
	default:
		nc.IP6, nc.GW6 = "", ""
		if had && strings.Contains(cfg["net0"], "ip6=manual") {
			nc.IP6 = "manual"
		}
	}
	nc.Tag, _ = strconv.Atoi(f.VLAN)
	return nc, true
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// mountPathRE is what may name a path inside the container: it goes into a
// property string, so no ',' or '='.
var mountPathRE = regexp.MustCompile(`^/[A-Za-z0-9._+@/-]*$`)

// validMountPath checks a mount point's path inside the container.
func validMountPath(p string) bool {
	return len(p) <= 4096 && p != "/" && mountPathRE.MatchString(p) && path.Clean(p) == p
}

// freeMountIndex is the lowest mp number cfg does not use, -1 when all are.
func freeMountIndex(cfg proxmox.LXCConfig) int {
	used := cfg.MountPoints()
	for i := 0; i < 256; i++ {
		if _, ok := used[i]; !ok {
			return i
		}
	}
	return -1
}

// mountPathTaken reports whether a mount point of cfg already uses p.
func mountPathTaken(cfg proxmox.LXCConfig, p string) bool {
	for _, mp := range cfg.MountPoints() {
		if mp.Path == p {
			return true
		}
	}
	return false
}
