package pvesim

import (
	"log/slog"
	"time"

	"golang.org/x/crypto/ssh"
)

// Options describe a simulated Proxmox estate. The zero value is usable: one
// standalone node "pve" with the default storages and templates, no guests and
// no tokens.
type Options struct {
	// Clusters are corosync clusters; every node of a cluster answers for the others.
	Clusters []ClusterSpec
	// Standalone nodes are each their own one-node estate without a cluster row.
	Standalone []string

	// Seed makes generated values (DHCP leases, MAC addresses, the aplinfo
	// order, task pids) deterministic. Certificates and host keys stay random.
	Seed int64
	// TaskDuration is roughly how long a task runs from UPID to "stopped".
	// Zero means 300ms; use a negative value for "as fast as possible".
	TaskDuration time.Duration
	// LockTimeout is how long a config change waits for a task that holds
	// the container's config lock (resize, restore) before failing with
	// "can't lock file … - got timeout". Zero means PVE's 10s.
	LockTimeout time.Duration
	// AuthFailDelay is how long a request with a bad token waits before its
	// 401. Real PVE waits about 3s; zero answers at once.
	AuthFailDelay time.Duration

	// Tokens are API tokens known to every cluster and standalone node.
	Tokens []TokenSpec
	// Guests exist at start (containers and QEMU VMs).
	Guests []GuestSpec
	// Templates are vztmpl file names already downloaded to storage "local" of
	// every node. Nil means DefaultTemplates.
	Templates []string

	// RootPassword is the SSH password of root on every node (default "pvesim").
	RootPassword string
	// AuthorizedKeys may log in as root on every node.
	AuthorizedKeys []ssh.PublicKey

	// Dir holds container data and the nodes' host-side directories. Empty
	// means a fresh temporary directory that Close removes.
	Dir string
	// Persist keeps the estate in Dir across restarts (see persist.go):
	// certificates, host keys, ports (when still free), guests and
	// downloaded templates come back; Guests only seed a fresh estate.
	Persist bool
	// Subnets pins the member addresses of the named clusters to a /24 of
	// loopback, written "127.A.B." (see addresses.go), for tests that need
	// two estates reporting the same addresses, as twin clusters of two
	// home labs would; other estates get a random one.
	Subnets map[string]string
	// Logger receives the simulator's own diagnostics (nil discards them).
	Logger *slog.Logger
	// Now is the clock (nil means time.Now).
	Now func() time.Time
}

// ClusterSpec names a cluster and its nodes, in node-id order.
type ClusterSpec struct {
	Name  string
	Nodes []string
}

// GuestType is "lxc" or "qemu".
type GuestType string

// Guest types, as PVE spells them in /cluster/resources.
const (
	LXC  GuestType = "lxc"
	QEMU GuestType = "qemu"
)

// GuestSpec describes a guest that exists when the simulator starts.
type GuestSpec struct {
	Node      string
	VMID      int
	Type      GuestType // default LXC
	Name      string    // default CT<vmid> / VM<vmid>
	Running   bool
	Cores     int // default 1
	MemoryMiB int // default 512
	DiskGiB   int // default 8
	Tags      string
	Net0      string // default "name=eth0,bridge=vmbr0,ip=dhcp"
	Template  bool
}

// DefaultTemplates are the vztmpl files present on "local" unless Options.Templates says otherwise.
var DefaultTemplates = []string{
	"debian-12-standard_12.12-1_amd64.tar.zst",
	"ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
}

// DemoTokenID and DemoTokenSecret are the API token DemoOptions installs.
const (
	DemoTokenID     = "corral@pve!corral"
	DemoTokenSecret = "5a1e6f0c-8c1d-4d7e-9a51-3c0ffee0d3e0"
)

// DemoOptions is the estate `corral demo` shows: cluster "homelab" (pve1..pve3),
// standalone node "pve-solo", a Corral token with exactly the privileges Corral
// needs, and a few containers and VMs, some running.
func DemoOptions() Options {
	return Options{
		Clusters:   []ClusterSpec{{Name: "homelab", Nodes: []string{"pve1", "pve2", "pve3"}}},
		Standalone: []string{"pve-solo"},
		Seed:       1,
		Tokens: []TokenSpec{{
			User: "corral@pve", ID: "corral", Secret: DemoTokenSecret,
			Privsep: true, Privileges: CorralACL(),
		}},
		Guests: []GuestSpec{
			{Node: "pve1", VMID: 100, Name: "pihole", Running: true, Cores: 1, MemoryMiB: 512, DiskGiB: 4, Tags: "dns;infra"},
			{Node: "pve1", VMID: 101, Name: "mqtt", Running: true, Cores: 1, MemoryMiB: 256, DiskGiB: 2},
			{Node: "pve2", VMID: 102, Name: "nextcloud", Running: false, Cores: 2, MemoryMiB: 2048, DiskGiB: 32, Tags: "web"},
			{Node: "pve2", VMID: 200, Type: QEMU, Name: "homeassistant", Running: true, Cores: 2, MemoryMiB: 4096, DiskGiB: 32},
			{Node: "pve3", VMID: 103, Name: "jellyfin", Running: true, Cores: 4, MemoryMiB: 4096, DiskGiB: 16, Tags: "media"},
			{Node: "pve3", VMID: 201, Type: QEMU, Name: "win11", Running: false, Cores: 4, MemoryMiB: 8192, DiskGiB: 64},
			{Node: "pve-solo", VMID: 100, Name: "backup", Running: true, Cores: 1, MemoryMiB: 1024, DiskGiB: 8},
		},
	}
}
