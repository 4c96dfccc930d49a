package proxmox

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Container is a row of GET /nodes/{node}/lxc (sizes in bytes, CPU a fraction).
type Container struct {
	VMID      Int    `json:"vmid"` // a string before PVE 8.2
	Name      string `json:"name"`
	Status    string `json:"status"` // running or stopped
	Type      string `json:"type"`
	CPUs      Float  `json:"cpus"`
	CPU       Float  `json:"cpu"`
	Mem       Int    `json:"mem"`
	MaxMem    Int    `json:"maxmem"`
	Swap      Int    `json:"swap"`
	MaxSwap   Int    `json:"maxswap"`
	Disk      Int    `json:"disk"`
	MaxDisk   Int    `json:"maxdisk"`
	NetIn     Int    `json:"netin"`
	NetOut    Int    `json:"netout"`
	DiskRead  Int    `json:"diskread"`
	DiskWrite Int    `json:"diskwrite"`
	Uptime    Int    `json:"uptime"`
	PID       Int    `json:"pid"` // only while running
	Tags      string `json:"tags"`
	Lock      string `json:"lock"`
	Template  Bool   `json:"template"`
}

// TagList splits the ';'-separated tags.
func (ct Container) TagList() []string { return splitTags(ct.Tags) }

// ContainerStatus is GET .../status/current: a list row plus HA state.
type ContainerStatus struct {
	Container
	HA struct {
		Managed Bool   `json:"managed"` // 0/1, or true/false on some versions
		State   string `json:"state"`
		Group   string `json:"group"`
	} `json:"ha"`
}

func lxcPath(node string, vmid int, rest ...string) string {
	return apiPath(append([]string{"nodes", node, "lxc", strconv.Itoa(vmid)}, rest...)...)
}

// LXCs lists the containers on one node.
func (c *Client) LXCs(ctx context.Context, node string) ([]Container, error) {
	var out []Container
	if err := c.get(ctx, apiPath("nodes", node, "lxc"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// LXCStatus returns a container's live status. A vmid that is not on this
// node is a KindNotFound error.
func (c *Client) LXCStatus(ctx context.Context, node string, vmid int) (*ContainerStatus, error) {
	var out ContainerStatus
	if err := c.get(ctx, lxcPath(node, vmid, "status", "current"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WaitLXCStatus polls until the container's status is want ("running",
// "stopped"), for starts Proxmox runs as a task of their own (rollback or
// restore with start=1). It returns the status error or a KindCanceled or
// KindTimeout *Error when ctx ends first.
func (c *Client) WaitLXCStatus(ctx context.Context, node string, vmid int, want string) error {
	ticker := time.NewTicker(c.poll)
	defer ticker.Stop()
	for {
		st, err := c.LXCStatus(ctx, node, vmid)
		if err != nil {
			return err
		}
		if st.Status == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return c.stoppedWaiting(ctx, "stopped waiting for CT "+strconv.Itoa(vmid)+" to be "+want)
		case <-ticker.C:
		}
	}
}

// Interface is a row of GET .../interfaces (runtime addresses).
type Interface struct {
	Name            string      `json:"name"`
	HWAddr          string      `json:"hwaddr"`
	Inet            string      `json:"inet"`  // last IPv4, CIDR form
	Inet6           string      `json:"inet6"` // last IPv6, CIDR form
	HardwareAddress string      `json:"hardware-address"`
	IPAddresses     []IPAddress `json:"ip-addresses"` // PVE 8.4+
}

// IPAddress is one address of an Interface (PVE 8.4+).
type IPAddress struct {
	Address string `json:"ip-address"`
	Type    string `json:"ip-address-type"` // inet or inet6
	Prefix  Int    `json:"prefix"`
}

// LXCInterfaces returns a running container's interfaces; nil for a stopped one.
func (c *Client) LXCInterfaces(ctx context.Context, node string, vmid int) ([]Interface, error) {
	var out []Interface
	if err := c.get(ctx, lxcPath(node, vmid, "interfaces"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// PrimaryIPv4 returns the first IPv4 address (without mask) of a non-loopback
// interface, or "" when there is none.
func PrimaryIPv4(ifaces []Interface) string {
	for _, in := range ifaces {
		if in.Name == "lo" {
			continue
		}
		for _, a := range in.IPAddresses {
			if a.Type == "inet" && !strings.HasPrefix(a.Address, "127.") {
				return a.Address
			}
		}
		if ip, _, _ := strings.Cut(in.Inet, "/"); ip != "" && !strings.HasPrefix(ip, "127.") {
			return ip
		}
	}
	return ""
}

// RRDPoint is one sample of GET .../rrddata; a gap leaves fields zero.
type RRDPoint struct {
	Time      Int   `json:"time"`
	CPU       Float `json:"cpu"`
	MaxCPU    Float `json:"maxcpu"`
	Mem       Float `json:"mem"`
	MaxMem    Float `json:"maxmem"`
	Disk      Float `json:"disk"`
	MaxDisk   Float `json:"maxdisk"`
	NetIn     Float `json:"netin"`
	NetOut    Float `json:"netout"`
	DiskRead  Float `json:"diskread"`
	DiskWrite Float `json:"diskwrite"`
}

// LXCRRDData returns averaged samples for timeframe (hour, day, week, ...).
func (c *Client) LXCRRDData(ctx context.Context, node string, vmid int, timeframe string) ([]RRDPoint, error) {
	q := url.Values{"timeframe": {timeframe}, "cf": {"AVERAGE"}}
	var out []RRDPoint
	if err := c.get(ctx, lxcPath(node, vmid, "rrddata"), q, &out); err != nil {
		return nil, err
	}
	return out, nil
}
