package clusters_test

import (
	"slices"
	"testing"

	"corral/proxmox/clusters"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

func TestKey(t *testing.T) {
	a := store.Node{ID: "n1", UserID: "alice", ClusterKey: "cluster:homelab:ab"}
	b := store.Node{ID: "n2", UserID: "alice", ClusterKey: "cluster:homelab:ab"}
	bob := store.Node{ID: "n3", UserID: "bob", ClusterKey: "cluster:homelab:ab"}
	bare := store.Node{ID: "n4", UserID: "alice"}
	if clusters.Key(a) != clusters.Key(b) || clusters.Key(a) == clusters.Key(bob) || clusters.Key(bare) == clusters.Key(a) {
		t.Fatalf("keys %q %q %q %q", clusters.Key(a), clusters.Key(b), clusters.Key(bob), clusters.Key(bare))
	}
	groups := clusters.Groups([]store.Node{bare, a, bob, b})
	var got [][]string
	for _, g := range groups {
		var ids []string
		for _, n := range g {
			ids = append(ids, n.ID)
		}
		got = append(got, ids)
	}
	if want := [][]string{{"n4"}, {"n1", "n2"}, {"n3"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("groups %v, want %v", got, want)
	}
}

// TestClients_SharedPerSettings: one client per node settings; new
// settings (a new secret, a re-pinned certificate) get a new one.
func TestClients_SharedPerSettings(t *testing.T) {
	sim := simtest.Demo(t)
	open := clusters.NewClients(nil)
	n := node(t, sim, "alice", "pve1")
	c1, err := open(n)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := open(n)
	if c1 != c2 {
		t.Fatal("the same node got two clients")
	}
	n.TokenSecret = "another"
	if c3, _ := open(n); c3 == c1 {
		t.Fatal("new settings reused the old client")
	}
	if _, err := c1.Version(t.Context()); err != nil {
		t.Fatalf("the shared client does not work: %v", err)
	}
	n.TLSFingerprint = ""
	if _, err := open(n); err == nil {
		t.Fatal("a node without a pinned certificate got a client")
	}
}
