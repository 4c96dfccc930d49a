package pvesim

import "sync"

// Every endpoint a node serves itself is counted by its route, so tests can
// say how often Corral asked ("at most one /cluster/resources per cluster
// per refresh") without injecting faults. A request another member
// forwards is counted on the member that serves it. Counting by route
// pattern keeps the table small however long the estate runs.

type requestKey struct {
	node, method, pattern string
}

type requestCounts struct {
	mu sync.Mutex
	m  map[requestKey]int
}

func (c *requestCounts) add(node, method, pattern string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[requestKey]int{}
	}
	c.m[requestKey{node, method, pattern}]++
}

func (c *requestCounts) get(node, method, pattern string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[requestKey{node, method, pattern}]
}

// Requests reports how many requests for route pattern (as the API schema
// names it: "/cluster/resources", "/nodes/{node}/lxc/{vmid}/status/current")
// with method this node has served itself, whatever the answer, since the
// estate started.
func (n *Node) Requests(method, pattern string) int {
	return n.sim.requests.get(n.name, method, pattern)
}

// ClusterRequests sums Requests over every member of the node's cluster
// (over the node alone when it is standalone).
func (n *Node) ClusterRequests(method, pattern string) int {
	total := 0
	for _, m := range n.estate.members() {
		total += m.Requests(method, pattern)
	}
	return total
}

// Cluster is the name of the node's cluster, or "" for a standalone node.
func (n *Node) Cluster() string {
	if n.estate.standalone {
		return ""
	}
	return n.estate.name
}
