package proxmox

import (
	"context"
	"net/url"
)

// Node is a row of GET /nodes. Metrics are nil when the token lacks Sys.Audit
// on the node or the node is offline: absent means unknown, not zero.
type Node struct {
	Node           string `json:"node"`
	Status         string `json:"status"` // online, offline, unknown
	Type           string `json:"type"`
	ID             string `json:"id"`
	Level          string `json:"level"`
	SSLFingerprint string `json:"ssl_fingerprint"`
	CPU            *Float `json:"cpu"`
	MaxCPU         *Int   `json:"maxcpu"`
	Mem            *Int   `json:"mem"`
	MaxMem         *Int   `json:"maxmem"`
	Disk           *Int   `json:"disk"`
	MaxDisk        *Int   `json:"maxdisk"`
	Uptime         *Int   `json:"uptime"`
}

// Nodes lists the cluster's nodes.
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	var out []Node
	if err := c.get(ctx, "/nodes", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// NodeStatus is GET /nodes/{node}/status (sizes in bytes).
type NodeStatus struct {
	Uptime     Int     `json:"uptime"`
	CPU        Float   `json:"cpu"`
	Wait       Float   `json:"wait"`
	LoadAvg    []Float `json:"loadavg"` // sent as strings
	KVersion   string  `json:"kversion"`
	PVEVersion string  `json:"pveversion"`
	CPUInfo    struct {
		CPUs    Int    `json:"cpus"`
		Cores   Int    `json:"cores"`
		Sockets Int    `json:"sockets"`
		Model   string `json:"model"`
		MHz     Float  `json:"mhz"` // sent as a string
	} `json:"cpuinfo"`
	Memory struct {
		Total     Int `json:"total"`
		Used      Int `json:"used"`
		Free      Int `json:"free"`
		Available Int `json:"available"` // 8.x+
	} `json:"memory"`
	Swap struct {
		Total Int `json:"total"`
		Used  Int `json:"used"`
		Free  Int `json:"free"`
	} `json:"swap"`
	RootFS struct {
		Total Int `json:"total"`
		Used  Int `json:"used"`
		Free  Int `json:"free"`
		Avail Int `json:"avail"`
	} `json:"rootfs"`
	CurrentKernel struct {
		Sysname string `json:"sysname"`
		Release string `json:"release"`
		Version string `json:"version"`
		Machine string `json:"machine"`
	} `json:"current-kernel"`
	BootInfo struct {
		Mode       string `json:"mode"`
		SecureBoot Bool   `json:"secureboot"`
	} `json:"boot-info"`
}

// NodeStatus returns a node's load, memory and versions. Needs Sys.Audit.
func (c *Client) NodeStatus(ctx context.Context, node string) (*NodeStatus, error) {
	var out NodeStatus
	if err := c.get(ctx, apiPath("nodes", node, "status"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NetworkInterface is a row of GET /nodes/{node}/network.
type NetworkInterface struct {
	Iface       string   `json:"iface"`
	Type        string   `json:"type"` // bridge, OVSBridge, eth, bond, vlan, ...
	Method      string   `json:"method"`
	Method6     string   `json:"method6"`
	Families    []string `json:"families"`
	Active      Bool     `json:"active"`
	Autostart   Bool     `json:"autostart"`
	Exists      Bool     `json:"exists"`
	Address     string   `json:"address"`
	Netmask     string   `json:"netmask"`
	CIDR        string   `json:"cidr"`
	Gateway     string   `json:"gateway"`
	Address6    string   `json:"address6"`
	CIDR6       string   `json:"cidr6"`
	BridgePorts string   `json:"bridge_ports"`
	VLANAware   Bool     `json:"bridge_vlan_aware"`
	MTU         Int      `json:"mtu"`
	Comments    string   `json:"comments"`
}

// Network lists a node's interfaces; typ filters (bridge, any_bridge, ...) or "" for all.
func (c *Client) Network(ctx context.Context, node, typ string) ([]NetworkInterface, error) {
	var q url.Values
	if typ != "" {
		q = url.Values{"type": {typ}}
	}
	var out []NetworkInterface
	if err := c.get(ctx, apiPath("nodes", node, "network"), q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Bridges lists the bridges a container's net0 can use (Linux and OVS bridges).
func (c *Client) Bridges(ctx context.Context, node string) ([]NetworkInterface, error) {
	return c.Network(ctx, node, "any_bridge")
}
