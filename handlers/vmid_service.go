package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"corral/proxmox"
	"corral/store"
)

// VMIDRefreshInterval is the default of --refresh-interval: how often the
// background job re-reads every cluster, and how old an entry may be before
// opening the wizard re-reads it.
const VMIDRefreshInterval = time.Minute

// AllNodeLister lists every user's nodes, for the background refresh;
// *store.DB is one.
type AllNodeLister interface {
	AllNodes(ctx context.Context) ([]store.Node, error)
}

// VMIDService is the VMIDCache main wires in: node records adapted to the
// proxmox package's cluster-keyed cache and refresher.
type VMIDService struct {
	refresher *proxmox.VMIDRefresher
	nodes     AllNodeLister
	log       *slog.Logger
	interval  time.Duration

	bg   sync.WaitGroup
	base context.Context // background refreshes end with Close
	stop context.CancelFunc
}

// VMIDOption adjusts a VMIDService.
type VMIDOption func(*vmidOptions)

type vmidOptions struct {
	interval  time.Duration
	refresher []proxmox.RefreshOption
}

// WithVMIDRefreshInterval sets the age after which RefreshIfStale re-reads
// (use the same value as the background job's period).
func WithVMIDRefreshInterval(d time.Duration) VMIDOption {
	return func(o *vmidOptions) { o.interval = d }
}

// WithVMIDRefresherOptions passes options to the proxmox.VMIDRefresher.
func WithVMIDRefresherOptions(opts ...proxmox.RefreshOption) VMIDOption {
	return func(o *vmidOptions) { o.refresher = append(o.refresher, opts...) }
}

// NewVMIDService answers from cache (proxmox.NewMemVMIDStore, or the Redis
// fallback store) and refreshes it from the nodes' clusters. Close it on
// shutdown.
func NewVMIDService(cache proxmox.VMIDStore, nodes AllNodeLister, log *slog.Logger, opts ...VMIDOption) *VMIDService {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := vmidOptions{interval: VMIDRefreshInterval}
	for _, f := range opts {
		f(&o)
	}
	s := &VMIDService{
		refresher: proxmox.NewVMIDRefresher(cache, log, o.refresher...),
		nodes:     nodes, log: log, interval: o.interval,
	}
	s.base, s.stop = context.WithCancel(context.Background())
	return s
}

// Close stops background refreshes and waits for them.
func (s *VMIDService) Close() {
	s.stop()
	s.refresher.Close()
	s.bg.Wait()
}

// vmidTarget is a node record as a refresh target, in its owner's view of
// its cluster: the cluster key is what the server claims, so it never
// joins two accounts' views. A record without a cluster key (not re-probed
// since keys existed) is its own space.
func vmidTarget(n store.Node) proxmox.VMIDTarget {
	cluster := n.ClusterKey
	if cluster == "" {
		cluster = "record:" + n.ID
	}
	key := proxmox.VMIDKey(n.UserID, cluster)
	name := n.PVENodeName
	if name == "" {
		name = n.Name
	}
	return proxmox.VMIDTarget{Key: key, Node: name, Config: ProxmoxConfig(n)}
}

// Check implements VMIDCache. A cluster that cannot be read is an answer
// (Known false), not an error; only the caller's own cancellation is.
func (s *VMIDService) Check(ctx context.Context, n store.Node, vmid int) (VMIDCheck, error) {
	l, err := s.refresher.Check(ctx, vmid, vmidTarget(n))
	if err != nil {
		if ctx.Err() != nil {
			return VMIDCheck{}, ctx.Err()
		}
		s.log.Debug("vmid check: cluster unreadable", "node", n.ID, "vmid", vmid, "err", err)
		return VMIDCheck{}, nil
	}
	return VMIDCheck{Free: !l.Taken, Known: true, Holder: l.Holder}, nil
}

// RefreshIfStale implements VMIDCache. It returns at once: the read goes on
// in the background, and a Check meanwhile joins it instead of reading again.
func (s *VMIDService) RefreshIfStale(_ context.Context, n store.Node) {
	s.bg.Go(func() {
		if err := s.refresher.RefreshIfOlder(s.base, s.interval, vmidTarget(n)); err != nil {
			s.log.Debug("vmid refresh on wizard open failed", "node", n.ID, "err", err)
		}
	})
}

// NoteCreated implements VMIDCache.
func (s *VMIDService) NoteCreated(ctx context.Context, n store.Node, vmid int, name string) {
	h := proxmox.VMIDHolder{Kind: "lxc", Name: name, Node: n.PVENodeName}
	if err := s.refresher.NoteCreated(ctx, vmidTarget(n).Key, vmid, h); err != nil {
		s.log.Warn("vmid cache: note created", "node", n.ID, "vmid", vmid, "err", err)
	}
}

// NoteDeleted implements VMIDCache.
func (s *VMIDService) NoteDeleted(ctx context.Context, n store.Node, vmid int) {
	if err := s.refresher.NoteDeleted(ctx, vmidTarget(n).Key, vmid); err != nil {
		s.log.Warn("vmid cache: note deleted", "node", n.ID, "vmid", vmid, "err", err)
	}
}

// RefreshAll re-reads every account's view of each of its clusters, once
// per account and cluster and through that account's nodes, for the
// periodic job. Clusters that could not be read are logged at debug level
// (a powered-off lab would otherwise warn every minute) and counted in the
// error.
func (s *VMIDService) RefreshAll(ctx context.Context) error {
	nodes, err := s.nodes.AllNodes(ctx)
	if err != nil {
		return fmt.Errorf("vmid refresh: list nodes: %w", err)
	}
	targets := make([]proxmox.VMIDTarget, 0, len(nodes))
	for _, n := range nodes {
		targets = append(targets, vmidTarget(n))
	}
	var failed []error
	for _, r := range s.refresher.RefreshAll(ctx, targets) {
		if r.Err != nil {
			s.log.Debug("vmid refresh failed", "cluster", r.Key, "err", r.Err)
			failed = append(failed, r.Err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("vmid refresh: %d of the clusters could not be read: %w", len(failed), errors.Join(failed...))
	}
	return nil
}
