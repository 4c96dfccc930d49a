package proxmox_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/proxmox"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/proxmox/redistest"
)

// vmidSim runs the demo estate: cluster homelab (pve1..pve3, VMs 200 and
// 201) and the standalone pve-solo, whose VMID 100 is not homelab's 100.
func vmidSim(t *testing.T) *pvesim.Sim {
	t.Helper()
	return simtest.Demo(t)
}

// vmidTarget is a node of the sim as a refresh target, keyed as the nodes
// feature keys it.
func vmidTarget(t *testing.T, sim *pvesim.Sim, name string) proxmox.VMIDTarget {
	t.Helper()
	n := sim.Node(name)
	cfg := proxmox.Config{Host: n.Host(), Port: n.Port(), TokenID: pvesim.DemoTokenID,
		TokenSecret: pvesim.DemoTokenSecret, Fingerprint: n.Fingerprint(), Timeout: time.Minute}
	c, err := proxmox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.ClusterStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return proxmox.VMIDTarget{Key: proxmox.ClusterKey(st, n.Fingerprint()), Node: name, Config: cfg}
}

// vmidStores builds each VMIDStore implementation on a clock.
func vmidStores(t *testing.T) map[string]func(t *testing.T, now func() time.Time) proxmox.VMIDStore {
	return map[string]func(*testing.T, func() time.Time) proxmox.VMIDStore{
		"memory": func(_ *testing.T, now func() time.Time) proxmox.VMIDStore {
			return proxmox.NewMemVMIDStore(now)
		},
		"redis": func(t *testing.T, now func() time.Time) proxmox.VMIDStore {
			return proxmox.NewRedisVMIDStore(vmidRedis(t, redistest.Start(t)), now)
		},
		"redis+memory": func(t *testing.T, now func() time.Time) proxmox.VMIDStore {
			r := proxmox.NewRedisVMIDStore(vmidRedis(t, redistest.Start(t)), now)
			return proxmox.NewFallbackVMIDStore(r, proxmox.NewMemVMIDStore(now), nil, now)
		},
	}
}

func vmidRedis(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	c, err := proxmox.NewRedisClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantVMID(t *testing.T, l proxmox.VMIDLookup, err error, taken bool, holder proxmox.VMIDHolder) {
	t.Helper()
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if l.Taken != taken || l.Holder != holder {
		t.Fatalf("got %+v, want taken=%v holder=%+v", l, taken, holder)
	}
}

func TestVMIDCache_Stores(t *testing.T) {
	sim := vmidSim(t)
	pve1, pve2, solo := vmidTarget(t, sim, "pve1"), vmidTarget(t, sim, "pve2"), vmidTarget(t, sim, "pve-solo")
	if pve1.Key != pve2.Key || pve1.Key == solo.Key {
		t.Fatalf("keys: pve1 %q pve2 %q solo %q", pve1.Key, pve2.Key, solo.Key)
	}
	for name, open := range vmidStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			clk := simtest.NewClock(time.Unix(1_700_000_000, 0))
			st := open(t, clk.Now)
			r := proxmox.NewVMIDRefresher(st, nil)
			t.Cleanup(r.Close)

			if _, err := st.Lookup(ctx, pve1.Key, 100); !errors.Is(err, proxmox.ErrVMIDMiss) {
				t.Fatalf("empty cache: %v, want a miss", err)
			}
			if _, err := st.Age(ctx, pve1.Key); !errors.Is(err, proxmox.ErrVMIDMiss) {
				t.Fatalf("empty cache age: %v, want a miss", err)
			}

			// One refresh through pve1 fills the whole cluster's entry.
			if _, err := r.Refresh(ctx, pve1); err != nil {
				t.Fatal(err)
			}
			l, err := st.Lookup(ctx, pve2.Key, 101)
			wantVMID(t, l, err, true, proxmox.VMIDHolder{Kind: "lxc", Name: "mqtt", Node: "pve1"})
			l, err = st.Lookup(ctx, pve2.Key, 200)
			wantVMID(t, l, err, true, proxmox.VMIDHolder{Kind: "qemu", Name: "homeassistant", Node: "pve2"})
			if l.Holder.Label() != "VM" {
				t.Fatalf("qemu label %q", l.Holder.Label())
			}
			l, err = st.Lookup(ctx, pve1.Key, 150)
			wantVMID(t, l, err, false, proxmox.VMIDHolder{})

			// The standalone node is a space of its own.
			if _, err := st.Lookup(ctx, solo.Key, 100); !errors.Is(err, proxmox.ErrVMIDMiss) {
				t.Fatalf("solo before its refresh: %v, want a miss", err)
			}
			if _, err := r.Refresh(ctx, solo); err != nil {
				t.Fatal(err)
			}
			l, err = st.Lookup(ctx, solo.Key, 100)
			wantVMID(t, l, err, true, proxmox.VMIDHolder{Kind: "lxc", Name: "backup", Node: "pve-solo"})
			l, err = st.Lookup(ctx, pve1.Key, 100)
			wantVMID(t, l, err, true, proxmox.VMIDHolder{Kind: "lxc", Name: "pihole", Node: "pve1"})
			l, err = st.Lookup(ctx, solo.Key, 101)
			wantVMID(t, l, err, false, proxmox.VMIDHolder{})

			// Create and delete update the entry at once.
			web := proxmox.VMIDHolder{Kind: "lxc", Name: "web", Node: "pve2"}
			if err := st.NoteCreated(ctx, pve2.Key, 150, web); err != nil {
				t.Fatal(err)
			}
			if err := st.NoteDeleted(ctx, pve1.Key, 101); err != nil {
				t.Fatal(err)
			}
			l, err = st.Lookup(ctx, pve1.Key, 150)
			wantVMID(t, l, err, true, web)
			l, err = st.Lookup(ctx, pve1.Key, 101)
			wantVMID(t, l, err, false, proxmox.VMIDHolder{})

			// A refresh replaces the list with Proxmox's truth.
			if _, err := r.Refresh(ctx, pve2); err != nil {
				t.Fatal(err)
			}
			l, err = st.Lookup(ctx, pve1.Key, 150)
			wantVMID(t, l, err, false, proxmox.VMIDHolder{})
			l, err = st.Lookup(ctx, pve1.Key, 101)
			wantVMID(t, l, err, true, proxmox.VMIDHolder{Kind: "lxc", Name: "mqtt", Node: "pve1"})

			// Expiry: fresh for five minutes, then gone.
			clk.Add(4 * time.Minute)
			if age, err := st.Age(ctx, pve1.Key); err != nil || age != 4*time.Minute {
				t.Fatalf("age after 4m: %v, %v", age, err)
			}
			clk.Add(time.Minute + time.Second)
			if _, err := st.Lookup(ctx, pve1.Key, 101); !errors.Is(err, proxmox.ErrVMIDMiss) {
				t.Fatalf("after 5m: %v, want a miss", err)
			}
			if _, err := st.Age(ctx, pve1.Key); !errors.Is(err, proxmox.ErrVMIDMiss) {
				t.Fatalf("age after 5m: %v, want a miss", err)
			}
			// A note never revives an expired entry as a partial list.
			if err := st.NoteCreated(ctx, pve1.Key, 150, web); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Lookup(ctx, pve1.Key, 101); !errors.Is(err, proxmox.ErrVMIDMiss) {
				t.Fatalf("after a note on an expired entry: %v, want a miss", err)
			}

			// Check reads the cluster again on a miss.
			l, err = r.Check(ctx, 201, pve1)
			wantVMID(t, l, err, true, proxmox.VMIDHolder{Kind: "qemu", Name: "win11", Node: "pve3"})
			if _, err := st.Age(ctx, pve1.Key); err != nil {
				t.Fatalf("Check did not store its refresh: %v", err)
			}
		})
	}
}

func TestVMIDCache_RedisGoesAway(t *testing.T) {
	sim := vmidSim(t)
	pve1 := vmidTarget(t, sim, "pve1")
	reads := countResources(sim, "pve1")
	srv := redistest.Start(t)
	rdb := vmidRedis(t, srv)
	logs := &simtest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	clk := simtest.NewClock(time.Now())
	st := proxmox.NewFallbackVMIDStore(proxmox.NewRedisVMIDStore(rdb, clk.Now), proxmox.NewMemVMIDStore(clk.Now), log, clk.Now)
	r := proxmox.NewVMIDRefresher(st, log)
	t.Cleanup(r.Close)
	ctx := t.Context()
	key := proxmox.VMIDKeyPrefix + pve1.Key

	check := func(vmid int, taken bool) {
		t.Helper()
		l, err := r.Check(ctx, vmid, pve1)
		if err != nil || l.Taken != taken {
			t.Fatalf("VMID %d: %+v, %v; want taken=%v", vmid, l, err, taken)
		}
	}
	check(101, true)
	check(150, false)
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
		t.Fatalf("redis holds no entry for the cluster: %d, %v", n, err)
	}
	// Another Corral (or this one after a restart) starts warm from Redis.
	other := proxmox.NewFallbackVMIDStore(proxmox.NewRedisVMIDStore(rdb, clk.Now), proxmox.NewMemVMIDStore(clk.Now), nil, clk.Now)
	if l, err := other.Lookup(ctx, pve1.Key, 200); err != nil || !l.Taken || l.Holder.Name != "homeassistant" {
		t.Fatalf("a second store on the same redis: %+v, %v", l, err)
	}

	srv.Stop()
	web := proxmox.VMIDHolder{Kind: "lxc", Name: "web", Node: "pve1"}
	before := reads()
	for i := range 30 {
		if i == 15 {
			clk.Add(proxmox.VMIDTTL) // memory expires too: only a live read can answer
		}
		check(101, true)
		check(200, true)
		check(150, i >= 10 && i < 15) // noted at 9; the live read at 15 knows better
		if i == 9 {
			if err := st.NoteCreated(ctx, pve1.Key, 150, web); err != nil {
				t.Fatal(err)
			}
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
	if err := st.NoteCreated(ctx, pve1.Key, 151, web); err != nil {
		t.Fatal(err)
	}
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
		if err := st.NoteCreated(ctx, pve1.Key, 152+i, web); err != nil {
			t.Fatal(err)
		}
		check(152+i, true)
		clk.Add(2 * time.Second)
	}
	if n := logs.Count("level=WARN"); n != 2 {
		t.Fatalf("%d warnings after two outages, want 2:\n%s", n, logs.String())
	}
}
