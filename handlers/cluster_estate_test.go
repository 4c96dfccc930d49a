package handlers_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/exec/access"
	"corral/exec/provision"
	"corral/handlers"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
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

// TestClusterEstate_AddOneNodeSeeAll (issue 20): alice adds pve1 of the
// three-member cluster and sees every container of it; one on a member she
// did not add starts through pve1's API, and what needs SSH there asks her
// to add the member.
func TestClusterEstate_AddOneNodeSeeAll(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	res := c.post("/settings/nodes", e.nodesForm(t, "pve1", "pve1"))
	expectStatus(t, res, http.StatusOK)
	res = c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
	expectStatus(t, res, http.StatusSeeOther)
	res = c.get("/settings/nodes")
	if flash := nodesText(res, "flash"); !strings.Contains(flash, "pve2, pve3") || !strings.Contains(flash, "in one step") {
		t.Errorf("the flash does not offer the other members: %q", flash)
	}
	pve1 := nodesOf(t, e.testServer, u.ID)[0]

	res = c.get("/containers")
	got := containersTestCards(t, res)
	want := map[string]string{"pve1/100": "running", "pve1/101": "running", "pve2/102": "stopped", "pve3/103": "running"}
	if len(got) != len(want) {
		t.Fatalf("cards %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("card %s: %q, want %q", k, got[k], v)
		}
	}
	card := res.Doc.Find(`[data-node="pve2"][data-vmid="102"]`)
	if txt := card.Find(`[data-testid="add-member-button"]`).Text(); txt != "Add pve2 to open shells here" {
		t.Errorf("pve2's card offers %q", txt)
	}
	if action, _ := card.Find(`[data-testid="add-member-button"]`).Attr("formaction"); action != "/settings/nodes/"+pve1.ID+"/members" {
		t.Errorf("the one-click add posts to %q", action)
	}
	if res.Doc.Find(`[data-node="pve1"] [data-testid="add-member"]`).Length() != 0 {
		t.Error("a registered member's card offers to add it")
	}

	// Lifecycle through pve1's API, which forwards to pve2.
	ref := pve1.ID + "~pve2"
	res = c.post("/containers/"+ref+"/102/start", url.Values{"from": {"card"}}, "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if st, _ := e.sim.Node("pve2").GuestStatus(102); st != "running" {
		t.Fatalf("CT 102 is %q after start through pve1", st)
	}
	res = c.get("/containers/" + ref + "/102?tab=services")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="services-panel"] [data-testid="add-member"]`).Length() != 1 {
		t.Errorf("the services tab of a container on pve2 does not offer to add pve2:\n%s", nodesText(res, "services-panel"))
	}
	res = c.post("/containers/"+ref+"/102/services/refresh", nil, "HX-Request", "true")
	if msg := nodesText(res, "services-error"); !strings.Contains(msg, "Add pve2 to open shells here") {
		t.Errorf("discovery on an unregistered member says %q", msg)
	}
	// Day two: what goes through the API works through pve1, what needs
	// SSH on pve3 asks to add it.
	ref3 := pve1.ID + "~pve3"
	expectStatus(t, c.get("/containers/"+ref3+"/103/snapshots"), http.StatusOK)
	res = c.post("/containers/"+ref3+"/103/services/nginx/restart", nil, "HX-Request", "true")
	if !strings.Contains(res.Body, "Add pve3 to open shells here") {
		t.Errorf("a service restart on pve3 answers %d:\n%s", res.StatusCode, res.Body)
	}
	// The SSH gateway offers only what it can reach: containers on pve1.
	dir, err := access.Directory{Nodes: e.DB, Clusters: e.H.Clusters}.Containers(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var offered []int
	for _, g := range dir {
		offered = append(offered, g.VMID)
	}
	if fmt.Sprint(offered) != "[100 101]" {
		t.Errorf("the gateway offers %v, want the containers on pve1 only", offered)
	}
	// A member name that is no member is simply not there.
	expectStatus(t, c.get("/containers/"+pve1.ID+"~nosuch/102"), http.StatusNotFound)
	expectStatus(t, c.get("/containers/"+pve1.ID+"~..%2Fx/102"), http.StatusNotFound)
}

// TestClusterEstate_AddAllMembersInOneStep (issue 20): after pve1, the
// nodes page shows the cluster with its quorum and members and adds the
// other two in one step, each pinned to its own keys, shown first; a
// member that joins later shows as new and joins the same cluster.
func TestClusterEstate_AddAllMembersInOneStep(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	pve1 := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "pve1"))

	res := c.get("/settings/nodes")
	group := res.Doc.Find(`[data-testid="node-group"][data-cluster="homelab"]`)
	if q, m := nodesText(res, "group-quorum"), nodesText(res, "group-members"); q != "quorate" || m != "3 members, 1 added" {
		t.Fatalf("cluster heading: quorum %q, members %q", q, m)
	}
	var listed []string
	group.Find(`[data-testid="member"]`).Each(func(_ int, s *goquerySelection) {
		name, _ := s.Attr("data-member")
		if _, checked := s.Find(`[data-testid="member-pick"]`).Attr("checked"); !checked {
			t.Errorf("online member %s is not picked by default", name)
		}
		listed = append(listed, name)
	})
	if fmt.Sprint(listed) != "[pve2 pve3]" {
		t.Fatalf("members offered: %v", listed)
	}

	res = c.post("/settings/nodes/"+pve1.ID+"/members", url.Values{"member": {"pve2", "pve3"}})
	expectStatus(t, res, http.StatusOK)
	for _, name := range []string{"pve2", "pve3"} {
		m := res.Doc.Find(`[data-testid="member-confirm"][data-member="` + name + `"]`)
		sim := e.sim.Node(name)
		if fp := strings.TrimSpace(m.Find(`[data-testid="tls-fingerprint"]`).Text()); fp != sim.Fingerprint() {
			t.Errorf("%s's certificate shown as %q, want %q", name, fp, sim.Fingerprint())
		}
		if key := m.Find(`[data-testid="ssh-fingerprint"]`).Text(); !strings.Contains(key, ssh.FingerprintSHA256(sim.SSHHostKey())) {
			t.Errorf("%s's host key shown as %q", name, key)
		}
		if addr := m.Find(`[data-testid="member-addr"]`).Text(); addr != sim.Addr() {
			t.Errorf("%s at %q, want %q", name, addr, sim.Addr())
		}
	}
	if n := len(nodesOf(t, e.testServer, u.ID)); n != 1 {
		t.Fatalf("%d nodes stored before the keys were trusted", n)
	}
	expectStatus(t, c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}}), http.StatusSeeOther)

	nodes := nodesOf(t, e.testServer, u.ID)
	if len(nodes) != 3 {
		t.Fatalf("%d nodes after adding the members", len(nodes))
	}
	for _, n := range nodes[1:] {
		sim := e.sim.Node(n.PVENodeName)
		if n.Host != sim.Host() || n.TLSFingerprint != sim.Fingerprint() || n.SSHHostKey != authorizedKey(sim.SSHHostKey()) ||
			n.ClusterKey != pve1.ClusterKey || n.TokenSecret != nodesTokenSecret || n.SSHPassword != nodesRootPassword || n.IsDefault {
			t.Errorf("member %s stored as %+v", n.Name, n)
		}
	}
	if got := len(nodesAudit(t, e.testServer, "node.add")); got != 3 {
		t.Errorf("%d node.add audit entries, want 3", got)
	}
	res = c.get("/containers")
	if res.Doc.Find(`[data-testid="add-member"]`).Length() != 0 {
		t.Error("cards still offer to add members that were added")
	}
	if m := nodesText(c.get("/settings/nodes"), "group-members"); m != "3 members, 3 added" {
		t.Errorf("cluster heading after the add: %q", m)
	}

	// pve4 joins the cluster later: new member, added the same way, in
	// the same cluster.
	if _, err := e.sim.AddClusterNode("homelab", "pve4"); err != nil {
		t.Fatal(err)
	}
	res = c.get("/settings/nodes")
	if m := res.Doc.Find(`[data-testid="member"][data-member="pve4"]`); m.Find(`[data-testid="member-new"]`).Text() != "new member: add it" {
		t.Fatalf("pve4 is not shown as a new member:\n%s", nodesText(res, "members-form"))
	}
	res = c.post("/settings/nodes/"+pve1.ID+"/members", url.Values{"member": {"pve4"}})
	expectStatus(t, c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}}), http.StatusSeeOther)
	nodes = nodesOf(t, e.testServer, u.ID)
	if len(nodes) != 4 || nodes[3].PVENodeName != "pve4" || nodes[3].ClusterKey != pve1.ClusterKey {
		t.Fatalf("pve4 stored as %+v", nodes[len(nodes)-1])
	}
	if res := c.get("/settings/nodes"); res.Doc.Find(`[data-testid="node-group"]`).Length() != 1 {
		t.Fatal("the cluster split in two groups")
	}
}

// TestClusterEstate_MemberLoginOfItsOwn: a member with an SSH login of its
// own gets that one; a wrong one keeps that member out, not the others.
func TestClusterEstate_MemberLoginOfItsOwn(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	pve1 := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "pve1"))
	res := c.post("/settings/nodes/"+pve1.ID+"/members", url.Values{"member": {"pve2", "pve3"},
		"ssh_user.pve3": {"admin"}, "ssh_password.pve3": {"wrong-" + nodesRootPassword[:4]}})
	expectStatus(t, res, http.StatusOK)
	if login := res.Doc.Find(`[data-member="pve3"] [data-testid="member-login"]`).Text(); !strings.Contains(login, "admin@") || !strings.Contains(login, "its own login") {
		t.Errorf("pve3's login shown as %q", login)
	}
	res = c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
	expectStatus(t, res, http.StatusSeeOther)
	flash := nodesText(c.get("/settings/nodes"), "flash")
	if !strings.Contains(flash, "Added pve2") || !strings.Contains(flash, "Not added: pve3") {
		t.Errorf("flash %q", flash)
	}
	if nodes := nodesOf(t, e.testServer, u.ID); len(nodes) != 2 || nodes[1].PVENodeName != "pve2" {
		t.Fatalf("stored %d nodes", len(nodes))
	}
}

// TestClusterEstate_MemberDownDashboardComplete (issue 20): with pve1,
// the member asked first, down, the dashboard is still complete through
// pve2, and the banner names pve1 as the member that is down.
func TestClusterEstate_MemberDownDashboardComplete(t *testing.T) {
	sim := startSim(t)
	s := newTestServer(t)
	u := s.withUser(t, "alice", "correct horse")
	s.addSimNode(t, sim, u.ID, "pve1", "pve1")
	s.addSimNode(t, sim, u.ID, "pve2", "pve2")
	if err := sim.Node("pve1").SetDown(true); err != nil {
		t.Fatal(err)
	}
	c := s.client(t)
	c.login("alice", "correct horse")
	res := c.get("/containers")
	got := containersTestCards(t, res)
	want := map[string]string{"pve1/100": "unknown", "pve1/101": "unknown", "pve2/102": "stopped", "pve3/103": "running"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cards %v, want %v", got, want)
	}
	banners := res.Doc.Find(`[data-testid="node-problem"]`)
	if banners.Length() != 1 {
		t.Fatalf("%d banners", banners.Length())
	}
	if down, _ := banners.Attr("data-down"); down != "pve1" || !strings.Contains(banners.Text(), "pve1 is down") ||
		!strings.Contains(banners.Text(), "asked pve2 instead") || strings.Contains(banners.Text(), "cannot reach the cluster") {
		t.Errorf("banner %q (down %q)", banners.Text(), down)
	}
}

// TestClusterEstate_CreateOnMemberAddedInTheSameFlow (issue 20): the
// wizard offers pve3, a member alice did not add, with its own storages;
// the review asks to add it first, and creating refuses until then; the
// add returns to the wizard, and the container is created on pve3 by a
// real creation job.
func TestClusterEstate_CreateOnMemberAddedInTheSameFlow(t *testing.T) {
	var runner *provision.Runner
	real := func(d *handlers.Deps) {
		r, err := provision.New(provision.Config{
			Store: d.Nodes.(provision.Store), Proxmox: d.Proxmox, Dial: jobsTestDial, VMIDs: d.VMIDs,
			Logger: slog.New(slog.DiscardHandler), FlushInterval: 20 * time.Millisecond, WaitInterval: 20 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Provisioner, runner = r, r
	}
	e := newWizardEnv(t, real)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	scratch := func(v url.Values) {
		v.Set("hostname", "far1")
		v.Set("os_template", "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst")
	}

	res := e.walkToConfigure(t, "scratch")
	ref := e.node.ID + "~pve3"
	var offered []string
	res.Doc.Find(`select[name="node_id"] option`).Each(func(_ int, s *goquerySelection) {
		v, _ := s.Attr("value")
		offered = append(offered, v+"="+strings.TrimSpace(s.Text()))
	})
	if !slices.Contains(offered, ref+"=pve3 (cluster homelab) · not added yet") || !slices.Contains(offered, e.node.ID+"~pve2=pve2 (cluster homelab) · not added yet") {
		t.Fatalf("the wizard offers %q", offered)
	}
	res = e.step(t, res, func(v url.Values) { v.Set("node_id", ref); v.Set("action", "change-node") })
	wizardAt(t, res, "configure")
	if f := wizardForm(t, res.Doc); f.Get("node_id") != ref || f.Get("storage") != "local-lvm" || f.Get("bridge") != "vmbr0" {
		t.Fatalf("configure on pve3: node %q storage %q bridge %q", f.Get("node_id"), f.Get("storage"), f.Get("bridge"))
	}
	// The VMID field answers for pve3's cluster.
	vres := e.c.post("/containers/vmid", url.Values{"node_id": {ref}, "vmid": {"103"}}, "HX-Request", "true")
	if expectStatus(t, vres, http.StatusOK); !strings.Contains(vres.Body, "jellyfin") {
		t.Errorf("VMID 103 through pve3: %s", vres.Body)
	}
	res = e.step(t, res, func(v url.Values) { scratch(v); v.Set("step", "review") })
	wizardAt(t, res, "review")
	if txt := nodesText(res, "add-member"); !strings.Contains(txt, "add pve3 first") {
		t.Fatalf("the review does not ask to add pve3: %q", txt)
	}
	created := e.step(t, res, func(v url.Values) { v.Set("create", "1") })
	expectStatus(t, created, http.StatusUnprocessableEntity)
	wizardAt(t, created, "review")
	if cts, _ := e.DB.Containers(t.Context(), e.user.ID); len(cts) != 0 {
		t.Fatalf("a creation started on a member without an SSH login: %+v", cts)
	}

	// The button posts the wizard's form to the members route.
	form := wizardForm(t, res.Doc)
	form.Set("member", "pve3")
	action, _ := res.Doc.Find(`[data-testid="add-member-button"]`).Attr("formaction")
	res = e.c.post(action, form)
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="member-confirm"]`).Length() != 1 {
		t.Fatalf("confirm page for pve3 alone:\n%s", nodesText(res, "members-confirm"))
	}
	res = e.c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
	expectStatus(t, res, http.StatusSeeOther)
	back := res.Header.Get("Location")
	if !strings.HasPrefix(back, "/containers/new?") {
		t.Fatalf("after the add, back to %q", back)
	}
	var pve3 store.Node
	for _, n := range nodesOf(t, e.testServer, e.user.ID) {
		if n.PVENodeName == "pve3" {
			pve3 = n
		}
	}
	if pve3.ID == "" {
		t.Fatal("pve3 was not added")
	}

	res = e.c.get(back)
	wizardAt(t, res, "template")
	res = e.step(t, res, wizardGo("configure"))
	wizardAt(t, res, "configure")
	if f := wizardForm(t, res.Doc); f.Get("node_id") != pve3.ID {
		t.Fatalf("back in the wizard on %q, want pve3's record %q", f.Get("node_id"), pve3.ID)
	}
	res = e.step(t, res, func(v url.Values) { scratch(v); v.Set("step", "review") })
	wizardAt(t, res, "review")
	if res.Doc.Find(`[data-testid="add-member"]`).Length() != 0 {
		t.Fatal("the review still asks to add pve3")
	}
	res = e.step(t, res, func(v url.Values) { v.Set("create", "1") })
	expectStatus(t, res, http.StatusSeeOther)
	jobID := strings.TrimPrefix(res.Header.Get("Location"), "/jobs/")
	if j := jobsTestWaitEnd(t, runner, e.user.ID, jobID); j.State != store.JobDone || j.Plan.NodeID != pve3.ID || j.Plan.PVENode != "pve3" {
		t.Fatalf("job %s on %s/%s", j.State, j.Plan.NodeID, j.Plan.PVENode)
	}
	if st, ok := e.sim.Node("pve3").GuestStatus(104); !ok || st != "running" {
		t.Fatalf("CT 104 on pve3: %q %v", st, ok)
	}
}

// TestClusterEstate_OneNodeOfALargeCluster (issue 20's report: 101 of
// 5,000 listed): one node added of a ten-node cluster holding 1,000
// guests lists every container of the cluster, all but those on the
// added member offering to add theirs.
func TestClusterEstate_OneNodeOfALargeCluster(t *testing.T) {
	opts := pvesim.Scale{Clusters: 1, NodesPerCluster: 10, GuestsPerNode: 100}.Options()
	opts.TaskDuration = -1
	sim := simtest.Start(t, opts)
	s := newTestServer(t)
	u := s.withUser(t, "alice", "correct horse")
	s.addSimNode(t, sim, u.ID, "homelab-pve01", "pve01")
	c := s.client(t)
	c.login("alice", "correct horse")

	api, err := clusters.NewClients(slog.New(slog.DiscardHandler))(nodesOf(t, s, u.ID)[0])
	if err != nil {
		t.Fatal(err)
	}
	rows, err := api.ClusterResources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want, onFirst := 0, 0
	for _, r := range rows {
		if r.Type == "lxc" && !bool(r.Template) {
			want++
			if r.Node == "homelab-pve01" {
				onFirst++
			}
		}
	}
	// The dashboard shows them a page at a time: walk every page.
	cards, offers := 0, 0
	for next := "/containers"; next != ""; {
		res := c.get(next)
		expectStatus(t, res, http.StatusOK)
		if got := res.Doc.Find(`[data-testid="stat-total"]`).Text(); got != strconv.Itoa(want) {
			t.Fatalf("total %s, want %d", got, want)
		}
		cards += res.Doc.Find(`[data-testid="ct-card"]`).Length()
		offers += res.Doc.Find(`[data-testid="ct-card"] [data-testid="add-member"]`).Length()
		next = res.Doc.Find(`[data-testid="ct-pager-bottom"] [data-testid="page-next"]`).AttrOr("href", "")
	}
	if cards != want || want < 900 {
		t.Fatalf("%d cards, want every one of the cluster's %d containers", cards, want)
	}
	if offers != want-onFirst {
		t.Fatalf("%d cards offer to add their member, want %d", offers, want-onFirst)
	}
}

// TestClusterEstate_ConsoleOnMemberAsksToAdd: the Console tab of a
// container on a member alice did not add offers to add it, and no ticket
// opens a shell there (Corral holds no SSH login for it).
func TestClusterEstate_ConsoleOnMemberAsksToAdd(t *testing.T) {
	e := nodesSetup(t, withConsole(nil, nil))
	c, u := e.nodesLogin(t, "alice")
	res := c.post("/settings/nodes", e.nodesForm(t, "pve1", "pve1"))
	expectStatus(t, res, http.StatusOK)
	expectStatus(t, c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}}), http.StatusSeeOther)
	pve1 := nodesOf(t, e.testServer, u.ID)[0]
	ref3 := pve1.ID + "~pve3"

	res = c.get("/containers/" + ref3 + "/103?tab=console")
	expectStatus(t, res, http.StatusOK)
	panel := res.Doc.Find(`[data-testid="console-add-member"]`)
	if !strings.Contains(panel.Text(), "no SSH login for pve3") {
		t.Fatalf("console tab on pve3:\n%s", nodesText(res, "console-panel"))
	}
	if action, _ := panel.Find(`[data-testid="add-member"]`).Attr("action"); action != "/settings/nodes/"+pve1.ID+"/members" {
		t.Errorf("add form posts to %q", action)
	}
	if ret, _ := panel.Find(`input[name="return"]`).Attr("value"); !strings.HasSuffix(ret, "/103?tab=console") {
		t.Errorf("after adding, back to %q", ret)
	}
	if res.Doc.Find(`[data-testid="console"]`).Length() != 0 {
		t.Error("a terminal is offered where no shell can open")
	}
	if res := c.post("/containers/"+ref3+"/103/console/ticket", nil); res.StatusCode == http.StatusOK {
		t.Fatalf("a ticket for a member alice did not add: %s", res.Body)
	}
}

// TestClusterEstate_LaterMemberAddedByHand: pve4 joins the cluster after
// alice added pve1, and she adds pve4 through the ordinary form rather than
// the members button. The cluster stays one estate: one key for all its
// nodes (so one group, one VMID space) and every container shown once.
func TestClusterEstate_LaterMemberAddedByHand(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	pve1 := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "pve1"))
	if _, err := e.sim.AddClusterNode("homelab", "pve4"); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddGuest(pvesim.GuestSpec{Node: "pve4", VMID: 4040, Name: "on-four", Running: true}); err != nil {
		t.Fatal(err)
	}
	pve4 := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve4", "pve4"))
	nodes := nodesOf(t, e.testServer, u.ID)
	for _, n := range nodes {
		if n.ClusterKey != pve4.ClusterKey {
			t.Errorf("%s keeps cluster key %s, pve4 has %s (pve1 had %s)", n.Name, n.ClusterKey, pve4.ClusterKey, pve1.ClusterKey)
		}
	}
	if res := c.get("/settings/nodes"); res.Doc.Find(`[data-testid="node-group"]`).Length() != 1 {
		t.Error("the cluster split in two groups")
	}
	res := c.get("/containers")
	seen := map[string]int{}
	res.Doc.Find(`[data-testid="ct-card"]`).Each(func(_ int, s *goquerySelection) {
		vmid, _ := s.Attr("data-vmid")
		seen[vmid]++
	})
	if seen["4040"] != 1 {
		t.Errorf("CT 4040 shown %d times", seen["4040"])
	}
	for vmid, n := range seen {
		if n != 1 {
			t.Errorf("CT %s shown %d times", vmid, n)
		}
	}
}

// TestClusterEstate_SameNameOtherCluster: a second, unrelated cluster that
// is also called "homelab" keeps its own key when alice adds a node of it:
// the re-check asks pve1 itself which cluster it is in.
func TestClusterEstate_SameNameOtherCluster(t *testing.T) {
	e := nodesSetup(t)
	other := simtest.Demo(t, func(opts *pvesim.Options) {
		opts.RootPassword = nodesRootPassword
		opts.Tokens = []pvesim.TokenSpec{{User: "corral@pve", ID: "corral", Secret: nodesTokenSecret, Privsep: true, Privileges: pvesim.CorralACL()}}
		opts.Clusters = []pvesim.ClusterSpec{{Name: "homelab", Nodes: []string{"far1", "far2"}}}
		opts.Standalone, opts.Guests = nil, nil
	})
	c, u := e.nodesLogin(t, "alice")
	pve1 := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "pve1"))
	n := other.Node("far1")
	far1 := e.nodesAdd(t, c, u.ID, url.Values{
		"name": {"far1"}, "host": {n.Host()}, "port": {strconv.Itoa(n.Port())},
		"token_id": {nodesTokenID}, "token_secret": {nodesTokenSecret},
		"ssh_user": {"root"}, "ssh_port": {strconv.Itoa(sshPort(t, n.SSHAddr()))}, "ssh_password": {nodesRootPassword},
	})
	if far1.ClusterName != "homelab" || far1.ClusterKey == pve1.ClusterKey {
		t.Fatalf("far1 stored in cluster %q with key %s, pve1's is %s", far1.ClusterName, far1.ClusterKey, pve1.ClusterKey)
	}
	for _, n := range nodesOf(t, e.testServer, u.ID) {
		if n.Name == "pve1" && n.ClusterKey != pve1.ClusterKey {
			t.Errorf("pve1 re-keyed to %s by an unrelated cluster of the same name", n.ClusterKey)
		}
	}
	if res := c.get("/settings/nodes"); res.Doc.Find(`[data-testid="node-group"]`).Length() != 2 {
		t.Error("two clusters called homelab are shown as one")
	}
}
