package clusters

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"corral/proxmox"
	"corral/store"
)

// The deadline policy of every cluster read: a member may take
// MemberDeadline before the next member of its cluster is asked, and the
// whole cluster gives up after ClusterDeadline. Read reads clusters in
// parallel, so a page waits at most ClusterDeadline, whatever the number
// of broken nodes.
const (
	MemberDeadline  = 4 * time.Second
	ClusterDeadline = 10 * time.Second
)

// errNoList is an answer without a guest list: an empty cluster answers
// {"data":[]}, and no data at all must not pass for a cluster where every
// VMID is free.
var errNoList = errors.New("the answer held no guest list")

// Reader reads clusters through the cached clients. Safe for concurrent
// use.
type Reader struct {
	clients         Clients
	member, cluster time.Duration
}

// Option adjusts a Reader.
type Option func(*Reader)

// WithDeadlines replaces MemberDeadline and ClusterDeadline (tests).
func WithDeadlines(member, cluster time.Duration) Option {
	return func(r *Reader) { r.member, r.cluster = member, cluster }
}

// NewReader reads through clients.
func NewReader(clients Clients, opts ...Option) *Reader {
	r := &Reader{clients: clients, member: MemberDeadline, cluster: ClusterDeadline}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Problem names a node that could not be read, and why in plain words.
type Problem struct {
	Node    store.Node
	Message string
	Err     error // nil for a member that was not asked
}

// Cluster is what one read of a cluster found.
type Cluster struct {
	Members []store.Node
	// Resources is what the first member that answered listed; nil when
	// none did.
	Resources []proxmox.Resource
	// Failed names, in order, the members that did not answer and those
	// left unasked when the cluster's time ran out.
	Failed []Problem
}

// Err says why no member answered; nil when one did.
func (c Cluster) Err() error {
	if c.Resources != nil {
		return nil
	}
	var errs []error
	for _, p := range c.Failed {
		if p.Err != nil {
			errs = append(errs, fmt.Errorf("via %s: %w", PVEName(p.Node), p.Err))
		}
	}
	return fmt.Errorf("clusters: no member answered: %w", errors.Join(errs...))
}

// ReadCluster asks members, the nodes of one cluster, for
// /cluster/resources in order until one answers.
func (r *Reader) ReadCluster(ctx context.Context, members []store.Node) Cluster {
	ctx, cancel := context.WithTimeout(ctx, r.cluster)
	defer cancel()
	out := Cluster{Members: members}
	for i, n := range members {
		res, err := r.resources(ctx, n)
		if err == nil {
			out.Resources = res
			return out
		}
		out.Failed = append(out.Failed, Problem{Node: n, Message: proxmox.Describe(err), Err: err})
		if ctx.Err() != nil {
			// Members after the deadline are named too, so none goes
			// unexplained.
			for _, m := range members[i+1:] {
				out.Failed = append(out.Failed, Problem{Node: m, Message: "not asked: its cluster did not answer in time"})
			}
			break
		}
	}
	return out
}

func (r *Reader) resources(ctx context.Context, n store.Node) ([]proxmox.Resource, error) {
	ctx, cancel := context.WithTimeout(ctx, r.member)
	defer cancel()
	api, err := r.clients(n)
	if err != nil {
		return nil, err
	}
	res, err := api.ClusterResources(ctx)
	if err == nil && res == nil {
		err = errNoList
	}
	return res, err
}

// Guest is an LXC container on one of the user's nodes, as its cluster
// reported it.
type Guest struct {
	Node store.Node
	Res  proxmox.Resource
}

// Estate is what Read found in all of a user's clusters.
type Estate struct {
	Guests   []Guest
	Problems []Problem
	// Answered holds the ids of nodes whose cluster answered; a Corral
	// record on another node is stale rather than missing.
	Answered map[string]bool
}

// Read reads every cluster of nodes (one user's) once, all at once. It
// never fails: what could not be read becomes a problem.
func (r *Reader) Read(ctx context.Context, nodes []store.Node) Estate {
	groups := Groups(nodes)
	clusters := make([]Cluster, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() { clusters[i] = r.ReadCluster(ctx, g) })
	}
	wg.Wait()
	out := Estate{Answered: map[string]bool{}}
	for _, c := range clusters {
		out.Problems = append(out.Problems, c.Failed...)
		if c.Resources == nil {
			continue
		}
		for _, m := range c.Members {
			out.Answered[m.ID] = true
		}
		guests, offline := containers(c)
		out.Guests = append(out.Guests, guests...)
		out.Problems = append(out.Problems, offline...)
	}
	return out
}

// containers are the LXC containers (not templates) of an answered cluster
// on its members. A member that is down still has its guests listed by the
// others, all in state unknown: it is named rather than shown as a silent
// grid.
func containers(c Cluster) (guests []Guest, offline []Problem) {
	byName := map[string]store.Node{}
	for _, m := range c.Members {
		byName[PVEName(m)] = m
	}
	unknown, total := map[string]int{}, map[string]int{}
	for _, r := range c.Resources {
		m, ok := byName[r.Node]
		if !ok || r.Type != "lxc" || bool(r.Template) {
			continue
		}
		guests = append(guests, Guest{Node: m, Res: r})
		total[m.ID]++
		if r.Status == "unknown" {
			unknown[m.ID]++
		}
	}
	named := map[string]bool{}
	for _, p := range c.Failed {
		named[p.Node.ID] = true
	}
	for _, m := range c.Members {
		if !named[m.ID] && total[m.ID] > 0 && unknown[m.ID] == total[m.ID] {
			offline = append(offline, Problem{Node: m,
				Message: "the cluster reports the state of all its containers as unknown; the node is probably offline"})
		}
	}
	return guests, offline
}
