package proxmox_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"corral/proxmox"
	"corral/proxmox/pvesim"
)

// countResources makes every /cluster/resources request to the named nodes
// countable (a zero-delay latency fault changes nothing else).
func countResources(sim *pvesim.Sim, nodes ...string) func() int {
	for _, n := range nodes {
		sim.Node(n).Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultLatency})
	}
	return func() int {
		total := 0
		for _, n := range nodes {
			total += sim.Node(n).Faults().Hits("/cluster/resources")
		}
		return total
	}
}

func TestVMIDRefresher_OnePerCluster(t *testing.T) {
	sim := vmidSim(t)
	homelab := countResources(sim, "pve1", "pve2", "pve3")
	solo := countResources(sim, "pve-solo")
	// Alice and Bob registered different nodes of homelab; Bob also the standalone node.
	alice1, alice2 := vmidTarget(t, sim, "pve1"), vmidTarget(t, sim, "pve2")
	bob1, bobSolo := vmidTarget(t, sim, "pve3"), vmidTarget(t, sim, "pve-solo")
	st := proxmox.NewMemVMIDStore(nil)
	r := proxmox.NewVMIDRefresher(st, nil)
	t.Cleanup(r.Close)

	res := r.RefreshAll(t.Context(), []proxmox.VMIDTarget{alice1, bobSolo, alice2, bob1})
	if len(res) != 2 || res[0].Key != alice1.Key || res[1].Key != bobSolo.Key {
		t.Fatalf("results %+v, want homelab then solo", res)
	}
	if res[0].Err != nil || res[0].Guests != 6 || res[1].Err != nil || res[1].Guests != 1 {
		t.Fatalf("results %+v, want 6 homelab guests and 1 solo guest", res)
	}
	if n := homelab(); n != 1 {
		t.Fatalf("homelab read %d times, want once", n)
	}
	if n := solo(); n != 1 {
		t.Fatalf("pve-solo read %d times, want once", n)
	}
	if l, err := st.Lookup(t.Context(), bob1.Key, 103); err != nil || !l.Taken || l.Holder.Name != "jellyfin" {
		t.Fatalf("103 after RefreshAll: %+v, %v", l, err)
	}
}

// gatedLister blocks the first read until released and records how many
// reads ever ran at the same time.
type gatedLister struct {
	mu              sync.Mutex
	running, most   int
	calls           int
	started, freeze chan struct{}
}

func (g *gatedLister) ClusterResources(ctx context.Context) ([]proxmox.Resource, error) {
	g.mu.Lock()
	g.running++
	g.calls++
	g.most = max(g.most, g.running)
	first := g.calls == 1
	g.mu.Unlock()
	if first {
		close(g.started)
		<-g.freeze
	}
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	return []proxmox.Resource{{VMID: 105, Type: "lxc", Name: "web", Node: "pve2"}}, nil
}

func TestVMIDRefresher_NeverTwoAtOnce(t *testing.T) {
	g := &gatedLister{started: make(chan struct{}), freeze: make(chan struct{})}
	r := proxmox.NewVMIDRefresher(proxmox.NewMemVMIDStore(nil), nil,
		proxmox.WithRefreshOpener(func(proxmox.Config) (proxmox.GuestLister, error) { return g, nil }))
	t.Cleanup(r.Close)
	target := proxmox.VMIDTarget{Key: "cluster:homelab:1", Node: "pve2"}

	const callers = 10
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	ready := make(chan struct{}, callers)
	for range callers {
		wg.Go(func() {
			ready <- struct{}{}
			l, err := r.Check(t.Context(), 105, target)
			if err == nil && (!l.Taken || l.Holder.Name != "web") {
				t.Errorf("check: %+v", l)
			}
			errs <- err
		})
	}
	<-g.started
	for range callers {
		<-ready
	}
	close(g.freeze)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if g.most != 1 {
		t.Fatalf("%d reads of one cluster ran at once", g.most)
	}
}

func TestVMIDRefresher_DeadClusterDelaysNobody(t *testing.T) {
	sim := vmidSim(t)
	for _, n := range []string{"pve1", "pve2"} {
		sim.Node(n).Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultHang})
	}
	dead1, dead2, solo := vmidTarget(t, sim, "pve1"), vmidTarget(t, sim, "pve2"), vmidTarget(t, sim, "pve-solo")

	t.Run("others finish first", func(t *testing.T) {
		done := make(chan proxmox.VMIDRefreshResult, 2)
		r := proxmox.NewVMIDRefresher(proxmox.NewMemVMIDStore(nil), nil,
			proxmox.WithRefreshTimeout(time.Hour), proxmox.WithRefreshParallel(2),
			proxmox.WithRefreshObserver(func(res proxmox.VMIDRefreshResult) { done <- res }))
		t.Cleanup(r.Close)
		ctx, cancel := context.WithCancel(t.Context())
		all := make(chan []proxmox.VMIDRefreshResult, 1)
		go func() { all <- r.RefreshAll(ctx, []proxmox.VMIDTarget{dead1, dead2, solo}) }()
		// The hung cluster cannot end before we cancel, so solo must come first.
		first := <-done
		if first.Key != solo.Key || first.Err != nil || first.Guests != 1 {
			t.Fatalf("first result %+v, want pve-solo refreshed", first)
		}
		cancel()
		res := <-all
		if res[0].Key != dead1.Key || res[0].Err == nil {
			t.Fatalf("hung cluster result %+v, want an error", res[0])
		}
	})

	t.Run("each cluster has its own timeout", func(t *testing.T) {
		st := proxmox.NewMemVMIDStore(nil)
		r := proxmox.NewVMIDRefresher(st, nil, proxmox.WithRefreshTimeout(2*time.Second), proxmox.WithRefreshParallel(1))
		t.Cleanup(r.Close)
		res := r.RefreshAll(t.Context(), []proxmox.VMIDTarget{dead1, solo, dead2})
		if len(res) != 2 || res[0].Err == nil || res[1].Err != nil {
			t.Fatalf("results %+v, want homelab timed out and solo refreshed", res)
		}
		if _, err := st.Age(t.Context(), solo.Key); err != nil {
			t.Fatalf("solo not stored: %v", err)
		}
		if l, err := r.Check(t.Context(), 150, dead1); err == nil {
			age, aerr := st.Age(t.Context(), dead1.Key)
			t.Fatalf("Check on a dead cluster with no entry gave an answer: %+v (entry age %v, %v)", l, age, aerr)
		}
	})
}

func TestVMIDRefresher_NextNodeWhenOneIsDown(t *testing.T) {
	sim := vmidSim(t)
	if err := sim.Node("pve1").SetDown(true); err != nil {
		t.Fatal(err)
	}
	pve1, pve2 := vmidTarget(t, sim, "pve2"), vmidTarget(t, sim, "pve2")
	pve1.Config.Port = sim.Node("pve1").Port()
	pve1.Config.Fingerprint = sim.Node("pve1").Fingerprint()
	pve1.Node = "pve1"
	r := proxmox.NewVMIDRefresher(proxmox.NewMemVMIDStore(nil), nil)
	t.Cleanup(r.Close)
	g, err := r.Refresh(t.Context(), pve1, pve2)
	if err != nil || g[102].Name != "nextcloud" {
		t.Fatalf("refresh via the second node: %v, %v", g, err)
	}
}

// listerFunc adapts a function to GuestLister.
type listerFunc func(ctx context.Context) ([]proxmox.Resource, error)

func (f listerFunc) ClusterResources(ctx context.Context) ([]proxmox.Resource, error) { return f(ctx) }

func TestVMIDRefresher_AnswerWithoutListIsNoList(t *testing.T) {
	st := proxmox.NewMemVMIDStore(nil)
	answers := [][]proxmox.Resource{nil, {}}
	r := proxmox.NewVMIDRefresher(st, nil, proxmox.WithRefreshOpener(func(proxmox.Config) (proxmox.GuestLister, error) {
		return listerFunc(func(context.Context) ([]proxmox.Resource, error) {
			a := answers[0]
			answers = answers[1:]
			return a, nil
		}), nil
	}))
	t.Cleanup(r.Close)
	target := proxmox.VMIDTarget{Key: "node:AA", Node: "pve"}
	if _, err := r.Refresh(t.Context(), target); err == nil {
		t.Fatal("an answer without data was taken for an empty cluster")
	}
	if _, err := st.Age(t.Context(), target.Key); err == nil {
		t.Fatal("an answer without data was stored")
	}
	// A real empty cluster ({"data":[]}) is a list: every id is free.
	if l, err := r.Check(t.Context(), 100, target); err != nil || l.Taken {
		t.Fatalf("empty cluster: %+v, %v", l, err)
	}
}
