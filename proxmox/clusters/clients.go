package clusters

import (
	"log/slog"
	"sync"

	"corral/proxmox"
	"corral/store"
)

// Clients opens the API of a stored node with its pinned trust. The client
// is shared by every caller with the node's settings: do not Close it.
type Clients func(n store.Node) (*proxmox.Client, error)

// maxCachedClients bounds the clients kept; past it the cache starts over.
const maxCachedClients = 64

// NewClients keeps one client per node settings and reuses it, so a page
// does not pay a TLS handshake per node per request; new settings (a
// re-pinned certificate, a new secret) get a new client. opts go to every
// client (tests pass a resolver or root CAs).
func NewClients(log *slog.Logger, opts ...proxmox.Option) Clients {
	o := append([]proxmox.Option{proxmox.WithLogger(log)}, opts...)
	var mu sync.Mutex
	clients := map[proxmox.Config]*proxmox.Client{}
	return func(n store.Node) (*proxmox.Client, error) {
		cfg := Config(n)
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[cfg]; ok {
			return c, nil
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
		return c, nil
	}
}

// Config is a node record as client settings.
func Config(n store.Node) proxmox.Config {
	return proxmox.Config{
		Host: n.Host, Port: n.Port, TokenID: n.TokenID, TokenSecret: n.TokenSecret,
		Fingerprint: n.TLSFingerprint, UseCA: n.TLSUseCA,
	}
}

// PVEName is the node's name inside Proxmox.
func PVEName(n store.Node) string {
	if n.PVENodeName != "" {
		return n.PVENodeName
	}
	return n.Name
}

// Key names the cluster a node record reads, in its owner's view: the
// cluster key is what the server claims, so two accounts' views never join
// (proxmox.VMIDKey). A record without a cluster key (not re-probed since
// keys existed) is a cluster of its own.
func Key(n store.Node) string {
	cluster := n.ClusterKey
	if cluster == "" {
		cluster = "record:" + n.ID
	}
	return proxmox.VMIDKey(n.UserID, cluster)
}

// Groups splits nodes by Key, keeping their order within each cluster and
// the order in which the clusters first appear.
func Groups(nodes []store.Node) [][]store.Node {
	var groups [][]store.Node
	idx := map[string]int{}
	for _, n := range nodes {
		k := Key(n)
		i, ok := idx[k]
		if !ok {
			i = len(groups)
			idx[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], n)
	}
	return groups
}
