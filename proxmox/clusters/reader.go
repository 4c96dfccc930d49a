package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

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

// Reader reads clusters through the cached clients. Reads are shared:
// callers asking the same cluster with the same token and pins at once
// join one read, and with WithFreshness a read that answered serves
// everyone asking again within the window, so a dashboard refreshed by
// twenty people costs the cluster one /cluster/resources per window. The
// token is part of what is shared because Proxmox filters what a token
// may see: two accounts with their own tokens never share a read. Safe for
// concurrent use.
type Reader struct {
	clients         Clients
	member, cluster time.Duration
	fresh           time.Duration
	now             func() time.Time

	flights   singleflight.Group
	mu        sync.Mutex
	recent    map[string]recentRead // by share key, reads that answered
	observers []func(ctx context.Context, key string, c Cluster)
}

// recentRead is an answered read kept for the freshness window.
type recentRead struct {
	at      time.Time
	cluster string // the ClusterKey it read, for Forget
	result  attempt
}

// attempt is one read of a cluster, independent of whose records asked:
// members are named by their index in the list that was asked.
type attempt struct {
	val    any // what the member that answered returned; nil when none did
	via    int
	failed []failure
	recent bool // served from the freshness window, not asked now
}

type failure struct {
	index   int
	message string
	err     error
}

// Option adjusts a Reader.
type Option func(*Reader)

// WithDeadlines replaces MemberDeadline and ClusterDeadline (tests).
func WithDeadlines(member, cluster time.Duration) Option {
	return func(r *Reader) { r.member, r.cluster = member, cluster }
}

// DefaultFreshness is how long serve lets an answered read serve others:
// half the dashboard's refresh, so a page polled every 10 s still moves.
const DefaultFreshness = 5 * time.Second

// WithFreshness lets an answered read serve every caller asking the same
// cluster with the same token within d; zero (the default) shares only
// concurrent reads.
func WithFreshness(d time.Duration) Option { return func(r *Reader) { r.fresh = d } }

// WithClock replaces time.Now for the freshness window (tests).
func WithClock(now func() time.Time) Option { return func(r *Reader) { r.now = now } }

// NewReader reads through clients.
func NewReader(clients Clients, opts ...Option) *Reader {
	r := &Reader{clients: clients, member: MemberDeadline, cluster: ClusterDeadline, now: time.Now, recent: map[string]recentRead{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// OnRead registers f to be told of every answered ReadCluster that asked
// Proxmox (or joined a read that did), with the caller's cluster Key: the
// VMID cache fills itself from the dashboard's reads this way, so one read
// feeds both.
func (r *Reader) OnRead(f func(ctx context.Context, key string, c Cluster)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observers = append(r.observers, f)
}

// Forget drops the answered reads of n's cluster, so the next read asks
// Proxmox: after Corral changed something there (a container started,
// created or deleted).
func (r *Reader) Forget(n store.Node) {
	cluster := clusterOf(n)
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range r.recent {
		if v.cluster == cluster {
			delete(r.recent, k)
		}
	}
}

func clusterOf(n store.Node) string {
	if n.ClusterKey == "" {
		return "record:" + n.ID
	}
	return n.ClusterKey
}

// shareKey names what a read of members may be shared by: the cluster,
// the token (Proxmox filters by it) and every member's address and pin,
// in order (a failure names a member by its place in the list).
func shareKey(kind string, members []store.Node) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", kind)
	for _, m := range members {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s:%d\x00%s\x00%t\n", clusterOf(m), m.TokenID, m.TokenSecret, m.Host, m.Port,
			strings.ToUpper(m.TLSFingerprint), m.TLSUseCA)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Problem names a node that could not be read, and why in plain words.
type Problem struct {
	Node store.Node
	// Member names the Proxmox node at fault when it is not Node itself
	// (a member the user did not register); "" otherwise.
	Member  string
	Message string
	Err     error // nil for a member that was not asked
	// AnsweredVia names the member that answered for the cluster when
	// this one did not (failover); "" when no member answered.
	AnsweredVia string
}

// Cluster is what one read of a cluster found.
type Cluster struct {
	Members []store.Node
	// Resources is what the first member that answered listed; nil when
	// none did.
	Resources []proxmox.Resource
	// Via is the member that answered.
	Via store.Node
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
	out := Cluster{Members: members}
	if len(members) == 0 {
		return out
	}
	a := r.shared(ctx, "resources", members, func(ctx context.Context, api *proxmox.Client) (any, error) {
		res, err := api.ClusterResources(ctx)
		if err == nil && res == nil {
			err = errNoList
		}
		return res, err
	})
	out.Failed = a.problems(members)
	if a.val != nil {
		out.Resources, out.Via = a.val.([]proxmox.Resource), members[a.via]
		if a.recent {
			return out // its observers heard of it when it was read
		}
		r.mu.Lock()
		observers := r.observers
		r.mu.Unlock()
		for _, f := range observers {
			f(context.WithoutCancel(ctx), Key(members[0]), out)
		}
	}
	return out
}

// Membership is what /cluster/status says of a cluster, read through one
// of the user's members.
type Membership struct {
	Status *proxmox.ClusterStatus // nil when no member answered
	Via    store.Node
	Failed []Problem
}

// Members reads /cluster/status through members, the nodes of one
// cluster, in order until one answers; shared like ReadCluster.
func (r *Reader) Members(ctx context.Context, members []store.Node) Membership {
	var out Membership
	if len(members) == 0 {
		return out
	}
	a := r.shared(ctx, "status", members, func(ctx context.Context, api *proxmox.Client) (any, error) {
		return api.ClusterStatus(ctx)
	})
	out.Failed = a.problems(members)
	if a.val != nil {
		out.Status, out.Via = a.val.(*proxmox.ClusterStatus), members[a.via]
	}
	return out
}

// problems names the failures of an attempt with the caller's records.
func (a attempt) problems(members []store.Node) []Problem {
	out := make([]Problem, 0, len(a.failed))
	for _, f := range a.failed {
		out = append(out, Problem{Node: members[f.index], Message: f.message, Err: f.err})
	}
	return out
}

// shared answers from a fresh read of the same cluster, token and pins,
// or joins the read under way, or starts one. The read outlives a caller
// that gives up (others may be waiting for it), bounded by the cluster
// deadline.
func (r *Reader) shared(ctx context.Context, kind string, members []store.Node, call func(context.Context, *proxmox.Client) (any, error)) attempt {
	key := shareKey(kind, members)
	if r.fresh > 0 {
		r.mu.Lock()
		rec, ok := r.recent[key]
		r.mu.Unlock()
		if ok && r.now().Sub(rec.at) < r.fresh {
			a := rec.result
			a.recent = true
			return a
		}
	}
	ch := r.flights.DoChan(key, func() (any, error) {
		a := r.ask(context.WithoutCancel(ctx), members, call)
		if a.val != nil && r.fresh > 0 {
			r.mu.Lock()
			r.prune()
			r.recent[key] = recentRead{at: r.now(), cluster: clusterOf(members[0]), result: a}
			r.mu.Unlock()
		}
		return a, nil
	})
	select {
	case res := <-ch:
		return res.Val.(attempt)
	case <-ctx.Done():
		return attempt{failed: []failure{{index: 0, message: proxmox.Describe(ctx.Err()), err: ctx.Err()}}}
	}
}

// prune drops reads past the window; r.mu is held.
func (r *Reader) prune() {
	now := r.now()
	for k, v := range r.recent {
		if now.Sub(v.at) >= r.fresh {
			delete(r.recent, k)
		}
	}
}

// ask tries members in order under the deadline policy.
func (r *Reader) ask(ctx context.Context, members []store.Node, call func(context.Context, *proxmox.Client) (any, error)) attempt {
	ctx, cancel := context.WithTimeout(ctx, r.cluster)
	defer cancel()
	var out attempt
	for i, n := range members {
		val, err := r.askOne(ctx, n, call)
		if err == nil {
			out.val, out.via = val, i
			return out
		}
		out.failed = append(out.failed, failure{index: i, message: proxmox.Describe(err), err: err})
		if ctx.Err() != nil {
			// Members after the deadline are named too, so none goes
			// unexplained.
			for j := i + 1; j < len(members); j++ {
				out.failed = append(out.failed, failure{index: j, message: "not asked: its cluster did not answer in time"})
			}
			break
		}
	}
	return out
}

func (r *Reader) askOne(ctx context.Context, n store.Node, call func(context.Context, *proxmox.Client) (any, error)) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, r.member)
	defer cancel()
	api, err := r.clients(n)
	if err != nil {
		return nil, err
	}
	return call(ctx, api)
}

// Guest is an LXC container in one of the user's clusters, as its cluster
// reported it.
type Guest struct {
	// Node is the record to reach the container through: its own
	// member's when the user registered that member, else the member
	// that answered (the API forwards lifecycle calls; SSH cannot reach
	// the container from there).
	// A pointer: the guests of a member share its record (thousands of
	// copies of it were most of a dashboard's allocations).
	Node *store.Node
	// Member is the Proxmox node that holds it.
	Member string
	// Registered says whether the user registered Member.
	Registered bool
	// Res points into the cluster's answer, which readers within the
	// freshness window share: read it, never write it.
	Res *proxmox.Resource
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
	// Each cluster's guests are sorted out as soon as it answers, while
	// slower clusters are still being read.
	type read struct {
		Cluster
		guests  []Guest
		offline []Problem
	}
	reads := make([]read, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() {
			c := r.ReadCluster(ctx, g)
			reads[i].Cluster = c
			if c.Resources != nil {
				reads[i].guests, reads[i].offline = containers(c)
			}
		})
	}
	wg.Wait()
	out := Estate{Answered: map[string]bool{}}
	rows := 0
	for _, c := range reads {
		rows += len(c.guests)
	}
	out.Guests = make([]Guest, 0, rows)
	for _, c := range reads {
		for _, p := range c.Failed {
			if c.Resources != nil {
				p.AnsweredVia = PVEName(c.Via)
			}
			out.Problems = append(out.Problems, p)
		}
		if c.Resources == nil {
			continue
		}
		for _, m := range c.Members {
			out.Answered[m.ID] = true
		}
		out.Guests = append(out.Guests, c.guests...)
		out.Problems = append(out.Problems, c.offline...)
	}
	return out
}

// containers are the LXC containers (not templates) of an answered cluster
// on every member, registered or not. A member that is down still has its
// guests listed by the others, all in state unknown: it is named rather
// than shown as a silent grid.
func containers(c Cluster) (guests []Guest, offline []Problem) {
	byName := map[string]*store.Node{}
	for i, m := range c.Members {
		if _, dup := byName[PVEName(m)]; !dup {
			byName[PVEName(m)] = &c.Members[i]
		}
	}
	via := &c.Via
	unknown, total := map[string]int{}, map[string]int{}
	var order []string
	guests = make([]Guest, 0, len(c.Resources))
	for i := range c.Resources {
		r := &c.Resources[i]
		if r.Type != "lxc" || bool(r.Template) || r.Node == "" {
			continue
		}
		g := Guest{Node: via, Member: r.Node, Res: r}
		if m, ok := byName[r.Node]; ok {
			g.Node, g.Registered = m, true
		}
		guests = append(guests, g)
		if total[r.Node] == 0 {
			order = append(order, r.Node)
		}
		total[r.Node]++
		if r.Status == "unknown" {
			unknown[r.Node]++
		}
	}
	named := map[string]bool{}
	for _, p := range c.Failed {
		named[PVEName(p.Node)] = true
	}
	for _, name := range order {
		if named[name] || unknown[name] != total[name] {
			continue
		}
		msg := "the cluster reports the state of all its containers as unknown; the node is probably offline"
		p := Problem{Node: c.Via, Member: name, Message: msg}
		if m, ok := byName[name]; ok {
			p.Node = *m
		} else {
			p.Message = "member " + name + " of the cluster is probably offline: the cluster reports the state of all its containers as unknown"
		}
		offline = append(offline, p)
	}
	return guests, offline
}
