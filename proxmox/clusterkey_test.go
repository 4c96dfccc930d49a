package proxmox

import "testing"

func TestClusterKey(t *testing.T) {
	a := &ClusterStatus{Name: "homelab", Nodes: []ClusterNode{{Name: "pve1", IP: "10.0.0.1"}, {Name: "pve2", IP: "10.0.0.2"}}}
	b := &ClusterStatus{Name: "homelab", Nodes: []ClusterNode{{Name: "pve2", IP: "10.0.0.2", Local: true}, {Name: "pve1", IP: "10.0.0.1"}}}
	other := &ClusterStatus{Name: "homelab", Nodes: []ClusterNode{{Name: "node1", IP: "192.168.1.5"}}}
	if ClusterKey(a, "AA") != ClusterKey(b, "BB") {
		t.Fatal("two nodes of one cluster got different keys")
	}
	if ClusterKey(a, "AA") == ClusterKey(other, "AA") {
		t.Fatal("two clusters sharing only a name got the same key")
	}
	if ClusterKey(&ClusterStatus{}, "ab:cd") != "node:AB:CD" || ClusterKey(nil, "AB:CD") != "node:AB:CD" {
		t.Fatal("standalone key should be the fingerprint")
	}
	if ClusterKey(&ClusterStatus{}, "AA") == ClusterKey(&ClusterStatus{}, "BB") {
		t.Fatal("two standalone nodes share a key")
	}
}
