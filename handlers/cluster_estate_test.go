package handlers_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"corral/handlers"
	"corral/proxmox/clusters"
)

// TestDashboard_OneReadPerClusterForManyUsers (issue 17): ten accounts of
// one household that registered the same cluster with its shared token,
// loading the dashboard at once, cost the cluster one /cluster/resources
// in the reader's freshness window, and each sees the whole cluster.
func TestDashboard_OneReadPerClusterForManyUsers(t *testing.T) {
	sim := startSim(t)
	s := newTestServer(t, func(d *handlers.Deps) {
		d.Clusters = clusters.NewReader(d.Proxmox, clusters.WithFreshness(time.Minute))
	})
	const users = 10
	clients := make([]*client, users)
	for i := range users {
		name := fmt.Sprintf("user%d", i)
		u := s.withUser(t, name, "correct horse")
		clients[i] = s.client(t)
		clients[i].login(name, "correct horse")
		s.addSimNode(t, sim, u.ID, "pve2", "pve2")
	}
	before := sim.Node("pve1").ClusterRequests("GET", "/cluster/resources")
	var wg sync.WaitGroup
	pages := make([]*response, users)
	for i, c := range clients {
		wg.Go(func() { pages[i] = c.get("/containers") })
	}
	wg.Wait()
	for i, p := range pages {
		if p.StatusCode != http.StatusOK || p.Doc.Find("[data-vmid]").Length() == 0 {
			t.Fatalf("user%d: status %d, %d cards", i, p.StatusCode, p.Doc.Find("[data-vmid]").Length())
		}
	}
	if got := sim.Node("pve1").ClusterRequests("GET", "/cluster/resources") - before; got != 1 {
		t.Fatalf("%d dashboards at once cost %d /cluster/resources, want 1", users, got)
	}
}
