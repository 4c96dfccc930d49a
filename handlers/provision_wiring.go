package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"corral/exec"
	"corral/exec/provision"
	"corral/proxmox"
	"corral/store"
)

// ProvisionStore is what the provisioning pipeline keeps in the database;
// *store.DB satisfies it.
type ProvisionStore interface {
	provision.JobStore
	Node(ctx context.Context, userID, nodeID string) (store.Node, error)
	// Template lets the owner of a job's template retry it with the
	// template's current scripts.
	Template(ctx context.Context, userID, id string) (store.Template, error)
}

// *provision.Runner is the Provisioner main wires in.
var _ Provisioner = (*provision.Runner)(nil)

// ProvisionerConfig wires the pipeline to the store, Proxmox and SSH.
type ProvisionerConfig struct {
	Store   ProvisionStore
	Proxmox ProxmoxFactory
	VMIDs   VMIDCache // may be nil
	Logger  *slog.Logger
	// Dial opens an SSH connection to a node's host; nil means exec.Dial.
	Dial func(ctx context.Context, t exec.HostTarget) (provision.Shell, error)
	// Workers, FlushInterval and WaitInterval tune the runner (see
	// provision.RunnerConfig); zero takes its defaults.
	Workers       int
	FlushInterval time.Duration
	WaitInterval  time.Duration
}

// NewProvisioner builds the creation job runner. main calls Recover once,
// then runs Run in the background; the runner is Deps.Provisioner.
func NewProvisioner(cfg ProvisionerConfig) (*provision.Runner, error) {
	if cfg.Dial == nil {
		cfg.Dial = func(ctx context.Context, t exec.HostTarget) (provision.Shell, error) { return exec.Dial(ctx, t) }
	}
	nodeFor := func(ctx context.Context, j store.Job) (store.Node, bool) {
		n, err := cfg.Store.Node(ctx, j.UserID, j.Plan.NodeID)
		return n, err == nil
	}
	rc := provision.RunnerConfig{
		Store:         cfg.Store,
		Connector:     connector{db: cfg.Store, factory: cfg.Proxmox, dial: cfg.Dial},
		Logger:        cfg.Logger,
		Workers:       cfg.Workers,
		FlushInterval: cfg.FlushInterval,
		WaitInterval:  cfg.WaitInterval,
		Scripts:       templateScripts{db: cfg.Store},
	}
	if cfg.VMIDs != nil {
		rc.OnCreated = func(ctx context.Context, j store.Job) {
			if n, ok := nodeFor(ctx, j); ok {
				cfg.VMIDs.NoteCreated(ctx, n, j.Plan.VMID, j.Plan.Hostname)
			}
		}
		rc.OnDeleted = func(ctx context.Context, j store.Job) {
			if n, ok := nodeFor(ctx, j); ok {
				cfg.VMIDs.NoteDeleted(ctx, n, j.Plan.VMID)
			}
		}
	}
	return provision.NewRunner(rc)
}

// connector opens a user's node for the pipeline.
type connector struct {
	db      ProvisionStore
	factory ProxmoxFactory
	dial    func(ctx context.Context, t exec.HostTarget) (provision.Shell, error)
}

func (c connector) Proxmox(ctx context.Context, userID, nodeID string) (provision.ProxmoxOps, error) {
	n, err := c.db.Node(ctx, userID, nodeID)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	api, err := c.factory(n)
	if err != nil {
		return nil, err
	}
	return proxmoxOps{api: api}, nil
}

func (c connector) Shell(ctx context.Context, userID, nodeID string) (provision.Shell, error) {
	n, err := c.db.Node(ctx, userID, nodeID)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return c.dial(ctx, HostTargetFor(n))
}

// proxmoxOps adapts the API client to provision.ProxmoxOps and its errors to
// exec's sentinels.
type proxmoxOps struct{ api ProxmoxAPI }

func (o proxmoxOps) CreateLXC(ctx context.Context, p store.Plan, notes string) (string, error) {
	params := createParams(p)
	params.Description = notes
	upid, err := o.api.CreateLXC(ctx, p.PVENode, params)
	return upid, mapProxmoxErr(err)
}

func (o proxmoxOps) Guest(ctx context.Context, node string, vmid int) (provision.GuestInfo, error) {
	cfg, err := o.api.LXCConfig(ctx, node, vmid)
	if err != nil {
		return provision.GuestInfo{}, mapProxmoxErr(err)
	}
	return provision.GuestInfo{Hostname: cfg.Hostname(), Description: cfg["description"], Lock: cfg.Lock()}, nil
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
		return fmt.Errorf("%w: %w", provision.ErrGuestMissing, err)
	case proxmox.KindUnreachable:
		return fmt.Errorf("%w: %w", provision.ErrDropped, err)
	}
	return err
}

// createParams maps a plan to the create request. The root password is
// random and never kept: access is by SSH key, pct and the gateway.
func createParams(p store.Plan) proxmox.CreateLXCParams {
	c := p.Create
	swap := c.SwapMB
	unpriv := c.Unprivileged
	params := proxmox.CreateLXCParams{
		VMID: p.VMID, OSTemplate: c.OSTemplate, Hostname: p.Hostname, Storage: c.Storage,
		Cores: c.Cores, Memory: c.MemoryMB, Swap: &swap, Password: rand.Text(),
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
	if f := provision.APIFeatures(c); f.Nesting {
		params.Features = &proxmox.Features{Nesting: true}
	}
	return params
}

// TemplateReader reads one template a user may see; *store.DB is one.
type TemplateReader interface {
	Template(ctx context.Context, userID, id string) (store.Template, error)
}

// templateScripts adapts the template store to provision.ScriptSource. It gives
// a template's scripts only to its owner: a job never takes content from a
// built-in or from another account's template, shared or not.
type templateScripts struct{ db TemplateReader }

func (s templateScripts) TemplateScripts(ctx context.Context, userID, templateID string) (map[string]string, error) {
	t, err := s.db.Template(ctx, userID, templateID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !t.EditableBy(userID)) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return scriptsByName(t), nil
}

// scriptsByName maps a template's scripts, enabled or not, to their
// content: the job keeps the enabled set the wizard chose.
func scriptsByName(t store.Template) map[string]string {
	m := make(map[string]string, len(t.Scripts))
	for _, sc := range t.Scripts {
		if _, dup := m[sc.Name]; !dup {
			m[sc.Name] = sc.Content
		}
	}
	return m
}
