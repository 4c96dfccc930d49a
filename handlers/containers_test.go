package handlers_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

// containersTestEstate is the demo estate plus three standalone nodes to
// break: one down, one slow, one with a new certificate.
func containersTestEstate(t testing.TB) *pvesim.Sim {
	t.Helper()
	return simtest.Demo(t, func(opts *pvesim.Options) {
		opts.Standalone = append(opts.Standalone, "pve-down", "pve-slow", "pve-cert")
		opts.Guests = append(opts.Guests,
			pvesim.GuestSpec{Node: "pve-down", VMID: 300, Name: "down-ct", Running: true},
			pvesim.GuestSpec{Node: "pve-slow", VMID: 301, Name: "slow-ct", Running: true},
			pvesim.GuestSpec{Node: "pve-cert", VMID: 302, Name: "cert-ct", Running: true},
		)
	})
}

// containersTestSetup is alice with pve1, pve2 (cluster homelab) and the
// standalone pve-solo, signed in.
type containersTestSetup struct {
	s     *testServer
	sim   *pvesim.Sim
	alice store.User
	c     *client
	pve1  store.Node
	pve2  store.Node
	solo  store.Node
}

func containersTestStart(t *testing.T, opts ...testDeps) *containersTestSetup {
	t.Helper()
	s := newTestServer(t, opts...)
	sim := startSim(t)
	u := s.withUser(t, "alice", "correct horse")
	st := &containersTestSetup{s: s, sim: sim, alice: u,
		pve1: s.addSimNode(t, sim, u.ID, "pve1", "pve1"),
		pve2: s.addSimNode(t, sim, u.ID, "pve2", "pve2"),
		solo: s.addSimNode(t, sim, u.ID, "pve-solo", "solo"),
	}
	st.c = s.client(t)
	st.c.login("alice", "correct horse")
	return st
}

func containersTestCards(t *testing.T, res *response) map[string]string {
	t.Helper()
	cards := map[string]string{}
	res.Doc.Find(`[data-testid="ct-card"]`).Each(func(_ int, s *goquery.Selection) {
		node, _ := s.Attr("data-node")
		vmid, _ := s.Attr("data-vmid")
		cards[node+"/"+vmid] = strings.TrimSpace(s.Find(`[data-testid="ct-status"]`).Text())
	})
	return cards
}

func TestContainersDashboard(t *testing.T) {
	st := containersTestStart(t)
	// A Corral-made container with a template and a recorded discovery.
	ctx := context.Background()
	if _, err := st.s.DB.CreateContainer(ctx, store.Container{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 100,
		Hostname: "pihole", TemplateName: "DNS sinkhole", Lifecycle: store.LifecycleReady}); err != nil {
		t.Fatal(err)
	}
	svcs := []store.Service{{Name: "pihole-FTL", Status: "running", Ports: []int{80}}, {Name: "ssh", Status: "running", Ports: []int{22}, System: true}}
	if _, err := st.s.DB.AppendEvent(ctx, store.Event{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 100, Type: store.EventServices,
		Data: map[string]string{store.ServicesDataKey: store.EncodeServices(svcs), store.ServicesIPKey: "10.0.0.5"}}); err != nil {
		t.Fatal(err)
	}

	res := st.c.get("/containers")
	expectStatus(t, res, 200)
	got := containersTestCards(t, res)
	// pve3 is not registered but in alice's cluster: its container is
	// shown too (issue 20); VMs are not containers.
	want := map[string]string{"pve1/100": "running", "pve1/101": "running", "pve2/102": "stopped", "pve3/103": "running", "solo/100": "running"}
	if len(got) != len(want) {
		t.Fatalf("cards %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("card %s: %q, want %q", k, got[k], v)
		}
	}
	if n := res.Doc.Find(`[data-testid="node-problem"]`).Length(); n != 0 {
		t.Fatalf("%d problems on a healthy estate", n)
	}
	card := res.Doc.Find(`[data-node="pve1"][data-vmid="100"]`)
	if tpl := card.Find(`[data-testid="ct-template"]`).Text(); tpl != "DNS sinkhole" {
		t.Errorf("template %q", tpl)
	}
	if href, _ := card.Find(`[data-testid="ct-services"] a`).Attr("href"); href != "http://10.0.0.5:80" {
		t.Errorf("service link %q", href)
	}
	if strings.Contains(card.Find(`[data-testid="ct-services"]`).Text(), "ssh") {
		t.Error("system service on a card")
	}
	if txt := res.Doc.Find(`[data-testid="stat-running"]`).Text(); !strings.Contains(txt, "4") {
		t.Errorf("running summary %q", txt)
	}
	// The refresh polls without an eval'd filter (the CSP forbids eval);
	// app.js pauses it instead.
	if grid, _ := res.Doc.Find(`#ct-grid`).Attr("hx-trigger"); !strings.Contains(grid, "every 10s") || strings.Contains(grid, "[") {
		t.Errorf("grid trigger %q", grid)
	}

	// Filters live in the URL; htmx refreshes of the grid get only the grid.
	res = st.c.get("/containers?node=" + st.pve2.ID)
	if got := containersTestCards(t, res); len(got) != 1 || got["pve2/102"] != "stopped" {
		t.Fatalf("node filter: %v", got)
	}
	res = st.c.get("/containers?status=running", "HX-Request", "true", "HX-Target", "ct-grid")
	if got := containersTestCards(t, res); len(got) != 4 || res.Doc.Find("h1").Length() != 0 {
		t.Fatalf("status filter fragment: %v\n%s", got, res.Body)
	}
	res = st.c.get("/containers?status=error")
	if res.Doc.Find(`[data-testid="ct-nomatch"]`).Length() != 1 {
		t.Fatal("no 'no match' state")
	}
}

func TestContainersEmptyStates(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "carol", "correct horse")
	c := s.client(t)
	c.login("carol", "correct horse")
	res := c.get("/containers")
	expectStatus(t, res, 200)
	if res.Doc.Find(`[data-testid="no-nodes-banner"]`).Length() != 1 {
		t.Fatalf("no banner without nodes:\n%s", res.Body)
	}
}

// TestContainersBrokenNodes breaks three standalone nodes three ways and a
// cluster member: the page still shows the healthy nodes and names each
// broken one with its reason.
func TestContainersBrokenNodes(t *testing.T) {
	s := newTestServer(t)
	sim := containersTestEstate(t)
	u := s.withUser(t, "alice", "correct horse")
	for _, n := range []string{"pve1", "pve2", "pve3", "pve-solo", "pve-down", "pve-slow", "pve-cert"} {
		s.addSimNode(t, sim, u.ID, n, n)
	}
	if err := sim.Node("pve-down").SetDown(true); err != nil {
		t.Fatal(err)
	}
	sim.Node("pve-slow").Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultLatency, Delay: 7 * time.Second})
	if err := sim.Node("pve-cert").RotateCertificate(); err != nil {
		t.Fatal(err)
	}
	// In cluster homelab, pve1 (asked first) and pve3 are down: the cluster
	// answers through pve2 and reports pve3's guests as unknown.
	for _, n := range []string{"pve1", "pve3"} {
		if err := sim.Node(n).SetDown(true); err != nil {
			t.Fatal(err)
		}
	}
	c := s.client(t)
	c.login("alice", "correct horse")
	start := time.Now()
	res := c.get("/containers")
	t.Logf("page with four broken nodes served in %v", time.Since(start))
	expectStatus(t, res, 200)
	got := containersTestCards(t, res)
	if got["pve2/102"] != "stopped" || got["pve-solo/100"] != "running" {
		t.Fatalf("healthy nodes missing: %v", got)
	}
	problems := map[string]string{}
	res.Doc.Find(`[data-testid="node-problem"]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("data-down")
		problems[name] = s.Text()
	})
	for name, want := range map[string]string{
		"pve-down": "pve-down", "pve-slow": "", "pve-cert": "certificate", "pve1": "", "pve3": "offline",
	} {
		p, ok := problems[name]
		if !ok {
			t.Errorf("%s not named; problems: %v", name, problems)
			continue
		}
		if want != "" && !strings.Contains(strings.ToLower(p), want) {
			t.Errorf("%s: %q does not say %q", name, p, want)
		}
	}
	if _, ok := problems["pve2"]; ok {
		t.Errorf("healthy pve2 named: %v", problems)
	}
	if n := res.Doc.Find(`[data-testid="node-problem"]`).Length(); n != len(problems) {
		t.Errorf("%d banners for %d nodes: a node is named twice", n, len(problems))
	}
	if got["pve3/103"] != "unknown" || got["pve1/100"] != "unknown" {
		t.Errorf("containers of down members: %v", got)
	}
}

// containersTestSSHCounter sits in front of a node's SSH server and counts
// connections.
type containersTestSSHCounter struct {
	n    atomic.Int64
	port int
}

func containersTestCountSSH(t *testing.T, target string) *containersTestSSHCounter {
	t.Helper()
	host, _, _ := net.SplitHostPort(target) // the node's own address, so its record keeps it
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctr := &containersTestSSHCounter{port: ln.Addr().(*net.TCPAddr).Port}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			ctr.n.Add(1)
			wg.Go(func() {
				defer in.Close()
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { io.Copy(out, in); out.Close() }()
				io.Copy(in, out)
			})
		}
	}()
	return ctr
}

// TestContainersDashboardNoSSH: the dashboard and its refresh never open an
// SSH connection, even with services to show; a discovery does (so the
// counter works).
func TestContainersDashboardNoSSH(t *testing.T) {
	st := containersTestStart(t)
	ctr := containersTestCountSSH(t, st.sim.Node("pve1").SSHAddr())
	n := st.pve1
	n.SSHPort = ctr.port
	if _, err := st.s.DB.UpdateNode(context.Background(), st.alice.ID, n); err != nil {
		t.Fatal(err)
	}
	res := st.c.post("/containers/"+n.ID+"/100/services/refresh", nil, "HX-Request", "true")
	expectStatus(t, res, 200)
	if ctr.n.Load() == 0 {
		t.Fatalf("discovery made no SSH connection:\n%s", res.Body)
	}
	before := ctr.n.Load()
	for range 3 {
		expectStatus(t, st.c.get("/containers"), 200)
		expectStatus(t, st.c.get("/containers", "HX-Request", "true", "HX-Target", "ct-grid"), 200)
	}
	if after := ctr.n.Load(); after != before {
		t.Fatalf("the dashboard opened %d SSH connection(s)", after-before)
	}
}

// containersTestVMIDs records NoteDeleted calls.
type containersTestVMIDs struct {
	mu      sync.Mutex
	deleted []int
}

func (v *containersTestVMIDs) Check(context.Context, store.Node, int) (clusters.VMIDCheck, error) {
	return clusters.VMIDCheck{}, nil
}
func (v *containersTestVMIDs) RefreshIfStale(context.Context, store.Node)           {}
func (v *containersTestVMIDs) NoteCreated(context.Context, store.Node, int, string) {}
func (v *containersTestVMIDs) NoteDeleted(_ context.Context, _ store.Node, vmid int) {
	v.mu.Lock()
	v.deleted = append(v.deleted, vmid)
	v.mu.Unlock()
}
func (v *containersTestVMIDs) list() []int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]int(nil), v.deleted...)
}
