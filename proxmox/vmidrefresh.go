package proxmox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Refresh defaults: a cluster gets VMIDRefreshTimeout in all to answer, and
// RefreshAll reads at most VMIDRefreshParallel clusters at once.
const (
	VMIDRefreshTimeout  = 15 * time.Second
	VMIDRefreshParallel = 8
)

// errVMIDNoList is an answer without a guest list.
var errVMIDNoList = errors.New("the answer held no guest list")

// VMIDTarget is one way to read a cluster's guests: one of its nodes as
// the account of Key registered it, so an account's view is only ever read
// through that account's own nodes. Callers outside this package build it from their
// node records.
type VMIDTarget struct {
	Key    string // the cache key (VMIDKey): the account and the node's cluster
	Node   string // the node's name inside Proxmox, for logs
	Config Config
}

// GuestLister reads a cluster's guests; *Client satisfies it.
type GuestLister interface {
	ClusterResources(ctx context.Context) ([]Resource, error)
}

// VMIDRefreshResult is the outcome for one cluster of RefreshAll.
type VMIDRefreshResult struct {
	Key    string
	Guests int
	Err    error
}

// VMIDRefresher fills a VMIDStore from Proxmox, one /cluster/resources read
// per cluster, never two at once for the same cluster.
type VMIDRefresher struct {
	store    VMIDStore
	log      *slog.Logger
	open     func(Config) (GuestLister, error)
	timeout  time.Duration
	parallel int
	observe  func(VMIDRefreshResult)

	flights singleflight.Group
	base    context.Context // reads outlive their callers, not the refresher
	stop    context.CancelFunc
}

// RefreshOption adjusts a VMIDRefresher.
type RefreshOption func(*VMIDRefresher)

// WithRefreshTimeout bounds each cluster's read (all its nodes together).
func WithRefreshTimeout(d time.Duration) RefreshOption {
	return func(r *VMIDRefresher) { r.timeout = d }
}

// WithRefreshParallel bounds how many clusters RefreshAll reads at once.
func WithRefreshParallel(n int) RefreshOption {
	return func(r *VMIDRefresher) { r.parallel = max(n, 1) }
}

// WithRefreshOpener replaces how a target's client is made (default New).
func WithRefreshOpener(open func(Config) (GuestLister, error)) RefreshOption {
	return func(r *VMIDRefresher) { r.open = open }
}

// WithRefreshObserver is told each cluster's result of RefreshAll as it ends.
func WithRefreshObserver(f func(VMIDRefreshResult)) RefreshOption {
	return func(r *VMIDRefresher) { r.observe = f }
}

// NewVMIDRefresher refreshes into store. Close it on shutdown.
func NewVMIDRefresher(store VMIDStore, log *slog.Logger, opts ...RefreshOption) *VMIDRefresher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &VMIDRefresher{store: store, log: log, timeout: VMIDRefreshTimeout, parallel: VMIDRefreshParallel}
	r.open = func(c Config) (GuestLister, error) { return New(c, WithLogger(log)) }
	for _, o := range opts {
		o(r)
	}
	r.base, r.stop = context.WithCancel(context.Background())
	return r
}

// Close abandons reads still running.
func (r *VMIDRefresher) Close() { r.stop() }

// Refresh reads the cluster of targets (which share one Key) through the
// first target that answers, stores its guests and returns them. Concurrent
// calls for one cluster share one read, which goes on for the others (and
// the cache) if this caller gives up.
func (r *VMIDRefresher) Refresh(ctx context.Context, targets ...VMIDTarget) (map[int]VMIDHolder, error) {
	if len(targets) == 0 {
		return nil, errors.New("proxmox: vmid refresh: no target")
	}
	key := targets[0].Key
	ch := r.flights.DoChan(key, func() (any, error) { return r.read(key, targets) })
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[int]VMIDHolder), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("proxmox: vmid refresh %s: %w", key, ctx.Err())
	}
}

// read tries each target in turn, giving each a fair share of what is left
// of the cluster's time, so one dead node leaves time for the next.
func (r *VMIDRefresher) read(key string, targets []VMIDTarget) (map[int]VMIDHolder, error) {
	ctx, cancel := context.WithTimeout(r.base, r.timeout)
	defer cancel()
	var errs []error
	for i, t := range targets {
		deadline, _ := ctx.Deadline()
		share := time.Until(deadline) / time.Duration(len(targets)-i)
		guests, err := r.readOne(ctx, t, share)
		if err == nil {
			if err := r.store.Put(ctx, key, guests); err != nil {
				r.log.Warn("vmid cache: storing a refresh failed", "cluster", key, "err", err)
			}
			return guests, nil
		}
		errs = append(errs, fmt.Errorf("via %s: %w", t.Node, err))
		if ctx.Err() != nil {
			break
		}
	}
	r.log.Debug("vmid cache: refresh failed", "cluster", key, "err", errors.Join(errs...))
	return nil, fmt.Errorf("proxmox: vmid refresh %s: %w", key, errors.Join(errs...))
}

func (r *VMIDRefresher) readOne(ctx context.Context, t VMIDTarget, d time.Duration) (map[int]VMIDHolder, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	c, err := r.open(t.Config)
	if err != nil {
		return nil, err
	}
	if cl, ok := c.(interface{ Close() }); ok {
		defer cl.Close()
	}
	rows, err := c.ClusterResources(ctx)
	if err != nil {
		return nil, err
	}
	// An empty cluster answers {"data":[]}; no data at all (an empty body)
	// must not become a list that makes every id look free.
	if rows == nil {
		return nil, errVMIDNoList
	}
	return GuestsFromResources(rows), nil
}

// RefreshAll refreshes every cluster named by targets once, however many
// targets point at it, reading up to the parallel bound at once; each
// cluster has its own timeout, so a dead one never delays the others beyond
// taking one slot. Results come in the order the clusters first appear.
func (r *VMIDRefresher) RefreshAll(ctx context.Context, targets []VMIDTarget) []VMIDRefreshResult {
	var order []string
	byKey := map[string][]VMIDTarget{}
	for _, t := range targets {
		if _, seen := byKey[t.Key]; !seen {
			order = append(order, t.Key)
		}
		byKey[t.Key] = append(byKey[t.Key], t)
	}
	results := make([]VMIDRefreshResult, len(order))
	slots := make(chan struct{}, r.parallel)
	var wg sync.WaitGroup
	for i, key := range order {
		wg.Go(func() {
			res := VMIDRefreshResult{Key: key}
			select {
			case slots <- struct{}{}:
				guests, err := r.Refresh(ctx, byKey[key]...)
				<-slots
				res.Guests, res.Err = len(guests), err
			case <-ctx.Done():
				res.Err = ctx.Err()
			}
			results[i] = res
			if r.observe != nil {
				r.observe(res)
			}
		})
	}
	wg.Wait()
	return results
}
