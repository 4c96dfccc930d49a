package pvesim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// A cluster's membership can grow while the estate runs, as `pvecm add`
// grows a real one: AddClusterNode starts a new member with its own
// certificate from the cluster's CA and its own host key; it shares the
// cluster's guests, tokens and root's authorized keys (pmxcfs keeps
// /etc/pve/priv/authorized_keys for the whole cluster), and every member's
// /cluster/status, /nodes and /cluster/resources list it at once.
//
// The member list is copied on write and published atomically, so request
// handlers read it without taking the estate lock.

// members are the estate's nodes in node-id order.
func (e *estate) members() []*Node {
	if p := e.nodes.Load(); p != nil {
		return *p
	}
	return nil
}

// addMember publishes a started node as the estate's newest member.
func (e *estate) addMember(n *Node) {
	next := append(slices.Clone(e.members()), n)
	e.nodes.Store(&next)
}

// AddClusterNode joins a new node to a running cluster and starts its
// HTTPS and SSH listeners. The node gets the next node id and an address
// in the cluster's subnet, and the cluster's corosync config version goes
// up. A standalone node cannot be joined (PVE would need a new cluster).
func (s *Sim) AddClusterNode(cluster, name string) (*Node, error) {
	var e *estate
	for _, c := range s.estates {
		if c.name == cluster && !c.standalone {
			e = c
		}
	}
	if e == nil {
		return nil, fmt.Errorf("pvesim: no cluster %q", cluster)
	}
	n, err := s.addNode(e, name)
	if err != nil {
		return nil, err
	}
	if others := e.members(); len(others) > 1 {
		first := others[0]
		first.sshAuth.mu.Lock()
		keys := slices.Clone(first.sshAuth.keys)
		first.sshAuth.mu.Unlock()
		n.sshAuth.mu.Lock()
		n.sshAuth.keys = keys
		n.sshAuth.mu.Unlock()
	}
	s.changed()
	return n, nil
}

// addNode makes node name a member of e and starts it. The node is
// published (to the estate and Sim.Node) only once it listens, so no
// request ever sees a member without an address or certificate.
func (s *Sim) addNode(e *estate, name string) (*Node, error) {
	if !nodeNameRe.MatchString(name) {
		return nil, fmt.Errorf("pvesim: invalid node name %q", name)
	}
	s.nodesMu.Lock()
	defer s.nodesMu.Unlock()
	if _, dup := s.nodes[name]; dup {
		return nil, fmt.Errorf("pvesim: node %q defined twice", name)
	}
	nodeid := 1
	for _, m := range e.members() {
		nodeid = max(nodeid, m.nodeid+1)
	}
	n := &Node{sim: s, estate: e, name: name, nodeid: nodeid,
		ip:       s.memberIP(e, name, nodeid),
		dir:      filepath.Join(s.dir, "nodes", name, "host"),
		storages: defaultStorages(s.opts.Templates, s.now()), tasks: map[string]*task{}}
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return nil, fmt.Errorf("pvesim: %w", err)
	}
	if s.savedNode(name) == nil {
		// A fresh node has no guests yet: files a previous run left in a
		// reused Dir must not show up in its containers, whose
		// directories are only made on first use.
		if err := os.RemoveAll(filepath.Join(s.dir, "nodes", name, "lxc")); err != nil {
			return nil, fmt.Errorf("pvesim: %w", err)
		}
	}
	if err := n.start(); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n.close(ctx)
		return nil, err
	}
	e.noteSharedPorts(n)
	e.addMember(n)
	s.nodes[name] = n
	s.order = append(s.order, name)
	return n, nil
}

// restoreMembers brings back, with Options.Persist, the members that
// AddClusterNode added to a cluster of Options before the restart.
func (s *Sim) restoreMembers() error {
	if s.restored == nil {
		return nil
	}
	for _, sn := range s.restored.Nodes {
		if s.Node(sn.Name) != nil {
			continue
		}
		for _, e := range s.estates {
			if e.name == sn.Estate && !e.standalone {
				if _, err := s.addNode(e, sn.Name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
