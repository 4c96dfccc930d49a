package proxmox

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Version is GET /version.
type Version struct {
	Version string `json:"version"` // 9.0.6, or 7.4-16 on older releases
	Release string `json:"release"`
	RepoID  string `json:"repoid"`
	Console string `json:"console,omitempty"`
}

// Version returns the node's Proxmox VE version; the cheapest token check.
func (c *Client) Version(ctx context.Context) (*Version, error) {
	var v Version
	if err := c.get(ctx, "/version", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ClusterStatus is GET /cluster/status, folded into one value.
type ClusterStatus struct {
	Name    string // cluster name, "" for a standalone node
	Quorate bool
	Version int64 // corosync config version
	Nodes   []ClusterNode
}

// ClusterNode is a node row of /cluster/status.
type ClusterNode struct {
	Name   string
	ID     string // node/<name>
	NodeID int64
	IP     string
	Online bool
	Local  bool // the node this client talks to
	Level  string
}

// clusterStatusRow is one row of /cluster/status; type is "cluster" or "node".
type clusterStatusRow struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Nodes   Int    `json:"nodes"`
	Quorate Bool   `json:"quorate"`
	Version Int    `json:"version"`
	NodeID  Int    `json:"nodeid"`
	IP      string `json:"ip"`
	Online  Bool   `json:"online"`
	Local   Bool   `json:"local"`
	Level   string `json:"level"`
}

// ClusterStatus returns the cluster name and members. Needs Sys.Audit on /.
// A standalone node has no cluster row, so Name is "" and the node is alone.
func (c *Client) ClusterStatus(ctx context.Context) (*ClusterStatus, error) {
	var rows []clusterStatusRow
	if err := c.get(ctx, "/cluster/status", nil, &rows); err != nil {
		return nil, err
	}
	var cs ClusterStatus
	for _, r := range rows {
		switch r.Type {
		case "cluster":
			cs.Name, cs.Quorate, cs.Version = r.Name, bool(r.Quorate), int64(r.Version)
		case "node":
			cs.Nodes = append(cs.Nodes, ClusterNode{
				Name: r.Name, ID: r.ID, NodeID: int64(r.NodeID), IP: r.IP,
				Online: bool(r.Online), Local: bool(r.Local), Level: r.Level,
			})
		}
	}
	if cs.Name == "" && len(cs.Nodes) > 0 {
		cs.Quorate = true // a standalone node is trivially quorate
	}
	return &cs, nil
}

// Resource is a guest row of GET /cluster/resources?type=vm (LXC and QEMU).
// A guest without statistics yet has Status "unknown" and zero metrics.
type Resource struct {
	ID        string `json:"id"` // lxc/105 or qemu/100
	VMID      Int    `json:"vmid"`
	Node      string `json:"node"`
	Type      string `json:"type"` // lxc or qemu
	Status    string `json:"status"`
	Name      string `json:"name"`
	CPU       Float  `json:"cpu"`
	MaxCPU    Float  `json:"maxcpu"`
	Mem       Int    `json:"mem"`
	MaxMem    Int    `json:"maxmem"`
	Disk      Int    `json:"disk"`
	MaxDisk   Int    `json:"maxdisk"`
	NetIn     Int    `json:"netin"`
	NetOut    Int    `json:"netout"`
	DiskRead  Int    `json:"diskread"`
	DiskWrite Int    `json:"diskwrite"`
	Uptime    Int    `json:"uptime"`
	Template  Bool   `json:"template"`
	Tags      string `json:"tags"`
	Lock      string `json:"lock"`
	Pool      string `json:"pool"`
	HAState   string `json:"hastate"`
}

// TagList splits the ';'-separated tags.
func (r Resource) TagList() []string { return splitTags(r.Tags) }

// ClusterResources returns every guest of the cluster (type=vm: containers and
// VMs), the source of truth for which VMIDs exist and where.
func (c *Client) ClusterResources(ctx context.Context) ([]Resource, error) {
	var out []Resource
	if err := c.get(ctx, "/cluster/resources", url.Values{"type": {"vm"}}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// NextID returns the lowest free VMID of the cluster (sent as a string).
func (c *Client) NextID(ctx context.Context) (int, error) {
	var id Int
	if err := c.get(ctx, "/cluster/nextid", nil, &id); err != nil {
		return 0, err
	}
	return int(id), nil
}

// VMIDFree asks Proxmox whether vmid is unused in the cluster. It is only a
// check: creation is the authority, since two creators can race.
func (c *Client) VMIDFree(ctx context.Context, vmid int) (bool, error) {
	var id Int
	err := c.get(ctx, "/cluster/nextid", url.Values{"vmid": {strconv.Itoa(vmid)}}, &id)
	if err != nil {
		var perr *Error
		if asError(err, &perr) && perr.Status == 400 && strings.Contains(perr.Params["vmid"], "already exists") {
			return false, nil
		}
		return false, err
	}
	if int(id) != vmid {
		return false, &Error{Kind: KindBadResponse, Host: c.addr, Method: "GET", Path: "/cluster/nextid",
			Message: fmt.Sprintf("asked about VMID %d, got %d", vmid, id)}
	}
	return true, nil
}
