package exec

import "fmt"

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
	Keyctl        bool
	Fuse          bool
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
	s := []string{
		fmt.Sprintf("Create container %d (%s) on %s", p.VMID, p.Hostname, p.PVENode),
		"Start the container",
		"Wait for the network",
	}
	if len(p.Files) > 0 {
		s = append(s, fmt.Sprintf("Deploy %d file(s)", len(p.Files)))
	}
	for _, m := range []string{"apt", "npm", "pip", "custom"} {
		n := 0
		for _, pk := range p.Packages {
			if pk.Manager == m {
				n++
			}
		}
		if n > 0 {
			s = append(s, fmt.Sprintf("Install %d %s package(s)", n, m))
		}
	}
	for _, sc := range p.Scripts {
		s = append(s, "Run script "+sc.Name)
	}
	s = append(s, "Discover services")
	return s
}
