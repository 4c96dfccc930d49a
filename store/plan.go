package store

// Plan is everything one container creation will do, fixed when the user
// confirms the wizard's Review step: the provisioning pipeline runs exactly
// this, the Review page shows exactly this, and a job keeps it as it was
// reviewed (a retry runs it again). It holds no root password: Proxmox gets
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

	// CleanSnapshot takes a snapshot once the container is up, before
	// files, packages and scripts, so a failed provisioning can be rolled
	// back to it and retried (provision.Runner.RetryFromSnapshot).
	CleanSnapshot bool
}

// CreateSpec is the Proxmox create request without secrets.
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
	// Features are Unprivileged and the feature flags. An API token sets
	// only nesting; keyctl and fuse are set as root before the first start.
	Features
	Tags   []string
	OnBoot bool
}

// PackagesBy returns the plan's packages of manager m, in order.
func (p Plan) PackagesBy(m PackageManager) []Package { return packagesBy(p.Packages, m) }
