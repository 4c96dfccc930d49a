package clusters_test

import (
	"sync"
	"testing"
	"time"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

// resourcesServed counts /cluster/resources over every member of
// cluster "homelab".
func resourcesServed(sim *pvesim.Sim) int {
	return sim.Node("pve1").ClusterRequests("GET", "/cluster/resources")
}

// TestReadCluster_SharedAcrossUsersWithinTheWindow: twenty accounts that
// registered the same cluster with the same token, reading at once, cost
// the cluster one /cluster/resources while the window lasts; the next
// window reads again, and Forget drops a read at once.
func TestReadCluster_SharedAcrossUsersWithinTheWindow(t *testing.T) {
	sim := simtest.Demo(t)
	clock := simtest.NewClock(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	r := clusters.NewReader(clusters.NewClients(nil), clusters.WithFreshness(5*time.Second), clusters.WithClock(clock.Now))
	const users = 20
	var wg sync.WaitGroup
	got := make([]clusters.Cluster, users)
	for i := range users {
		n := node(t, sim, "user"+string(rune('a'+i)), "pve2")
		wg.Go(func() { got[i] = r.ReadCluster(t.Context(), []store.Node{n}) })
	}
	wg.Wait()
	for i, c := range got {
		if c.Err() != nil || len(proxmox.GuestsFromResources(c.Resources)) != 6 || c.Via.UserID != c.Members[0].UserID {
			t.Fatalf("user %d read %+v, %v", i, c, c.Err())
		}
	}
	if n := resourcesServed(sim); n != 1 {
		t.Fatalf("%d users at once cost %d /cluster/resources, want 1", users, n)
	}

	clock.Add(4 * time.Second)
	r.ReadCluster(t.Context(), []store.Node{node(t, sim, "late", "pve2")})
	if n := resourcesServed(sim); n != 1 {
		t.Fatalf("a read within the window asked again: %d requests", n)
	}
	clock.Add(2 * time.Second)
	n := node(t, sim, "usera", "pve2")
	r.ReadCluster(t.Context(), []store.Node{n})
	if got := resourcesServed(sim); got != 2 {
		t.Fatalf("after the window: %d requests, want 2", got)
	}
	r.Forget(n)
	r.ReadCluster(t.Context(), []store.Node{n})
	if got := resourcesServed(sim); got != 3 {
		t.Fatalf("after Forget: %d requests, want 3", got)
	}
}

// TestReadCluster_NotSharedAcrossTokens: Proxmox filters what a token may
// see, so accounts with tokens of their own never share a read, nor do
// records pinned to another certificate.
func TestReadCluster_NotSharedAcrossTokens(t *testing.T) {
	sim := simtest.Demo(t)
	sim.AddToken(pvesim.TokenSpec{User: "bob@pve", ID: "corral", Secret: "bob-secret", Privileges: pvesim.CorralACL()})
	clock := simtest.NewClock(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	r := clusters.NewReader(clusters.NewClients(nil), clusters.WithFreshness(time.Minute), clusters.WithClock(clock.Now))
	alice := node(t, sim, "alice", "pve1")
	bob := alice
	bob.ID, bob.UserID, bob.TokenID, bob.TokenSecret = "bob-pve1", "bob", "bob@pve!corral", "bob-secret"
	if c := r.ReadCluster(t.Context(), []store.Node{alice}); c.Err() != nil {
		t.Fatal(c.Err())
	}
	if c := r.ReadCluster(t.Context(), []store.Node{bob}); c.Err() != nil {
		t.Fatal(c.Err())
	}
	wrongPin := alice
	wrongPin.TLSFingerprint = sim.Node("pve2").Fingerprint()
	if c := r.ReadCluster(t.Context(), []store.Node{wrongPin}); c.Err() == nil {
		t.Fatalf("a record pinned to another certificate was answered from alice's read: %+v", c)
	}
	if n := resourcesServed(sim); n != 2 {
		t.Fatalf("alice and bob with their own tokens: %d requests, want 2", n)
	}
}

// TestVMIDs_FilledByTheDashboardsRead: a read for the dashboard fills the
// VMID cache, so the check that follows asks Proxmox nothing.
func TestVMIDs_FilledByTheDashboardsRead(t *testing.T) {
	sim := simtest.Demo(t)
	r := clusters.NewReader(clusters.NewClients(nil))
	v := clusters.NewVMIDs(proxmox.NewMemVMIDStore(time.Now), r, nil, nil)
	t.Cleanup(v.Close)
	n := node(t, sim, "alice", "pve1")
	if est := r.Read(t.Context(), []store.Node{n}); len(est.Guests) == 0 {
		t.Fatalf("dashboard read: %+v", est)
	}
	chk, err := v.Check(t.Context(), n, 100)
	if err != nil || !chk.Known {
		t.Fatalf("check: %+v, %v", chk, err)
	}
	if got := resourcesServed(sim); got != 1 {
		t.Fatalf("the check read the cluster again: %d requests", got)
	}
}
