package handlers_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"corral/handlers"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/redistest"
)

// twinSim is a second estate whose cluster reports exactly the names and
// addresses of the demo's homelab, with other guests: what anyone can set up
// to look like someone else's cluster.
func twinSim(t *testing.T, of *pvesim.Sim) *pvesim.Sim {
	t.Helper()
	host := of.Node("pve1").Host()
	return startSimWith(t, func(o *pvesim.Options) {
		o.Guests = []pvesim.GuestSpec{{Node: "pve1", VMID: 300, Name: "decoy"}}
		// The same member addresses (on ports of its own).
		o.Subnets = map[string]string{"homelab": host[:strings.LastIndex(host, ".")+1]}
	})
}

// TestVMIDField_TwinClusterOfAnotherAccount: bob registers a cluster that
// reports the same names and addresses as alice's. He must not read alice's
// guests through the VMID field, his deletions must not free alice's ids,
// and alice's view is only ever filled through alice's own node. Each
// store keeps the accounts apart, Redis under keys named by the account.
func TestVMIDField_TwinClusterOfAnotherAccount(t *testing.T) {
	stores := map[string]func(t *testing.T) (proxmox.VMIDStore, *redis.Client){
		"memory": func(*testing.T) (proxmox.VMIDStore, *redis.Client) { return proxmox.NewMemVMIDStore(nil), nil },
		"redis": func(t *testing.T) (proxmox.VMIDStore, *redis.Client) {
			rdb := vmidTestRedis(t)
			return proxmox.NewRedisVMIDStore(rdb, nil), rdb
		},
		"redis+memory": func(t *testing.T) (proxmox.VMIDStore, *redis.Client) {
			rdb := vmidTestRedis(t)
			return proxmox.NewFallbackVMIDStore(proxmox.NewRedisVMIDStore(rdb, nil), proxmox.NewMemVMIDStore(nil), nil, nil), rdb
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			cache, rdb := open(t)
			var svc *clusters.VMIDs
			s := newTestServer(t, func(d *handlers.Deps) {
				svc = clusters.NewVMIDs(cache, clusters.NewReader(d.Proxmox), d.Nodes.(clusters.AllNodeLister), nil)
				d.VMIDs = svc
			})
			real := startSim(t)
			twin := twinSim(t, real)
			t.Cleanup(svc.Close) // before the sims close
			alice := s.withUser(t, "alice", "correct horse")
			bob := s.withUser(t, "bob", "battery staple")
			aliceNode := s.addSimNode(t, real, alice.ID, "pve1", "pve1")
			bobNode := s.addSimNode(t, twin, bob.ID, "pve1", "pve1")
			if aliceNode.ClusterKey != bobNode.ClusterKey {
				t.Fatalf("the twin does not look like alice's cluster: %q vs %q", aliceNode.ClusterKey, bobNode.ClusterKey)
			}
			a, b := s.client(t), s.client(t)
			a.login("alice", "correct horse")
			b.login("bob", "battery staple")
			e := &vmidEnv{testServer: s}
			ask := func(c *client, nodeID, vmid string) (string, string) {
				e.c = c
				return e.vmidAsk(t, nodeID, vmid)
			}
			realReads := vmidCountResources(real, "pve1", "pve2", "pve3")

			// Alice's node is down: bob's answers fill bob's view only, and
			// nothing fills alice's from his cluster.
			if err := real.Node("pve1").SetDown(true); err != nil {
				t.Fatal(err)
			}
			if state, text := ask(b, bobNode.ID, "100"); state != "free" {
				t.Fatalf("bob, 100 on his own cluster: %s %q", state, text)
			}
			if state, text := ask(a, aliceNode.ID, "100"); state != "unknown" {
				t.Fatalf("alice, 100 with her node down: %s %q (answered from bob's cluster)", state, text)
			}
			if err := svc.RefreshAll(t.Context()); err == nil || !strings.Contains(err.Error(), "1 of the clusters") {
				t.Fatalf("RefreshAll with alice's node down: %v", err)
			}
			if state, text := ask(a, aliceNode.ID, "100"); state != "unknown" {
				t.Fatalf("alice, 100 after RefreshAll: %s %q (filled through bob's node)", state, text)
			}
			if err := real.Node("pve1").SetDown(false); err != nil {
				t.Fatal(err)
			}

			// Each account sees its own cluster, never the other's guests.
			for _, tc := range []struct {
				who         *client
				node, vmid  string
				state, text string
			}{
				{a, aliceNode.ID, "100", "taken", "CT pihole on pve1"},
				{b, bobNode.ID, "100", "free", "is free"},
				{b, bobNode.ID, "101", "free", "is free"},
				{b, bobNode.ID, "300", "taken", "CT decoy on pve1"},
				{a, aliceNode.ID, "300", "free", "is free"},
			} {
				state, text := ask(tc.who, tc.node, tc.vmid)
				if state != tc.state || !strings.Contains(text, tc.text) {
					t.Fatalf("%s: got %s %q, want %s %q", tc.vmid, state, text, tc.state, tc.text)
				}
			}

			// Bob "deletes" CT 100, which his cluster does not have: Corral
			// counts it as gone and forgets it, in bob's view only.
			res := b.post("/containers/"+bobNode.ID+"/100/delete", url.Values{"confirm_vmid": {"100"}, "from": {"card"}}, "HX-Request", "true")
			expectStatus(t, res, 200)
			svc.NoteCreated(t.Context(), bobNode, 150, "bobs")
			if state, text := ask(a, aliceNode.ID, "100"); state != "taken" || !strings.Contains(text, "CT pihole") {
				t.Fatalf("alice's running CT 100 after bob's delete: %s %q", state, text)
			}
			if state, text := ask(a, aliceNode.ID, "150"); state != "free" {
				t.Fatalf("alice's 150 after bob's NoteCreated: %s %q", state, text)
			}
			if n := realReads(); n != 1 {
				t.Fatalf("alice's cluster read %d times, want 1 (answers from her fresh entry)", n)
			}

			if rdb != nil {
				keys, err := rdb.Keys(t.Context(), proxmox.VMIDKeyPrefix+"*").Result()
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(keys)
				want := []string{
					proxmox.VMIDKeyPrefix + proxmox.VMIDKey(alice.ID, aliceNode.ClusterKey),
					proxmox.VMIDKeyPrefix + proxmox.VMIDKey(bob.ID, bobNode.ClusterKey),
				}
				slices.Sort(want)
				if !slices.Equal(keys, want) {
					t.Fatalf("redis keys %q, want one per account %q", keys, want)
				}
			}
		})
	}
}

func vmidTestRedis(t *testing.T) *redis.Client {
	t.Helper()
	rdb, err := proxmox.NewRedisClient(redistest.Start(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}
