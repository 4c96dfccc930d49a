package proxmox_test

import (
	"testing"

	"corral/proxmox"
)

// TestPvesim_ClusterMembers reads a cluster's membership through the real
// client: members going down and a member joining, as issue 20's node
// flows will see them.
func TestPvesim_ClusterMembers(t *testing.T) {
	sim := pvesimStart(t)
	ctx := t.Context()
	pve1 := pvesimClient(t, sim, "pve1")

	members := func(st *proxmox.ClusterStatus) map[string]proxmox.ClusterNode {
		out := map[string]proxmox.ClusterNode{}
		for _, n := range st.Nodes {
			out[n.Name] = n
		}
		return out
	}

	t.Run("MembersDown", func(t *testing.T) {
		if err := sim.Node("pve3").SetDown(true); err != nil {
			t.Fatal(err)
		}
		st, err := pve1.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := members(st)
		if !st.Quorate || m["pve3"].Online || !m["pve2"].Online || m["pve3"].IP == "" || m["pve3"].NodeID != 3 {
			t.Fatalf("pve3 down: %+v", st)
		}
		// The dashboard's read still completes through pve1; pve3's guests
		// have no figures.
		rows, err := pve1.ClusterResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if (r.Node == "pve3") != (r.Status == "unknown") {
				t.Errorf("row %s on %s: status %q", r.ID, r.Node, r.Status)
			}
		}
		if err := sim.Node("pve2").SetDown(true); err != nil {
			t.Fatal(err)
		}
		if st, err = pve1.ClusterStatus(ctx); err != nil || st.Quorate {
			t.Fatalf("two of three down: %+v, %v", st, err)
		}
		for _, n := range []string{"pve2", "pve3"} {
			if err := sim.Node(n).SetDown(false); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("MemberJoins", func(t *testing.T) {
		pve4, err := sim.AddClusterNode("homelab", "pve4")
		if err != nil {
			t.Fatal(err)
		}
		st, err := pve1.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := members(st)
		if len(st.Nodes) != 4 || !m["pve4"].Online || m["pve4"].Local || m["pve4"].NodeID != 4 {
			t.Fatalf("after the join: %+v", st)
		}
		// Every member, the new one included, names the same cluster.
		fromNew, err := pvesimClient(t, sim, "pve4").ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !members(fromNew)["pve4"].Local ||
			proxmox.ClusterKey(fromNew, pve4.Fingerprint()) != proxmox.ClusterKey(st, sim.Node("pve1").Fingerprint()) {
			t.Fatalf("pve4 sees %+v, pve1 sees %+v", fromNew, st)
		}
	})
}
