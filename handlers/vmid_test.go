package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"corral/handlers"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/store"
)

// vmidEnv is alice signed in with pve1 and pve-solo of the demo estate and
// the real VMID service on an in-memory cache.
type vmidEnv struct {
	*testServer
	sim  *pvesim.Sim
	c    *client
	svc  *clusters.VMIDs
	pve1 store.Node
	solo store.Node
}

func newVMIDEnv(t *testing.T) *vmidEnv {
	t.Helper()
	var svc *clusters.VMIDs
	s := newTestServer(t, func(d *handlers.Deps) {
		svc = clusters.NewVMIDs(proxmox.NewMemVMIDStore(nil), clusters.NewReader(d.Proxmox), d.Nodes.(clusters.AllNodeLister), nil)
		d.VMIDs = svc
	})
	sim := startSim(t)
	t.Cleanup(svc.Close) // before the sim closes
	u := s.withUser(t, "alice", "correct horse")
	env := &vmidEnv{testServer: s, sim: sim, svc: svc,
		pve1: s.addSimNode(t, sim, u.ID, "pve1", "pve1"),
		solo: s.addSimNode(t, sim, u.ID, "pve-solo", "solo"),
	}
	env.c = s.client(t)
	env.c.login("alice", "correct horse")
	return env
}

// vmidAsk posts the field as htmx would and returns the fragment's state
// and text.
func (e *vmidEnv) vmidAsk(t *testing.T, nodeID, vmid string) (state, text string) {
	t.Helper()
	res := e.c.post("/containers/vmid", url.Values{"node_id": {nodeID}, "vmid": {vmid}}, "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if strings.Contains(res.Body, "<html") || strings.Contains(res.Body, "<nav") {
		t.Fatalf("the answer is more than the fragment:\n%s", res.Body)
	}
	el := res.Doc.Find(`[data-testid="vmid-status"]`)
	if el.Length() != 1 {
		t.Fatalf("no single status element in %q", res.Body)
	}
	state, _ = el.Attr("data-state")
	return state, strings.Join(strings.Fields(el.Text()), " ")
}

func TestVMIDField_Fragments(t *testing.T) {
	e := newVMIDEnv(t)
	for _, tc := range []struct {
		name, node, vmid, state, text string
	}{
		{"free", e.pve1.ID, "150", "free", "VMID 150 is free"},
		{"taken by CT", e.pve1.ID, "101", "taken", "VMID 101 is taken by CT mqtt on pve1"},
		{"taken by CT on another node of the cluster", e.pve1.ID, "103", "taken", "VMID 103 is taken by CT jellyfin on pve3"},
		{"taken by VM", e.pve1.ID, "200", "taken", "VMID 200 is taken by VM homeassistant on pve2"},
		{"the standalone node is its own cluster", e.solo.ID, "100", "taken", "VMID 100 is taken by CT backup on pve-solo"},
		{"free on the standalone node", e.solo.ID, " 101 ", "free", "VMID 101 is free"},
		{"below the range", e.pve1.ID, "99", "invalid", "VMID must be at least 100"},
		{"negative", e.pve1.ID, "-5", "invalid", "VMID must be at least 100"},
		{"above the range", e.pve1.ID, "1000000000", "invalid", "VMID must be at most 999999999"},
		{"far above the range", e.pve1.ID, "99999999999999999999999", "invalid", "VMID must be at most 999999999"},
		{"not a number", e.pve1.ID, "abc", "invalid", "VMID must be a whole number"},
		{"a fraction", e.pve1.ID, "105.5", "invalid", "VMID must be a whole number"},
		{"empty", e.pve1.ID, "", "invalid", "Enter a VMID from 100 to 999999999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, text := e.vmidAsk(t, tc.node, tc.vmid)
			if state != tc.state || !strings.Contains(text, tc.text) {
				t.Fatalf("got %s %q, want %s %q", state, text, tc.state, tc.text)
			}
		})
	}

	t.Run("plain post gets the fragment too", func(t *testing.T) {
		res := e.c.post("/containers/vmid", url.Values{"node_id": {e.pve1.ID}, "vmid": {"150"}})
		expectStatus(t, res, http.StatusOK)
		if res.Doc.Find(`[data-state="free"]`).Length() != 1 || strings.Contains(res.Body, "<html") {
			t.Fatalf("plain post: %s", res.Body)
		}
	})
}

func TestVMIDField_AnotherUsersNode(t *testing.T) {
	e := newVMIDEnv(t)
	bob := e.withUser(t, "bob", "battery staple")
	bobs := e.addSimNode(t, e.sim, bob.ID, "pve2", "pve2")
	for _, id := range []string{bobs.ID, "", "no-such-node"} {
		res := e.c.post("/containers/vmid", url.Values{"node_id": {id}, "vmid": {"150"}}, "HX-Request", "true")
		expectStatus(t, res, http.StatusNotFound)
		if strings.Contains(res.Body, "vmid-status") {
			t.Fatalf("node %q: a status leaked: %s", id, res.Body)
		}
	}
}

func TestVMIDField_UnreadableCluster(t *testing.T) {
	e := newVMIDEnv(t)
	if err := e.sim.Node("pve-solo").SetDown(true); err != nil {
		t.Fatal(err)
	}
	state, text := e.vmidAsk(t, e.solo.ID, "150")
	if state != "unknown" || !strings.Contains(text, "could not check; Proxmox will refuse a taken id when you create") {
		t.Fatalf("got %s %q, want the amber could-not-check", state, text)
	}
	// Back up: the next question reads the cluster again.
	if err := e.sim.Node("pve-solo").SetDown(false); err != nil {
		t.Fatal(err)
	}
	if state, text := e.vmidAsk(t, e.solo.ID, "100"); state != "taken" {
		t.Fatalf("after the node returned: %s %q", state, text)
	}
}

func TestVMIDField_NotesAndCache(t *testing.T) {
	e := newVMIDEnv(t)
	ctx := t.Context()
	count := vmidCountResources(e.sim, "pve1", "pve2", "pve3")
	if state, _ := e.vmidAsk(t, e.pve1.ID, "150"); state != "free" {
		t.Fatalf("150 is %s", state)
	}
	// Answers come from the cache now: typing does not hit Proxmox.
	for _, id := range []string{"151", "152", "101", "200"} {
		e.vmidAsk(t, e.pve1.ID, id)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d cluster reads for five answers, want 1", n)
	}

	e.svc.NoteCreated(ctx, e.pve1, 150, "web")
	if state, text := e.vmidAsk(t, e.pve1.ID, "150"); state != "taken" || !strings.Contains(text, "CT web on pve1") {
		t.Fatalf("after NoteCreated: %s %q", state, text)
	}
	e.svc.NoteDeleted(ctx, e.pve1, 101)
	if state, _ := e.vmidAsk(t, e.pve1.ID, "101"); state != "free" {
		t.Fatalf("after NoteDeleted 101 is %s", state)
	}

	// A fresh entry is left alone when the wizard opens; RefreshAll reads
	// each account's cluster once, however many of its nodes point at it:
	// alice's homelab through pve1, bob's through pve2 or pve3.
	e.svc.RefreshIfStale(ctx, e.pve1)
	bob := e.withUser(t, "bob", "battery staple")
	e.addSimNode(t, e.sim, bob.ID, "pve2", "pve2")
	e.addSimNode(t, e.sim, bob.ID, "pve3", "pve3")
	if err := e.svc.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d cluster reads after RefreshAll over three homelab nodes of two accounts, want 3", n)
	}
	if state, _ := e.vmidAsk(t, e.pve1.ID, "101"); state != "taken" {
		t.Fatalf("RefreshAll did not restore Proxmox's truth: 101 is %s", state)
	}
}

func TestVMIDField_RefreshAllReportsDeadClusters(t *testing.T) {
	e := newVMIDEnv(t)
	if err := e.sim.Node("pve-solo").SetDown(true); err != nil {
		t.Fatal(err)
	}
	err := e.svc.RefreshAll(t.Context())
	if err == nil || !strings.Contains(err.Error(), "1 of the clusters") {
		t.Fatalf("RefreshAll with pve-solo down: %v", err)
	}
	if state, _ := e.vmidAsk(t, e.pve1.ID, "102"); state != "taken" {
		t.Fatalf("homelab was not refreshed next to the dead cluster: 102 is %s", state)
	}
}
