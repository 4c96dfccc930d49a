package provision

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
)

// nodes is the connector over the store's node records, the shared API
// clients and Dial.
type nodes struct {
	db      Store
	clients clusters.Clients
	dial    func(ctx context.Context, n store.Node) (Shell, error)
}

func (c nodes) Proxmox(ctx context.Context, userID, nodeID string) (ProxmoxOps, error) {
	n, err := c.db.Node(ctx, userID, nodeID)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	api, err := c.clients(n)
	if err != nil {
		return nil, err
	}
	return proxmoxOps{api: api}, nil
}

func (c nodes) Shell(ctx context.Context, userID, nodeID string) (Shell, error) {
	n, err := c.db.Node(ctx, userID, nodeID)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return c.dial(ctx, n)
}

// noteVMID tells the VMID cache that j created (or deleted) its container.
func (r *Runner) noteVMID(ctx context.Context, j store.Job, created bool) {
	if r.cfg.VMIDs == nil {
		return
	}
	n, err := r.cfg.Store.Node(ctx, j.UserID, j.Plan.NodeID)
	if err != nil {
		return
	}
	if created {
		r.cfg.VMIDs.NoteCreated(ctx, n, j.Plan.VMID, j.Plan.Hostname)
	} else {
		r.cfg.VMIDs.NoteDeleted(ctx, n, j.Plan.VMID)
	}
}

// nodeAPI is what the pipeline uses of a node's API; *proxmox.Client is
// one.
type nodeAPI interface {
	CreateLXC(ctx context.Context, node string, p proxmox.CreateLXCParams) (string, error)
	LXCConfig(ctx context.Context, node string, vmid int) (proxmox.LXCConfig, error)
	LXCStatus(ctx context.Context, node string, vmid int) (*proxmox.ContainerStatus, error)
	Start(ctx context.Context, node string, vmid int) (string, error)
	Delete(ctx context.Context, node string, vmid int, o proxmox.DeleteOptions) (string, error)
	WaitTask(ctx context.Context, node, upid string, onLog func(line string)) error
}

// proxmoxOps adapts the API client to ProxmoxOps and its errors to the
// pipeline's sentinels.
type proxmoxOps struct{ api nodeAPI }

func (o proxmoxOps) CreateLXC(ctx context.Context, p store.Plan, notes string) (string, error) {
	params := CreateParams(p)
	params.Password = rand.Text() // random and never kept: access is by SSH key, pct and the gateway
	params.Description = notes
	upid, err := o.api.CreateLXC(ctx, p.PVENode, params)
	return upid, mapProxmoxErr(err)
}

func (o proxmoxOps) Guest(ctx context.Context, node string, vmid int) (GuestInfo, error) {
	cfg, err := o.api.LXCConfig(ctx, node, vmid)
	if err != nil {
		return GuestInfo{}, mapProxmoxErr(err)
	}
	return GuestInfo{Hostname: cfg.Hostname(), Description: cfg["description"], Lock: cfg.Lock()}, nil
}

func (o proxmoxOps) Start(ctx context.Context, node string, vmid int) (string, error) {
	upid, err := o.api.Start(ctx, node, vmid)
	return upid, mapProxmoxErr(err)
}

func (o proxmoxOps) Status(ctx context.Context, node string, vmid int) (string, error) {
	st, err := o.api.LXCStatus(ctx, node, vmid)
	if err != nil {
		return "", mapProxmoxErr(err)
	}
	return st.Status, nil
}

func (o proxmoxOps) Delete(ctx context.Context, node string, vmid int) (string, error) {
	upid, err := o.api.Delete(ctx, node, vmid, proxmox.DeleteOptions{Purge: true, Force: true, DestroyUnreferencedDisks: true})
	return upid, mapProxmoxErr(err)
}

func (o proxmoxOps) WaitTask(ctx context.Context, node, upid string, onLog func(string)) error {
	return mapProxmoxErr(o.api.WaitTask(ctx, node, upid, onLog))
}

func mapProxmoxErr(err error) error {
	var pe *proxmox.Error
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Kind {
	case proxmox.KindNotFound:
		return fmt.Errorf("%w: %w", ErrGuestMissing, err)
	case proxmox.KindUnreachable:
		return fmt.Errorf("%w: %w", ErrDropped, err)
	}
	return err
}

// CreateParams is the create request the pipeline sends for p, without
// the root password (a random one, discarded, is added when sending).
func CreateParams(p store.Plan) proxmox.CreateLXCParams {
	c := p.Create
	swap := c.SwapMB
	unpriv := c.Unprivileged
	params := proxmox.CreateLXCParams{
		VMID: p.VMID, OSTemplate: c.OSTemplate, Hostname: p.Hostname, Storage: c.Storage,
		Cores: c.Cores, Memory: c.MemoryMB, Swap: &swap,
		SSHPublicKeys: c.SSHPublicKeys, Unprivileged: &unpriv, OnBoot: c.OnBoot,
		Tags: c.Tags, Nameserver: c.Nameserver,
	}
	if c.DiskGB > 0 {
		params.RootFS = fmt.Sprintf("%s:%d", c.Storage, c.DiskGB)
		if c.Storage == "" {
			params.RootFS = fmt.Sprint(c.DiskGB)
		}
	}
	if c.Bridge != "" {
		ip := c.IPv4
		if ip == "" {
			ip = "dhcp"
		}
		params.Net = map[int]proxmox.NetConfig{0: {Name: "eth0", Bridge: c.Bridge, IP: ip, GW: c.Gateway}}
	}
	// Only what a token may set; keyctl and fuse follow as root (pct set)
	// in the pipeline's features step.
	if f := APIFeatures(c); f.Nesting {
		params.Features = &proxmox.Features{Nesting: true}
	}
	return params
}
