package handlers

import (
	"context"
	"errors"
	"sync"
	"time"

	"corral/proxmox"
	"corral/store"
)

// Deadlines of the dashboard's reads: one node may take nodeDeadline before
// the next node of its cluster is tried; a whole cluster gives up after
// clusterDeadline. Clusters are read in parallel, so the page waits at most
// clusterDeadline, whatever the number of broken nodes.
const (
	nodeDeadline    = 4 * time.Second
	clusterDeadline = 10 * time.Second
)

// nodeProblem names a node the page could not read and why.
type nodeProblem struct {
	Node    store.Node
	Message string
}

// guestRow is one LXC container of one of the user's nodes, as the cluster
// reported it.
type guestRow struct {
	Node store.Node
	Res  proxmox.Resource
}

// estate is what the dashboard read from all of a user's clusters.
type estate struct {
	Rows     []guestRow
	Problems []nodeProblem
	// Answered holds the ids of nodes whose cluster answered; a Corral record
	// on another node is stale rather than missing.
	Answered map[string]bool
}

// clusterGroups splits nodes by cluster key, keeping the user's order; a
// node without a key is its own cluster.
func clusterGroups(nodes []store.Node) [][]store.Node {
	var groups [][]store.Node
	idx := map[string]int{}
	for _, n := range nodes {
		key := n.ClusterKey
		if key == "" {
			key = "node:" + n.ID
		}
		i, ok := idx[key]
		if !ok {
			i = len(groups)
			idx[key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], n)
	}
	return groups
}

// readEstate reads /cluster/resources once per cluster, all clusters at
// once. It never fails: what could not be read becomes a problem.
func (h *Handler) readEstate(ctx context.Context, nodes []store.Node) estate {
	groups := clusterGroups(nodes)
	results := make([]estate, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() { results[i] = h.readCluster(ctx, g) })
	}
	wg.Wait()
	out := estate{Answered: map[string]bool{}}
	for _, r := range results {
		out.Rows = append(out.Rows, r.Rows...)
		out.Problems = append(out.Problems, r.Problems...)
		for id := range r.Answered {
			out.Answered[id] = true
		}
	}
	return out
}

// readCluster asks the cluster's nodes in order until one answers.
func (h *Handler) readCluster(ctx context.Context, nodes []store.Node) estate {
	ctx, cancel := context.WithTimeout(ctx, clusterDeadline)
	defer cancel()
	var out estate
	for _, n := range nodes {
		res, err := h.clusterResources(ctx, n)
		if err != nil {
			out.Problems = append(out.Problems, nodeProblem{Node: n, Message: problemText(err)})
			if ctx.Err() != nil {
				break
			}
			continue
		}
		out.Answered = map[string]bool{}
		byName := map[string]store.Node{}
		for _, m := range nodes {
			out.Answered[m.ID] = true
			byName[pveName(m)] = m
		}
		unknown := map[string]int{}
		total := map[string]int{}
		for _, r := range res {
			m, ok := byName[r.Node]
			if !ok || r.Type != "lxc" || bool(r.Template) {
				continue
			}
			out.Rows = append(out.Rows, guestRow{Node: m, Res: r})
			total[m.ID]++
			if r.Status == "unknown" {
				unknown[m.ID]++
			}
		}
		// A member that is down still has its guests listed by the others,
		// all in state unknown: say so rather than show a silent grid.
		named := map[string]bool{}
		for _, p := range out.Problems {
			named[p.Node.ID] = true
		}
		for _, m := range nodes {
			if !named[m.ID] && total[m.ID] > 0 && unknown[m.ID] == total[m.ID] {
				out.Problems = append(out.Problems, nodeProblem{Node: m,
					Message: "the cluster reports the state of all its containers as unknown; the node is probably offline"})
			}
		}
		return out
	}
	// Nodes after the deadline are named too, so none goes unexplained.
	for _, n := range nodes[len(out.Problems):] {
		out.Problems = append(out.Problems, nodeProblem{Node: n, Message: "not asked: its cluster did not answer in time"})
	}
	return out
}

func (h *Handler) clusterResources(ctx context.Context, n store.Node) ([]proxmox.Resource, error) {
	ctx, cancel := context.WithTimeout(ctx, nodeDeadline)
	defer cancel()
	api, err := h.Proxmox(n)
	if err != nil {
		return nil, err
	}
	return api.ClusterResources(ctx)
}

// pveName is the node's name inside Proxmox.
func pveName(n store.Node) string {
	if n.PVENodeName != "" {
		return n.PVENodeName
	}
	return n.Name
}

// problemText is what went wrong in plain words.
func problemText(err error) string {
	var pe *proxmox.Error
	if errors.As(err, &pe) {
		return pe.UserMessage()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return err.Error()
}
