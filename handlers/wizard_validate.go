package handlers

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	"corral/store"
)

// Limits Proxmox puts on pct create, shared with the template limits.
const (
	maxHostnameLen = 253
	maxLabelLen    = 63
)

// pveTagRE is Proxmox's pve-tag-list item (case-insensitive; tags are
// lower-cased first).
var pveTagRE = regexp.MustCompile(`^[a-z0-9_][a-z0-9_+.-]*$`)

// validateConfig checks the Configure step against the node's real
// storages, bridges and templates and returns the create request it
// describes, or messages keyed by field name.
func validateConfig(s wizardState, nd *nodeData) (store.CreateSpec, int, map[string]string) {
	errs := fieldErrors{}
	var spec store.CreateSpec
	errs.add("hostname", hostnameProblem(s.Hostname))
	vmid, msg := parseVMID(s.VMID)
	errs.add("vmid", msg)
	configSizes(&spec, s, errs)
	for k, msg := range capacityProblems(spec, s.Storage, nd) {
		errs.add(k, msg)
	}
	configPlacement(&spec, s, nd, errs)
	configNetwork(&spec, s, errs)
	keys, msg := sshKeys(s.SSHKey)
	errs.add("ssh_key", msg)
	spec.SSHPublicKeys = keys
	tags, msg := pveTags(s.Tags)
	errs.add("tags", msg)
	spec.Tags = tags

	spec.Unprivileged, spec.Nesting, spec.Keyctl, spec.Fuse = s.Unprivileged, s.Nesting, s.Keyctl, s.Fuse
	if !s.Unprivileged && (s.Nesting || s.Keyctl || s.Fuse) {
		errs.add("unprivileged", "Nesting, keyctl and FUSE need an unprivileged container: Proxmox lets only root@pam change feature flags of privileged ones.")
	}
	return spec, vmid, errs
}

// fieldErrors are messages keyed by field name; a field keeps its first.
type fieldErrors map[string]string

// add records msg for field k unless msg is empty or k has one already.
func (e fieldErrors) add(k, msg string) {
	if _, ok := e[k]; !ok && msg != "" {
		e[k] = msg
	}
}

// configSizes reads cores, memory, swap and disk within Corral's limits.
func configSizes(spec *store.CreateSpec, s wizardState, errs fieldErrors) {
	num := func(k, label, val string, lo, hi int, unit string) int {
		n, err := strconv.Atoi(val)
		switch {
		case val == "":
			errs.add(k, label+" is required.")
		case err != nil:
			errs.add(k, fmt.Sprintf("%s must be a whole number%s.", label, unit))
		case n < lo || n > hi:
			errs.add(k, fmt.Sprintf("%s must be between %d and %d%s.", label, lo, hi, unit))
		}
		return n
	}
	spec.Cores = num("cores", "CPU cores", s.Cores, store.MinCores, store.MaxCores, "")
	spec.MemoryMB = num("memory", "Memory", s.Memory, store.MinMemory, store.MaxMemory, " MiB")
	spec.SwapMB = num("swap", "Swap", s.Swap, 0, store.MaxSwap, " MiB")
	spec.DiskGB = num("disk", "Disk", s.Disk, store.MinDisk, store.MaxDisk, " GiB")
}

// configPlacement checks the OS template, storage and bridge against what
// the node has, when it told us.
func configPlacement(spec *store.CreateSpec, s wizardState, nd *nodeData, errs fieldErrors) {
	spec.OSTemplate = s.OSTemplate
	switch {
	case s.OSTemplate == "":
		errs.add("os_template", "Choose an OS template (download one from the Proxmox catalogue below if the list is empty).")
	case nd.loaded() && !nd.hasVolume(s.OSTemplate):
		errs.add("os_template", fmt.Sprintf("%s is not downloaded on this node; choose another or download it below.", s.OSTemplate))
	}
	spec.Storage = s.Storage
	switch {
	case s.Storage == "":
		errs.add("storage", "Choose the storage for the container's disk.")
	case nd.loaded() && !slices.Contains(nd.Storages, s.Storage):
		errs.add("storage", fmt.Sprintf("Storage %q does not exist on this node or cannot hold container disks.", s.Storage))
	}
	spec.Bridge = s.Bridge
	switch {
	case s.Bridge == "":
		errs.add("bridge", "Choose a network bridge.")
	case nd.loaded() && !slices.Contains(nd.Bridges, s.Bridge):
		errs.add("bridge", fmt.Sprintf("Bridge %q does not exist on this node.", s.Bridge))
	}
}

// configNetwork reads DHCP or a static address with its gateway, and the
// nameservers.
func configNetwork(spec *store.CreateSpec, s wizardState, errs fieldErrors) {
	switch s.Net {
	case "dhcp", "":
		spec.IPv4 = "dhcp"
	case "static":
		ip, gw, ipMsg, gwMsg := staticIPv4(s.IP, s.Gateway)
		errs.add("ip", ipMsg)
		errs.add("gateway", gwMsg)
		spec.IPv4, spec.Gateway = ip, gw
	default:
		errs.add("net", "Choose DHCP or a static address.")
	}
	ns, msg := nameservers(s.Nameserver)
	errs.add("nameserver", msg)
	spec.Nameserver = ns
}

// capacityProblems compares the resources asked for with what the node
// has, where it told us: a container cannot use more memory or cores than
// its host, nor a disk larger than its storage's free space.
func capacityProblems(spec store.CreateSpec, storage string, nd *nodeData) map[string]string {
	errs := map[string]string{}
	if !nd.loaded() {
		return errs
	}
	name := nd.Node.Name
	if nd.MemoryMiB > 0 && spec.MemoryMB > nd.MemoryMiB {
		errs["memory"] = fmt.Sprintf("Memory %s MiB is more than %s has (%s).", thousands(spec.MemoryMB), name, mibSize(nd.MemoryMiB))
	}
	if nd.Cores > 0 && spec.Cores > nd.Cores {
		errs["cores"] = fmt.Sprintf("%s CPU cores are more than %s has (%d).", thousands(spec.Cores), name, nd.Cores)
	}
	if free, ok := nd.FreeGiB[storage]; ok && int64(spec.DiskGB) > free {
		errs["disk"] = fmt.Sprintf("Disk %s GiB is more than %s on %s has free (%s GiB).", thousands(spec.DiskGB), storage, name, thousands(int(free)))
	}
	return errs
}

// thousands writes n with comma separators: 1,000,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// mibSize is a memory size for people: "512 MiB", "64 GiB", "1.5 GiB".
func mibSize(mib int) string {
	switch {
	case mib < 1024:
		return strconv.Itoa(mib) + " MiB"
	case mib%1024 == 0:
		return thousands(mib/1024) + " GiB"
	}
	return fmt.Sprintf("%.1f GiB", float64(mib)/1024)
}

// hostnameProblem explains what is wrong with a hostname by RFC 1123 (and
// Proxmox's dns-name format), or returns "".
func hostnameProblem(h string) string {
	switch {
	case h == "":
		return "Hostname is required."
	case len(h) > maxHostnameLen:
		return fmt.Sprintf("Hostname must be %d characters or less.", maxHostnameLen)
	case strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, ".."):
		return "Hostname must not start or end with a dot, or have two dots in a row."
	}
	for _, label := range strings.Split(h, ".") {
		if i := strings.IndexFunc(label, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
		}); i >= 0 {
			return fmt.Sprintf("Hostname may use only letters a-z, digits and hyphens (not %q).", string([]rune(label[i:])[0]))
		}
		if len(label) > maxLabelLen {
			return fmt.Sprintf("Each dot-separated part of the hostname must be %d characters or less.", maxLabelLen)
		}
		if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "Hostname must start and end with a letter or digit (and so must each dot-separated part)."
		}
	}
	return ""
}

// parseVMID checks the VMID's form; whether it is free is asked separately.
func parseVMID(s string) (int, string) {
	if s == "" {
		return 0, "VMID is required."
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, "VMID must be a whole number."
	}
	if n < store.MinVMID || n > store.MaxVMID {
		return n, fmt.Sprintf("VMID must be between %d and %d.", store.MinVMID, store.MaxVMID)
	}
	return n, ""
}

// staticIPv4 checks a static address in CIDR form and its gateway, which
// must lie inside the address's subnet.
func staticIPv4(ipText, gwText string) (ip, gw, ipMsg, gwMsg string) {
	if ipText == "" {
		ipMsg = "A static address is required (CIDR, e.g. 192.168.1.50/24), or choose DHCP."
	}
	var pfx netip.Prefix
	if ipText != "" {
		p, err := netip.ParsePrefix(ipText)
		switch {
		case err != nil && !strings.Contains(ipText, "/"):
			ipMsg = "Add the prefix length: write the address as CIDR, e.g. " + ipText + "/24."
		case err != nil || !p.Addr().Is4():
			ipMsg = "Not an IPv4 address in CIDR form (e.g. 192.168.1.50/24)."
		case p.Bits() < 1 || p.Bits() > 32:
			ipMsg = "The prefix length must be between 1 and 32."
		case p.Bits() < 31 && (p.Addr() == p.Masked().Addr() || p.Addr() == broadcast(p)):
			ipMsg = fmt.Sprintf("%s is the network's own or broadcast address; choose a host address.", p.Addr())
		default:
			pfx, ip = p, p.String()
		}
	}
	if gwText == "" {
		gwMsg = "A gateway is required with a static address (e.g. 192.168.1.1)."
		return ip, "", ipMsg, gwMsg
	}
	g, err := netip.ParseAddr(gwText)
	switch {
	case err != nil || !g.Is4():
		gwMsg = "The gateway must be an IPv4 address like 192.168.1.1."
	case pfx.IsValid() && !pfx.Contains(g):
		gwMsg = fmt.Sprintf("The gateway %s is outside the subnet %s.", g, pfx.Masked())
	case pfx.IsValid() && g == pfx.Addr():
		gwMsg = "The gateway cannot be the container's own address."
	default:
		gw = g.String()
	}
	return ip, gw, ipMsg, gwMsg
}

func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// nameservers checks an optional list of IP addresses separated by spaces
// or commas and returns it as Proxmox wants it (space-separated).
func nameservers(s string) (string, string) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' })
	for _, f := range fields {
		if _, err := netip.ParseAddr(f); err != nil {
			return "", fmt.Sprintf("%q is not an IP address; list nameservers as addresses like 1.1.1.1, separated by spaces.", f)
		}
	}
	return strings.Join(fields, " "), ""
}

// sshKeys checks optional authorized_keys lines, one key per line.
func sshKeys(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	if strings.Contains(s, "PRIVATE KEY") {
		return "", "This is a private key: paste the public key instead (the .pub file, starting with ssh-ed25519 or ssh-rsa)."
	}
	var lines []string
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil || len(strings.TrimSpace(string(rest))) > 0 {
			return "", fmt.Sprintf("Line %d is not an SSH public key (expected one key per line, like ssh-ed25519 AAAA… you@laptop).", i+1)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), ""
}

// pveTags splits tags on ';', ',' or spaces, lower-cases them and checks
// each against Proxmox's tag characters.
func pveTags(s string) ([]string, string) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
	tags := store.NormalizeTags(fields)
	for _, t := range tags {
		if !pveTagRE.MatchString(t) {
			return nil, fmt.Sprintf("Tag %q: Proxmox allows letters, digits, '_', '-', '+' and '.' (not starting with '-', '+' or '.'); separate tags with ';'.", t)
		}
	}
	return tags, ""
}
