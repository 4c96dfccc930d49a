package clusters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"corral/proxmox"
	"corral/store"
)

// RefreshInterval is the default of --refresh-interval: how often the
// background job re-reads every cluster, and how old an entry may be before
// opening the wizard re-reads it.
const RefreshInterval = time.Minute

// RefreshParallel is how many clusters RefreshAll reads at once.
const RefreshParallel = 8

// AllNodeLister lists every user's nodes, for the background refresh;
// *store.DB is one.
type AllNodeLister interface {
	AllNodes(ctx context.Context) ([]store.Node, error)
}

// VMIDCheck is the answer about one VMID.
type VMIDCheck struct {
	Free   bool
	Known  bool               // false: the cluster could not be read, Free means nothing
	Holder proxmox.VMIDHolder // who holds it when !Free
}

// VMIDs keeps, per account and cluster (Key), every guest id of the
// cluster in a proxmox.VMIDStore, filled by reads through the Reader.
// Reads of one cluster never run twice at once: a second caller joins the
// first, and a read outlives callers that give up (the cache still wants
// it), but not Close.
type VMIDs struct {
	cache    proxmox.VMIDStore
	reader   *Reader
	nodes    AllNodeLister
	log      *slog.Logger
	interval time.Duration
	parallel int
	observe  func(RefreshResult)
	lookups  func(hit bool)

	flights singleflight.Group
	bg      sync.WaitGroup
	base    context.Context // reads end with Close
	stop    context.CancelFunc
}

// VMIDOption adjusts VMIDs.
type VMIDOption func(*VMIDs)

// WithRefreshInterval sets the age after which RefreshIfStale re-reads
// (use the background job's period).
func WithRefreshInterval(d time.Duration) VMIDOption { return func(v *VMIDs) { v.interval = d } }

// WithRefreshParallel bounds how many clusters RefreshAll reads at once.
func WithRefreshParallel(n int) VMIDOption { return func(v *VMIDs) { v.parallel = max(n, 1) } }

// WithRefreshObserver is told each cluster's result of RefreshAll as it
// ends (tests, metrics).
func WithRefreshObserver(f func(RefreshResult)) VMIDOption { return func(v *VMIDs) { v.observe = f } }

// WithLookupObserver is told, for each Check, whether the cache answered
// (hit) or the cluster had to be read (metrics).
func WithLookupObserver(f func(hit bool)) VMIDOption { return func(v *VMIDs) { v.lookups = f } }

// NewVMIDs answers from cache (proxmox.NewMemVMIDStore, or the Redis
// fallback store) and fills it through reader. Close it on shutdown.
func NewVMIDs(cache proxmox.VMIDStore, reader *Reader, nodes AllNodeLister, log *slog.Logger, opts ...VMIDOption) *VMIDs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := &VMIDs{cache: cache, reader: reader, nodes: nodes, log: log, interval: RefreshInterval, parallel: RefreshParallel}
	for _, o := range opts {
		o(v)
	}
	v.base, v.stop = context.WithCancel(context.Background())
	// Every answered read of a cluster, the dashboard's included, stores
	// its guests: one reader feeds both.
	reader.OnRead(func(ctx context.Context, key string, c Cluster) {
		if err := v.cache.Put(ctx, key, proxmox.GuestsFromResources(c.Resources)); err != nil {
			v.log.Warn("vmid cache: storing a read failed", "cluster", key, "err", err)
		}
	})
	return v
}

// Close abandons reads still running and waits for background refreshes.
func (v *VMIDs) Close() {
	v.stop()
	v.bg.Wait()
}

// Check says whether vmid is free in n's cluster, from the cache, reading
// the cluster first when the cache has no fresh entry or cannot answer. A
// cluster that cannot be read is an answer (Known false), not an error;
// only the caller's own cancellation is.
func (v *VMIDs) Check(ctx context.Context, n store.Node, vmid int) (VMIDCheck, error) {
	key := Key(n)
	l, err := v.cache.Lookup(ctx, key, vmid)
	if v.lookups != nil {
		v.lookups(err == nil)
	}
	if err != nil {
		if !errors.Is(err, proxmox.ErrVMIDMiss) {
			v.log.Debug("vmid cache: lookup failed, reading the cluster", "cluster", key, "err", err)
		}
		var guests map[int]proxmox.VMIDHolder
		guests, err = v.refresh(ctx, key, []store.Node{n})
		h, taken := guests[vmid]
		l = proxmox.VMIDLookup{Taken: taken, Holder: h}
	}
	if err != nil {
		if ctx.Err() != nil {
			return VMIDCheck{}, ctx.Err()
		}
		v.log.Debug("vmid check: cluster unreadable", "node", n.ID, "vmid", vmid, "err", err)
		return VMIDCheck{}, nil
	}
	return VMIDCheck{Free: !l.Taken, Known: true, Holder: l.Holder}, nil
}

// RefreshIfStale re-reads n's cluster when its entry is missing or older
// than the refresh interval (the wizard calls it when opened). It returns
// at once: the read goes on in the background, and a Check meanwhile
// joins it instead of reading again.
func (v *VMIDs) RefreshIfStale(_ context.Context, n store.Node) {
	v.bg.Go(func() {
		key := Key(n)
		if age, err := v.cache.Age(v.base, key); err == nil && age < v.interval {
			return
		}
		if _, err := v.refresh(v.base, key, []store.Node{n}); err != nil {
			v.log.Debug("vmid refresh on wizard open failed", "node", n.ID, "err", err)
		}
	})
}

// NoteCreated records at once that Corral created vmid in n's cluster.
func (v *VMIDs) NoteCreated(ctx context.Context, n store.Node, vmid int, name string) {
	v.reader.Forget(n) // the next dashboard shows it
	h := proxmox.VMIDHolder{Kind: "lxc", Name: name, Node: n.PVENodeName}
	if err := v.cache.NoteCreated(ctx, Key(n), vmid, h); err != nil {
		v.log.Warn("vmid cache: note created", "node", n.ID, "vmid", vmid, "err", err)
	}
}

// NoteDeleted records at once that Corral deleted vmid from n's cluster.
func (v *VMIDs) NoteDeleted(ctx context.Context, n store.Node, vmid int) {
	v.reader.Forget(n)
	if err := v.cache.NoteDeleted(ctx, Key(n), vmid); err != nil {
		v.log.Warn("vmid cache: note deleted", "node", n.ID, "vmid", vmid, "err", err)
	}
}

// RefreshResult is the outcome for one cluster of RefreshAll.
type RefreshResult struct {
	Key      string
	Guests   int
	Err      error
	Duration time.Duration // the read, from taking a slot to its answer
}

// RefreshAll re-reads every account's view of each of its clusters, once
// per account and cluster and through that account's nodes, for the
// periodic job; up to the parallel bound at once, each cluster under its
// own deadline, so a dead one never delays the others beyond taking one
// slot. Clusters that could not be read are logged at debug level (a
// powered-off lab would otherwise warn every minute) and counted in the
// error.
func (v *VMIDs) RefreshAll(ctx context.Context) error {
	nodes, err := v.nodes.AllNodes(ctx)
	if err != nil {
		return fmt.Errorf("vmid refresh: list nodes: %w", err)
	}
	groups := Groups(nodes)
	results := make([]RefreshResult, len(groups))
	slots := make(chan struct{}, v.parallel)
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() {
			res := RefreshResult{Key: Key(g[0])}
			select {
			case slots <- struct{}{}:
				start := time.Now()
				guests, err := v.refresh(ctx, res.Key, g)
				<-slots
				res.Guests, res.Err, res.Duration = len(guests), err, time.Since(start)
			case <-ctx.Done():
				res.Err = ctx.Err()
			}
			results[i] = res
			if v.observe != nil {
				v.observe(res)
			}
		})
	}
	wg.Wait()
	var failed []error
	for _, r := range results {
		if r.Err != nil {
			v.log.Debug("vmid refresh failed", "cluster", r.Key, "err", r.Err)
			failed = append(failed, r.Err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("vmid refresh: %d of the clusters could not be read: %w", len(failed), errors.Join(failed...))
	}
	return nil
}

// refresh reads the cluster key through members and returns its guests
// (the read stores them, see NewVMIDs). Concurrent calls for one key share one read, which goes on
// for the others (and the cache) if this caller gives up.
func (v *VMIDs) refresh(ctx context.Context, key string, members []store.Node) (map[int]proxmox.VMIDHolder, error) {
	ch := v.flights.DoChan(key, func() (any, error) {
		c := v.reader.ReadCluster(v.base, members)
		if err := c.Err(); err != nil {
			v.log.Debug("vmid cache: refresh failed", "cluster", key, "err", err)
			return nil, fmt.Errorf("vmid refresh %s: %w", key, err)
		}
		// The reader's observer (NewVMIDs) stored them.
		return proxmox.GuestsFromResources(c.Resources), nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[int]proxmox.VMIDHolder), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("vmid refresh %s: %w", key, ctx.Err())
	}
}
