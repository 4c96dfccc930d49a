package pvesim

import (
	"context"
	"fmt"
	"sync"
)

// sessionGauge counts the SSH sessions running a command on a node, so a
// test can see a client's hang-up reach the host.
type sessionGauge struct {
	mu      sync.Mutex
	n       int
	changed chan struct{} // closed and replaced on every change
}

func (g *sessionGauge) add(d int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n += d
	if g.changed != nil {
		close(g.changed)
		g.changed = nil
	}
}

func (g *sessionGauge) read() (int, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.changed == nil {
		g.changed = make(chan struct{})
	}
	return g.n, g.changed
}

// ActiveSessions is how many SSH sessions are running a command (pct
// enter, pct exec, …) on the node now.
func (n *Node) ActiveSessions() int {
	c, _ := n.sessions.read()
	return c
}

// WaitSessions waits until the node runs exactly want SSH sessions, or
// ctx ends.
func (n *Node) WaitSessions(ctx context.Context, want int) error {
	for {
		c, changed := n.sessions.read()
		if c == want {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("pvesim: node %s runs %d ssh sessions, want %d: %w", n.name, c, want, ctx.Err())
		}
	}
}
