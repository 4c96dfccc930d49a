package exec

import (
	"fmt"
	"strings"
)

// Plan is everything one container creation will do, fixed when the user
// confirms the wizard's Review step: the pipeline honours exactly this, and
// the Review page shows exactly this. It holds no root password: Proxmox gets
// a random one that is discarded.
type Plan struct {
	UserID       string // Corral user id (owner of the job)
	NodeID       string // Corral node id
	PVENode      string // node name inside Proxmox, e.g. "pve1"
	VMID         int
	Hostname     string
	TemplateID   string // empty when built from scratch
	TemplateName string

	Create   CreateSpec
	Packages []Package // enabled packages only, grouped by manager in install order
	Files    []File
	Scripts  []Script // enabled scripts only, in run order

	// CleanSnapshot takes the snapshot CleanSnapshotName once the container
	// is up, before files, packages and scripts, so a failed provisioning
	// can be rolled back to it and retried (Runner.RetryFromSnapshot).
	CleanSnapshot bool
}

// CreateSpec is the Proxmox create request without secrets; main maps it
// to the proxmox client's parameters.
type CreateSpec struct {
	OSTemplate    string // volid, e.g. "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
	Storage       string // rootfs storage, e.g. "local-lvm"
	DiskGB        int
	Cores         int
	MemoryMB      int
	SwapMB        int
	Bridge        string // e.g. "vmbr0"
	IPv4          string // "dhcp" or CIDR like "192.168.1.50/24"
	Gateway       string // required with a static IPv4
	Nameserver    string // optional
	SSHPublicKeys string // optional, authorized_keys lines
	Unprivileged  bool
	Nesting       bool
	Keyctl        bool // set as root by the features step, never by the API
	Fuse          bool // set as root by the features step, never by the API
	Tags          []string
	OnBoot        bool
}

// Package is one package to install inside the container.
type Package struct {
	Manager string // apt, npm, pip, custom
	Name    string
	Check   string // custom only: command whose success means "already installed"
	Install string // custom only: install command
}

// File is one file to place inside the container.
type File struct {
	Name      string // base name, no path separators
	TargetDir string // absolute, no ".."
	Policy    string // replace, default (only if missing), backup (keep a .bak, then replace)
	Mode      string // e.g. "0644"; empty keeps the default
	Owner     string // e.g. "root:root"; empty keeps the default
	Content   []byte
}

// Script is one script to run inside the container, in order.
type Script struct {
	Name    string // safe as a file name
	Content string
}

// Steps lists, in order, what the pipeline will do for p; the Review page
// shows this list and the progress page tracks it.
func (p Plan) Steps() []string {
	var s []string
	for _, st := range p.StepList() {
		s = append(s, st.Label)
	}
	return s
}

// Step is one step of a plan: a stable key the pipeline records as done,
// and the label the user sees.
type Step struct {
	Key    string // "create", "features", "start", "wait", "files", "pkg:apt", "script:0", "discover", ...
	Label  string
	Script string // the script's name, for script steps
}

// Step keys of the fixed steps; package steps are "pkg:"+manager and script
// steps "script:"+index.
const (
	StepCreate   = "create"
	StepFeatures = "features"
	StepStart    = "start"
	StepWait     = "wait"
	StepFiles    = "files"
	StepDiscover = "discover"
)

// PackageManagers lists the managers in install order.
var PackageManagers = []string{"apt", "npm", "pip", "custom"}

// StepList is Steps with keys, in order.
func (p Plan) StepList() []Step {
	s := []Step{
		{Key: StepCreate, Label: fmt.Sprintf("Create container %d (%s) on %s", p.VMID, p.Hostname, p.PVENode)},
	}
	if cmd := p.FeaturesCommand(); cmd != "" {
		s = append(s, Step{Key: StepFeatures, Label: "Set feature flags as root: " + cmd})
	}
	s = append(s,
		Step{Key: StepStart, Label: "Start the container"},
		Step{Key: StepWait, Label: "Wait until the container is up"},
	)
	if p.CleanSnapshot {
		s = append(s, Step{Key: StepSnapshot, Label: "Snapshot the clean system as " + CleanSnapshotName})
	}
	if len(p.Files) > 0 {
		s = append(s, Step{Key: StepFiles, Label: fmt.Sprintf("Deploy %d file(s)", len(p.Files))})
	}
	for _, m := range PackageManagers {
		if n := len(p.packagesOf(m)); n > 0 {
			s = append(s, Step{Key: "pkg:" + m, Label: fmt.Sprintf("Install %d %s package(s)", n, m)})
		}
	}
	for i, sc := range p.Scripts {
		s = append(s, Step{Key: fmt.Sprintf("script:%d", i), Label: "Run script " + sc.Name, Script: sc.Name})
	}
	return append(s, Step{Key: StepDiscover, Label: "Discover services"})
}

func (p Plan) packagesOf(manager string) []Package {
	var out []Package
	for _, pk := range p.Packages {
		if pk.Manager == manager {
			out = append(out, pk)
		}
	}
	return out
}

// Features are LXC feature flags, the ones Corral offers; their names are
// fixed, so a property string built from them needs no quoting.
type Features struct {
	Nesting, Keyctl, Fuse bool
}

// String is the features property string, e.g. "nesting=1,keyctl=1"; ""
// when no flag is set.
func (f Features) String() string {
	var parts []string
	for _, flag := range []struct {
		name string
		on   bool
	}{{"nesting", f.Nesting}, {"keyctl", f.Keyctl}, {"fuse", f.Fuse}} {
		if flag.on {
			parts = append(parts, flag.name+"=1")
		}
	}
	return strings.Join(parts, ",")
}

// APIFeatures are the flags the create request itself may carry: an API
// token may set only nesting, and only on an unprivileged container
// (Proxmox answers 403 to anything else from anyone but root@pam).
func (c CreateSpec) APIFeatures() Features {
	return Features{Nesting: c.Nesting && c.Unprivileged}
}

// RootFeatures are the flags the features step sets as root with `pct set`
// before the first start, or the zero value when the create request sets
// every wanted flag. pct set replaces the whole property, so nesting is
// repeated there.
func (c CreateSpec) RootFeatures() Features {
	want := Features{Nesting: c.Nesting, Keyctl: c.Keyctl, Fuse: c.Fuse}
	if want == c.APIFeatures() {
		return Features{}
	}
	return want
}

// FeaturesCommand is the host command of the features step as the user
// reads it, e.g. "pct set 120 --features nesting=1,keyctl=1"; "" when the
// plan has no such step.
func (p Plan) FeaturesCommand() string {
	cmd, err := pctSetFeaturesCommand(p.VMID, p.Create.RootFeatures())
	if err != nil {
		return ""
	}
	return cmd
}
