package handlers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"corral/proxmox"
	"corral/store"
)

// ProxmoxAPI is what the pages use of one Proxmox node's REST API;
// *proxmox.Client satisfies it. One interface for all areas, because every
// area talks to the same client and tests use the real one against pvesim.
type ProxmoxAPI interface {
	Version(ctx context.Context) (*proxmox.Version, error)
	ClusterStatus(ctx context.Context) (*proxmox.ClusterStatus, error)
	ClusterResources(ctx context.Context) ([]proxmox.Resource, error)
	Nodes(ctx context.Context) ([]proxmox.Node, error)
	NodeStatus(ctx context.Context, node string) (*proxmox.NodeStatus, error)
	NextID(ctx context.Context) (int, error)
	Permissions(ctx context.Context, path string) (proxmox.Permissions, error)
	LXCs(ctx context.Context, node string) ([]proxmox.Container, error)
	LXCStatus(ctx context.Context, node string, vmid int) (*proxmox.ContainerStatus, error)
	LXCConfig(ctx context.Context, node string, vmid int) (proxmox.LXCConfig, error)
	LXCInterfaces(ctx context.Context, node string, vmid int) ([]proxmox.Interface, error)
	LXCRRDData(ctx context.Context, node string, vmid int, timeframe string) ([]proxmox.RRDPoint, error)
	CreateLXC(ctx context.Context, node string, p proxmox.CreateLXCParams) (string, error)
	Start(ctx context.Context, node string, vmid int) (string, error)
	Stop(ctx context.Context, node string, vmid int) (string, error)
	Shutdown(ctx context.Context, node string, vmid int, timeout time.Duration, forceStop bool) (string, error)
	Reboot(ctx context.Context, node string, vmid int) (string, error)
	Delete(ctx context.Context, node string, vmid int, o proxmox.DeleteOptions) (string, error)
	WaitTask(ctx context.Context, node, upid string, onLog func(line string)) error
	TaskStatus(ctx context.Context, node, upid string) (*proxmox.TaskStatus, error)
	TaskLog(ctx context.Context, node, upid string, start, limit int) ([]proxmox.LogLine, int, error)
	Storages(ctx context.Context, node, content string) ([]proxmox.Storage, error)
	StorageContent(ctx context.Context, node, storage, content string) ([]proxmox.Volume, error)
	Bridges(ctx context.Context, node string) ([]proxmox.NetworkInterface, error)
	Aplinfo(ctx context.Context, node string) ([]proxmox.Appliance, error)
	DownloadAppliance(ctx context.Context, node, storage, template string) (string, error)
}

// ProxmoxFactory opens the API of a stored node with its pinned trust.
type ProxmoxFactory func(n store.Node) (ProxmoxAPI, error)

// maxCachedClients bounds the factory's clients; past it the cache starts over.
const maxCachedClients = 64

// NewProxmoxFactory builds clients from node records; main and tests share
// it. A client is kept per node settings and reused, so a page does not pay
// a TLS handshake per node per request; new settings (a re-pinned
// certificate, a new secret) get a new client.
func NewProxmoxFactory(log *slog.Logger, opts ...proxmox.Option) ProxmoxFactory {
	o := append([]proxmox.Option{proxmox.WithLogger(log)}, opts...)
	var mu sync.Mutex
	clients := map[proxmox.Config]*proxmox.Client{}
	return func(n store.Node) (ProxmoxAPI, error) {
		cfg := ProxmoxConfig(n)
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[cfg]; ok {
			return sharedClient{c}, nil
		}
		c, err := proxmox.New(cfg, o...)
		if err != nil {
			return nil, err
		}
		if len(clients) >= maxCachedClients {
			for k, old := range clients {
				old.Close()
				delete(clients, k)
			}
		}
		clients[cfg] = c
		return sharedClient{c}, nil
	}
}

// sharedClient hides Close: a cached client outlives the request using it.
type sharedClient struct{ ProxmoxAPI }

// ProxmoxConfig is a node record as client settings.
func ProxmoxConfig(n store.Node) proxmox.Config {
	return proxmox.Config{
		Host: n.Host, Port: n.Port, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
		Fingerprint: n.TLSFingerprint, UseCA: n.TLSUseCA,
	}
}
