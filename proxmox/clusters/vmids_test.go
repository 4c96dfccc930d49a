package clusters_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/proxmox/redistest"
)

func TestVMIDs_OnePerCluster(t *testing.T) {
	sim := simtest.Demo(t)
	homelab := countResources(sim, 0, "pve1", "pve2", "pve3")
	solo := countResources(sim, 0, "pve-solo")
	// Alice registered two nodes of homelab; Bob its third and the
	// standalone node.
	alice1, alice2 := node(t, sim, "alice", "pve1"), node(t, sim, "alice", "pve2")
	bob1, bobSolo := node(t, sim, "bob", "pve3"), node(t, sim, "bob", "pve-solo")
	cache := proxmox.NewMemVMIDStore(nil)
	var mu sync.Mutex
	results := map[string]clusters.RefreshResult{}
	v := clusters.NewVMIDs(cache, clusters.NewReader(clusters.NewClients(nil)), allNodes{alice1, bobSolo, alice2, bob1}, nil,
		clusters.WithRefreshObserver(func(r clusters.RefreshResult) { mu.Lock(); results[r.Key] = r; mu.Unlock() }))
	t.Cleanup(v.Close)

	if err := v.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		key    string
		guests int
	}{{clusters.Key(alice1), 6}, {clusters.Key(bob1), 6}, {clusters.Key(bobSolo), 1}} {
		if r := results[want.key]; r.Err != nil || r.Guests != want.guests || r.Duration <= 0 {
			t.Errorf("%s: %+v, want %d guests", want.key, r, want.guests)
		}
	}
	if len(results) != 3 {
		t.Errorf("results %+v, want alice's homelab, bob's homelab and bob's solo", results)
	}
	// Once per account and cluster, through that account's nodes.
	if n := homelab(); n != 2 {
		t.Errorf("homelab read %d times, want once for each account", n)
	}
	if n := solo(); n != 1 {
		t.Errorf("pve-solo read %d times, want once", n)
	}
	if l, err := cache.Lookup(t.Context(), clusters.Key(bob1), 103); err != nil || !l.Taken || l.Holder.Name != "jellyfin" {
		t.Fatalf("103 after RefreshAll: %+v, %v", l, err)
	}
}

// TestVMIDs_RefreshKeepsItsConnections (issue 17): the scheduled refresh
// reads through the cached clients, so refreshing again opens no new
// connection (no TLS handshake per refresh).
func TestVMIDs_RefreshKeepsItsConnections(t *testing.T) {
	sim := simtest.Demo(t)
	alice := node(t, sim, "alice", "pve1")
	v := clusters.NewVMIDs(proxmox.NewMemVMIDStore(nil), clusters.NewReader(clusters.NewClients(nil)), allNodes{alice}, nil)
	t.Cleanup(v.Close)
	if err := v.RefreshAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := sim.Node("pve1").Connections()
	if first == 0 {
		t.Fatal("the first refresh made no connection to pve1")
	}
	for range 3 {
		if err := v.RefreshAll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := sim.Node("pve1").Connections(); got != first {
		t.Fatalf("three more refreshes opened %d new connections", got-first)
	}
}

// TestVMIDs_NeverTwoReadsAtOnce: many checks of one cluster at once read it
// once; the others join that read or find its answer in the cache.
func TestVMIDs_NeverTwoReadsAtOnce(t *testing.T) {
	sim := simtest.Demo(t)
	reads := countResources(sim, 300*time.Millisecond, "pve2")
	v := newVMIDs(t, proxmox.NewMemVMIDStore(nil))
	pve2 := node(t, sim, "alice", "pve2")
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			chk, err := v.Check(t.Context(), pve2, 102)
			if err != nil || !chk.Known || chk.Free || chk.Holder.Name != "nextcloud" {
				t.Errorf("check: %+v, %v", chk, err)
			}
		})
	}
	wg.Wait()
	if n := reads(); n != 1 {
		t.Fatalf("%d reads of one cluster, want 1", n)
	}
}

func TestVMIDs_DeadClusterDelaysNobody(t *testing.T) {
	sim := simtest.Demo(t)
	for _, n := range []string{"pve1", "pve2"} {
		sim.Node(n).Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultHang})
	}
	dead1, dead2, solo := node(t, sim, "alice", "pve1"), node(t, sim, "alice", "pve2"), node(t, sim, "alice", "pve-solo")

	t.Run("others finish first", func(t *testing.T) {
		done := make(chan clusters.RefreshResult, 2)
		reader := clusters.NewReader(clusters.NewClients(nil), clusters.WithDeadlines(time.Hour, time.Hour))
		v := clusters.NewVMIDs(proxmox.NewMemVMIDStore(nil), reader, allNodes{dead1, dead2, solo}, nil,
			clusters.WithRefreshParallel(2), clusters.WithRefreshObserver(func(r clusters.RefreshResult) { done <- r }))
		ctx, cancel := context.WithCancel(t.Context())
		all := make(chan error, 1)
		go func() { all <- v.RefreshAll(ctx) }()
		// The hung cluster cannot end before we cancel, so solo comes first.
		if first := <-done; first.Key != clusters.Key(solo) || first.Err != nil || first.Guests != 1 {
			t.Fatalf("first result %+v, want pve-solo refreshed", first)
		}
		cancel()
		if err := <-all; err == nil {
			t.Fatal("the hung cluster was not reported")
		}
		v.Close() // abandons the hung read
	})

	t.Run("each cluster has its own deadline", func(t *testing.T) {
		cache := proxmox.NewMemVMIDStore(nil)
		reader := clusters.NewReader(clusters.NewClients(nil), clusters.WithDeadlines(time.Second, 2*time.Second))
		v := clusters.NewVMIDs(cache, reader, allNodes{dead1, solo, dead2}, nil, clusters.WithRefreshParallel(1))
		t.Cleanup(v.Close)
		if err := v.RefreshAll(t.Context()); err == nil {
			t.Fatal("homelab timed out without an error")
		}
		if _, err := cache.Age(t.Context(), clusters.Key(solo)); err != nil {
			t.Fatalf("solo not stored: %v", err)
		}
		if chk, err := v.Check(t.Context(), dead1, 150); err != nil || chk.Known {
			t.Fatalf("Check on a dead cluster with no entry gave an answer: %+v, %v", chk, err)
		}
	})
}

// TestVMIDs_CheckReadsOnMiss: a missing or expired entry is read again,
// and the read is stored.
func TestVMIDs_CheckReadsOnMiss(t *testing.T) {
	sim := simtest.Demo(t)
	clk := simtest.NewClock(time.Now())
	cache := proxmox.NewMemVMIDStore(clk.Now)
	v := newVMIDs(t, cache)
	pve1 := node(t, sim, "alice", "pve1")
	for range 2 {
		chk, err := v.Check(t.Context(), pve1, 201)
		if err != nil || !chk.Known || chk.Free || chk.Holder != (proxmox.VMIDHolder{Kind: "qemu", Name: "win11", Node: "pve3"}) {
			t.Fatalf("201: %+v, %v", chk, err)
		}
		if _, err := cache.Age(t.Context(), clusters.Key(pve1)); err != nil {
			t.Fatalf("Check did not store its read: %v", err)
		}
		clk.Add(proxmox.VMIDTTL)
		if _, err := cache.Age(t.Context(), clusters.Key(pve1)); !errors.Is(err, proxmox.ErrVMIDMiss) {
			t.Fatalf("entry after its TTL: %v", err)
		}
	}
	if chk, err := v.Check(t.Context(), pve1, 150); err != nil || !chk.Known || !chk.Free {
		t.Fatalf("150: %+v, %v", chk, err)
	}
}

// The lookup observer (metrics) hears a miss when the cluster had to be
// read and a hit when the cache answered.
func TestVMIDs_LookupObserver(t *testing.T) {
	sim := simtest.Demo(t)
	var mu sync.Mutex
	var seen []bool
	v := clusters.NewVMIDs(proxmox.NewMemVMIDStore(nil), clusters.NewReader(clusters.NewClients(nil)), allNodes{}, nil,
		clusters.WithLookupObserver(func(hit bool) { mu.Lock(); seen = append(seen, hit); mu.Unlock() }))
	t.Cleanup(v.Close)
	pve1 := node(t, sim, "alice", "pve1")
	for _, vmid := range []int{201, 150} {
		if _, err := v.Check(t.Context(), pve1, vmid); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, []bool{false, true}) {
		t.Fatalf("lookups %v, want a miss then a hit", seen)
	}
}

func TestVMIDs_RedisGoesAway(t *testing.T) {
	sim := simtest.Demo(t)
	pve1 := node(t, sim, "alice", "pve1")
	reads := countResources(sim, 0, "pve1")
	srv := redistest.Start(t)
	rdb, err := proxmox.NewRedisClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	logs := &simtest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	clk := simtest.NewClock(time.Now())
	st := proxmox.NewFallbackVMIDStore(proxmox.NewRedisVMIDStore(rdb, clk.Now), proxmox.NewMemVMIDStore(clk.Now), log, clk.Now)
	v := clusters.NewVMIDs(st, clusters.NewReader(clusters.NewClients(nil)), nil, log)
	t.Cleanup(v.Close)
	ctx := t.Context()
	key := proxmox.VMIDKeyPrefix + clusters.Key(pve1)

	check := func(vmid int, taken bool) {
		t.Helper()
		chk, err := v.Check(ctx, pve1, vmid)
		if err != nil || !chk.Known || chk.Free == taken {
			t.Fatalf("VMID %d: %+v, %v; want taken=%v", vmid, chk, err, taken)
		}
	}
	check(101, true)
	check(150, false)
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("redis holds no entry for the cluster: %d, %v", n, err)
	}
	// Another Corral (or this one after a restart) starts warm from Redis.
	other := proxmox.NewFallbackVMIDStore(proxmox.NewRedisVMIDStore(rdb, clk.Now), proxmox.NewMemVMIDStore(clk.Now), nil, clk.Now)
	if l, err := other.Lookup(ctx, clusters.Key(pve1), 200); err != nil || !l.Taken || l.Holder.Name != "homeassistant" {
		t.Fatalf("a second store on the same redis: %+v, %v", l, err)
	}

	srv.Stop()
	before := reads()
	for i := range 30 {
		if i == 15 {
			clk.Add(proxmox.VMIDTTL) // memory expires too: only a live read can answer
		}
		check(101, true)
		check(200, true)
		check(150, i >= 10 && i < 15) // noted at 9; the live read at 15 knows better
		if i == 9 {
			v.NoteCreated(ctx, pve1, 150, "web")
		}
		clk.Add(time.Second) // lets the cache try Redis again every few rounds
	}
	if n := reads() - before; n != 1 {
		t.Fatalf("%d live reads during the outage, want 1 (when the memory copy expired)", n)
	}
	if n := logs.Count("level=WARN"); n != 1 {
		t.Fatalf("%d warnings during one outage, want 1:\n%s", n, logs.String())
	}

	srv.Restart(t)
	clk.Add(proxmox.VMIDRedisRetry)
	v.NoteCreated(ctx, pve1, 151, "web")
	check(151, true)
	check(150, false)
	for _, field := range []string{"101", "151"} {
		if ok, err := rdb.HExists(ctx, key, field).Result(); err != nil || !ok {
			t.Fatalf("redis is not used again after it returned (field %s): %v, %v", field, ok, err)
		}
	}
	if n := logs.Count("redis is back"); n != 1 {
		t.Fatalf("%d recovery notes, want 1:\n%s", n, logs.String())
	}

	// A second outage warns again, once.
	srv.Stop()
	for i := range 5 {
		v.NoteCreated(ctx, pve1, 152+i, "web")
		check(152+i, true)
		clk.Add(2 * time.Second)
	}
	if n := logs.Count("level=WARN"); n != 2 {
		t.Fatalf("%d warnings after two outages, want 2:\n%s", n, logs.String())
	}
}
