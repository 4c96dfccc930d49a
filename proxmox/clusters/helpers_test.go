package clusters_test

import (
	"context"
	"testing"
	"time"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/store"
)

// node is the simulated node name as userID registered it, pinned and with
// its cluster key, as the add-node flow stores it.
func node(t *testing.T, sim *pvesim.Sim, userID, name string) store.Node {
	t.Helper()
	n := sim.Node(name)
	rec := store.Node{
		ID: userID + "-" + name, UserID: userID, Name: name, PVENodeName: name, Host: n.Host(), Port: n.Port(),
		TokenID: pvesim.DemoTokenID, TokenSecret: pvesim.DemoTokenSecret, TLSFingerprint: n.Fingerprint(),
	}
	cfg := clusters.Config(rec)
	cfg.Timeout = time.Minute
	c, err := proxmox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.ClusterStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rec.ClusterKey = proxmox.ClusterKey(st, rec.TLSFingerprint)
	return rec
}

// countResources makes every /cluster/resources request to the named nodes
// countable (a latency fault of delay, zero for none, changes nothing
// else).
func countResources(sim *pvesim.Sim, delay time.Duration, nodes ...string) func() int {
	for _, n := range nodes {
		sim.Node(n).Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultLatency, Delay: delay})
	}
	return func() int {
		total := 0
		for _, n := range nodes {
			total += sim.Node(n).Faults().Hits("/cluster/resources")
		}
		return total
	}
}

func newVMIDs(t *testing.T, cache proxmox.VMIDStore, opts ...clusters.VMIDOption) *clusters.VMIDs {
	t.Helper()
	v := clusters.NewVMIDs(cache, clusters.NewReader(clusters.NewClients(nil)), nil, nil, opts...)
	t.Cleanup(v.Close)
	return v
}

// allNodes is an AllNodeLister over fixed records.
type allNodes []store.Node

func (a allNodes) AllNodes(context.Context) ([]store.Node, error) { return a, nil }
