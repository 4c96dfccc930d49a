package proxmox_test

import (
	"context"
	"errors"
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

// vmidTarget is a node of the sim: its cluster's cache key and how to read
// it.
type vmidEntry struct {
	Key    string
	Config proxmox.Config
}

func vmidTarget(t *testing.T, sim *pvesim.Sim, name string) vmidEntry {
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
	return vmidEntry{Key: proxmox.ClusterKey(st, n.Fingerprint()), Config: cfg}
}

// fill stores the guests of t's cluster as read through t.
func fill(ctx context.Context, st proxmox.VMIDStore, t vmidEntry) (map[int]proxmox.VMIDHolder, error) {
	c, err := proxmox.New(t.Config)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rows, err := c.ClusterResources(ctx)
	if err != nil {
		return nil, err
	}
	guests := proxmox.GuestsFromResources(rows)
	return guests, st.Put(ctx, t.Key, guests)
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

			if _, err := st.Lookup(ctx, pve1.Key, 100); !errors.Is(err, proxmox.ErrVMIDMiss) {
				t.Fatalf("empty cache: %v, want a miss", err)
			}
			if _, err := st.Age(ctx, pve1.Key); !errors.Is(err, proxmox.ErrVMIDMiss) {
				t.Fatalf("empty cache age: %v, want a miss", err)
			}

			// One refresh through pve1 fills the whole cluster's entry.
			if _, err := fill(ctx, st, pve1); err != nil {
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
			if _, err := fill(ctx, st, solo); err != nil {
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
			if _, err := fill(ctx, st, pve2); err != nil {
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

		})
	}
}
