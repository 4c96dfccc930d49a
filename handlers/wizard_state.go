package handlers

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"corral/store"
)

// The wizard keeps no server-side draft: every request carries the whole
// state in the form, the current step's fields visibly and the other steps'
// as hidden inputs. Checkboxes follow HTML: present means on. Once the later
// steps were filled from a template ("filled"), an absent box means off.

// Wizard steps, in order.
const (
	stepTemplate  = "template"
	stepConfigure = "configure"
	stepPackages  = "packages"
	stepScripts   = "scripts"
	stepReview    = "review"
)

var wizardSteps = []string{stepTemplate, stepConfigure, stepPackages, stepScripts, stepReview}

// scratchTemplate is the "template" value of a container built from scratch.
const scratchTemplate = "scratch"

// Scratch defaults follow Proxmox's own (memory and swap 512 MiB) and a
// small disk that fits any home lab.
const (
	defaultCores  = 1
	defaultMemory = 512
	defaultSwap   = 512
	defaultDisk   = 8
)

// wizardState is the wizard's form, as typed.
type wizardState struct {
	Template string // template id, scratchTemplate, or "" (not chosen yet)
	Filled   string // the Template value the later steps were filled from
	// SettledNode is the node whose storages, bridges and templates the
	// Configure fields were last checked against.
	SettledNode string

	NodeID     string
	OSTemplate string // volid
	Hostname   string
	VMID       string
	Cores      string
	Memory     string
	Swap       string
	Disk       string
	Storage    string
	Bridge     string
	Net        string // dhcp or static
	IP         string
	Gateway    string
	Nameserver string
	SSHKey     string
	Tags       string

	Unprivileged, Nesting, Keyctl, Fuse bool
	CleanSnapshot                       bool // snapshot before files, packages and scripts

	PkgGroups []string // managers switched on
	Pkgs      []string // packageKey of each package switched on
	ExtraApt  string

	ScriptOrder []string // script names in run order
	ScriptsOn   []string // names of enabled scripts

	// A catalogue download started from the Configure step.
	DownloadUPID string
	DownloadFile string
}

// stepFields are the form names each step shows itself; the rest of the
// state travels in hidden inputs.
var stepFields = map[string][]string{
	stepTemplate: {"template"},
	stepConfigure: {"node_id", "os_template", "hostname", "vmid", "cores", "memory", "swap", "disk",
		"storage", "bridge", "net", "ip", "gateway", "nameserver", "ssh_key", "tags",
		"unprivileged", "nesting", "keyctl", "fuse", "clean_snapshot"},
	stepPackages: {"pkg_group", "pkg", "extra_apt"},
	stepScripts:  {"script_order", "script_on"},
}

func packageKey(p store.Package) string { return string(p.Manager) + ":" + p.Name }

func formBool(v url.Values, k string) bool { return v.Get(k) != "" }

// readWizardState reads the state from a posted form.
func readWizardState(v url.Values) wizardState {
	t := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return wizardState{
		Template: t("template"), Filled: t("filled"), SettledNode: t("settled_node"),
		NodeID: t("node_id"), OSTemplate: t("os_template"), Hostname: t("hostname"), VMID: t("vmid"),
		Cores: t("cores"), Memory: t("memory"), Swap: t("swap"), Disk: t("disk"),
		Storage: t("storage"), Bridge: t("bridge"), Net: t("net"), IP: t("ip"), Gateway: t("gateway"),
		Nameserver: t("nameserver"), SSHKey: strings.TrimSpace(strings.ReplaceAll(v.Get("ssh_key"), "\r\n", "\n")),
		Tags:         t("tags"),
		Unprivileged: formBool(v, "unprivileged"), Nesting: formBool(v, "nesting"),
		Keyctl: formBool(v, "keyctl"), Fuse: formBool(v, "fuse"), CleanSnapshot: formBool(v, "clean_snapshot"),
		PkgGroups: v["pkg_group"], Pkgs: v["pkg"],
		ExtraApt:    strings.ReplaceAll(v.Get("extra_apt"), "\r\n", "\n"),
		ScriptOrder: v["script_order"], ScriptsOn: v["script_on"],
		DownloadUPID: t("dl_upid"), DownloadFile: t("dl_file"),
	}
}

// values is the state as form values (the inverse of readWizardState).
func (s wizardState) values() url.Values {
	f := postedForm{url.Values{}}
	set, on, v := f.text, f.check, f.Values
	set("template", s.Template)
	set("filled", s.Filled)
	set("settled_node", s.SettledNode)
	set("node_id", s.NodeID)
	set("os_template", s.OSTemplate)
	set("hostname", s.Hostname)
	set("vmid", s.VMID)
	set("cores", s.Cores)
	set("memory", s.Memory)
	set("swap", s.Swap)
	set("disk", s.Disk)
	set("storage", s.Storage)
	set("bridge", s.Bridge)
	set("net", s.Net)
	set("ip", s.IP)
	set("gateway", s.Gateway)
	set("nameserver", s.Nameserver)
	set("ssh_key", s.SSHKey)
	set("tags", s.Tags)
	on("unprivileged", s.Unprivileged)
	on("nesting", s.Nesting)
	on("keyctl", s.Keyctl)
	on("fuse", s.Fuse)
	on("clean_snapshot", s.CleanSnapshot)
	v["pkg_group"] = slices.Clone(s.PkgGroups)
	v["pkg"] = slices.Clone(s.Pkgs)
	set("extra_apt", s.ExtraApt)
	v["script_order"] = slices.Clone(s.ScriptOrder)
	v["script_on"] = slices.Clone(s.ScriptsOn)
	set("dl_upid", s.DownloadUPID)
	set("dl_file", s.DownloadFile)
	for k, vals := range v {
		if len(vals) == 0 {
			delete(v, k)
		}
	}
	return v
}

// fill sets the later steps from t (nil: from scratch) when the chosen
// template changed since they were last filled. What the user typed about
// the container itself (node, hostname, VMID, network, key) is kept;
// everything the template decides is replaced.
func (s *wizardState) fill(t *store.Template) {
	if s.Filled == s.Template {
		return
	}
	s.Filled = s.Template
	s.SettledNode = "" // fill in the node's defaults again
	s.OSTemplate, s.Storage, s.Bridge = "", "", ""
	s.Cores, s.Memory, s.Swap, s.Disk = strconv.Itoa(defaultCores), strconv.Itoa(defaultMemory), strconv.Itoa(defaultSwap), strconv.Itoa(defaultDisk)
	// Proxmox turns nesting on for new unprivileged containers: systemd in
	// current distributions needs it for its sandboxing.
	s.Unprivileged, s.Nesting, s.Keyctl, s.Fuse = true, true, false, false
	s.CleanSnapshot = true
	s.Tags = ""
	s.PkgGroups, s.Pkgs, s.ScriptOrder, s.ScriptsOn = nil, nil, nil, nil
	if s.Net == "" {
		s.Net = "dhcp"
	}
	if t == nil {
		return
	}
	if t.Cores > 0 {
		s.Cores = strconv.Itoa(t.Cores)
	}
	if t.Memory > 0 {
		s.Memory = strconv.Itoa(t.Memory)
	}
	if t.Swap != nil {
		s.Swap = strconv.Itoa(*t.Swap)
	}
	if t.Disk > 0 {
		s.Disk = strconv.Itoa(t.Disk)
	}
	s.Storage, s.Bridge = t.Storage, t.Bridge
	f := t.Features
	s.Unprivileged, s.Nesting, s.Keyctl, s.Fuse = f.Unprivileged, f.Nesting, f.Keyctl, f.Fuse
	s.Tags = strings.Join(t.Tags, ";")
	for _, m := range store.PackageManagers {
		if len(t.PackagesBy(m)) > 0 {
			s.PkgGroups = append(s.PkgGroups, string(m))
		}
	}
	for _, p := range t.Packages {
		s.Pkgs = append(s.Pkgs, packageKey(p))
	}
	for _, sc := range t.Scripts {
		s.ScriptOrder = append(s.ScriptOrder, sc.Name)
		if sc.Enabled {
			s.ScriptsOn = append(s.ScriptsOn, sc.Name)
		}
	}
}

// orderedScripts returns t's scripts in the chosen order. Scripts the form
// does not name (the template gained one since) come last, names the
// template lost are dropped, so the list always matches the template.
func (s wizardState) orderedScripts(t *store.Template) []store.Script {
	if t == nil {
		return nil
	}
	byName := map[string]store.Script{}
	for _, sc := range t.Scripts {
		byName[sc.Name] = sc
	}
	var out []store.Script
	seen := map[string]bool{}
	for _, n := range s.ScriptOrder {
		if sc, ok := byName[n]; ok && !seen[n] {
			seen[n] = true
			out = append(out, sc)
		}
	}
	for _, sc := range t.Scripts {
		if !seen[sc.Name] {
			out = append(out, sc)
		}
	}
	return out
}

// moveScript applies a "script-up:N" or "script-down:N" action.
func (s *wizardState) moveScript(t *store.Template, action string) bool {
	verb, num, ok := strings.Cut(action, ":")
	i, err := strconv.Atoi(num)
	if !ok || err != nil {
		return false
	}
	names := make([]string, 0, len(s.ScriptOrder))
	for _, sc := range s.orderedScripts(t) {
		names = append(names, sc.Name)
	}
	j := i - 1
	if verb == "script-down" {
		j = i + 1
	} else if verb != "script-up" {
		return false
	}
	if i < 0 || j < 0 || i >= len(names) || j >= len(names) {
		return false
	}
	names[i], names[j] = names[j], names[i]
	s.ScriptOrder = names
	return true
}

// stepIndex is the position of step in wizardSteps, or -1.
func stepIndex(step string) int { return slices.Index(wizardSteps, step) }
