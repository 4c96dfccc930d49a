package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/store"
)

// TestConfirmPageWithoutJavaScript walks the no-JS path of the shared
// dialog: each asking action is a link to a page that asks once, names the
// action on its button, and posts the action; a delete asks for the VMID on
// that same page and refuses a wrong one there.
func TestConfirmPageWithoutJavaScript(t *testing.T) {
	st := containersTestStart(t)
	base := "/containers/" + st.pve1.ID + "/101"

	res := st.c.get("/containers")
	card := res.Doc.Find(`[data-node="pve1"][data-vmid="101"]`)
	for _, a := range []string{"shutdown", "stop", "reboot", "delete"} {
		href, _ := card.Find(`[data-testid="action-` + a + `"]`).Attr("href")
		if href != base+"/"+a+"?from=card" {
			t.Errorf("%s link %q", a, href)
		}
	}
	if card.Find("form").Length() != 0 {
		t.Errorf("a running container's card has %d forms; its actions are links to one dialog", card.Find("form").Length())
	}

	res = st.c.get(base + "/reboot?from=card")
	expectStatus(t, res, http.StatusOK)
	form := res.Doc.Find(`[data-testid="confirm-page"]`)
	if act, _ := form.Attr("action"); act != base+"/reboot" {
		t.Fatalf("confirm form posts to %q", act)
	}
	if ok := strings.TrimSpace(form.Find(`[data-testid="confirm-page-ok"]`).Text()); ok != "Reboot mqtt" {
		t.Errorf("button %q", ok)
	}
	if from, _ := form.Find(`input[name="from"]`).Attr("value"); from != "card" {
		t.Errorf("from %q", from)
	}
	if s, _ := st.sim.Node("pve1").GuestStatus(101); s != "running" {
		t.Fatal("asking changed something")
	}

	// Delete: the VMID on the page, checked there.
	res = st.c.get(base + "/delete?from=detail&tab=events")
	if st.c.get(base+"/delete").Doc.Find(`[data-testid="confirm-page-vmid"]`).Length() != 1 {
		t.Fatal("no VMID field on the delete page")
	}
	if cancel, _ := res.Doc.Find(`[data-testid="confirm-page-cancel"]`).Attr("href"); cancel != base+"?tab=events" {
		t.Errorf("cancel goes to %q", cancel)
	}
	res = st.c.post(base+"/delete", url.Values{"confirm_vmid": {"110"}, "from": {"detail"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if e := res.Doc.Find(`[data-testid="confirm-page-error"]`).Text(); !strings.Contains(e, "Type 101") {
		t.Fatalf("wrong VMID: %q\n%s", e, res.Body)
	}
	if _, ok := st.sim.Node("pve1").GuestStatus(101); !ok {
		t.Fatal("deleted with a wrong VMID")
	}
	res = st.c.post(base+"/delete", url.Values{"confirm_vmid": {"101"}, "from": {"detail"}})
	expectStatus(t, res, http.StatusSeeOther)
	if _, ok := st.sim.Node("pve1").GuestStatus(101); ok {
		t.Fatal("not deleted with the right VMID")
	}

	// Start asks nothing: there is no page for it, and others' nodes 404.
	expectStatus(t, st.c.get("/containers/"+st.pve2.ID+"/102/start"), http.StatusNotFound)
	st.s.withUser(t, "bob", "battery staple")
	bob := st.s.client(t)
	bob.login("bob", "battery staple")
	expectStatus(t, bob.get("/containers/"+st.pve2.ID+"/102/stop"), http.StatusNotFound)
}

// TestDetailActionAnswer: after an action on the detail page the whole
// body is rebuilt. A container Corral did not create keeps its Proxmox
// name, and a stopped one shows no CPU, uptime or leased address.
func TestDetailActionAnswer(t *testing.T) {
	st := containersTestStart(t)
	base := "/containers/" + st.pve1.ID + "/101"
	res := st.c.get(base)
	if ip := res.Doc.Find(`[data-testid="runtime-ip"]`).Text(); ip == "—" {
		t.Fatal("a running container shows no address")
	}
	res = st.c.post(base+"/shutdown", url.Values{"from": {"detail"}, "tab": {"overview"}}, "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if name := res.Doc.Find(`[data-testid="detail-name"]`).Text(); !strings.HasPrefix(name, "mqtt") {
		t.Errorf("title after shut down: %q", name)
	}
	if s := res.Doc.Find(`[data-testid="detail-status"]`).Text(); s != "stopped" {
		t.Errorf("status %q", s)
	}
	if res.Doc.Find(`[data-testid="usage-CPU"]`).Length() != 0 {
		t.Error("CPU usage of a stopped container")
	}
	if up := res.Doc.Find(`[data-testid="uptime"]`).Text(); up != "—" {
		t.Errorf("uptime of a stopped container: %q", up)
	}
	if ip := res.Doc.Find(`[data-testid="runtime-ip"]`).Text(); ip != "—" {
		t.Errorf("address of a stopped DHCP container: %q", ip)
	}
	if note := res.Doc.Find(`[data-testid="detail-note"]`).Text(); !strings.Contains(note, "shut down") {
		t.Errorf("note %q", note)
	}
	if res.Doc.Find(`[data-testid="action-start"]`).Length() != 1 {
		t.Error("no Start after shut down")
	}
	// Without JavaScript: back to the same tab, with a flash.
	res = st.c.post(base+"/start", url.Values{"from": {"detail"}, "tab": {"events"}})
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != base+"?tab=events" {
		t.Errorf("redirect to %q", loc)
	}
}

// TestDashboardErrorStateAndSummary: a container whose creation failed but
// which runs in Proxmox can still be stopped, and the summary counts what
// the node filter shows.
func TestDashboardErrorStateAndSummary(t *testing.T) {
	st := containersTestStart(t)
	if _, err := st.s.DB.CreateContainer(context.Background(), store.Container{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 101,
		Hostname: "mqtt", Lifecycle: store.LifecycleError}); err != nil {
		t.Fatal(err)
	}
	res := st.c.get("/containers")
	card := res.Doc.Find(`[data-node="pve1"][data-vmid="101"]`)
	if s := card.Find(`[data-testid="ct-status"]`).Text(); s != "error" {
		t.Fatalf("status %q", s)
	}
	for _, a := range []string{"stop", "shutdown", "delete"} {
		if card.Find(`[data-testid="action-`+a+`"]`).Length() != 1 {
			t.Errorf("no %s on a running container in error", a)
		}
	}
	res = st.c.get(mqttPath(st) + "/stop?from=card")
	expectStatus(t, res, http.StatusOK)
	expectStatus(t, st.c.post(mqttPath(st)+"/stop", url.Values{"from": {"card"}}), http.StatusSeeOther)
	if s, _ := st.sim.Node("pve1").GuestStatus(101); s != "stopped" {
		t.Fatalf("Proxmox says %s", s)
	}

	res = st.c.get("/containers?node=" + st.pve2.ID)
	for id, want := range map[string]string{"total": "1", "running": "0", "stopped": "1", "error": "0"} {
		if got := strings.TrimSpace(res.Doc.Find(`[data-testid="stat-` + id + `"]`).Text()); got != want {
			t.Errorf("pve2 %s = %s, want %s", id, got, want)
		}
	}
	if href, _ := res.Doc.Find(`[data-testid="filter-status-stopped"]`).Attr("href"); href != "/containers?node="+st.pve2.ID+"&status=stopped" {
		t.Errorf("stopped filter keeps the node: %q", href)
	}
}

func mqttPath(st *containersTestSetup) string { return "/containers/" + st.pve1.ID + "/101" }

// TestServiceLinksOnlyForWeb: SSH on port 22 is an ssh command, a database
// its address; only web ports are links, on the card and the services tab.
func TestServiceLinksOnlyForWeb(t *testing.T) {
	st := containersTestStart(t)
	svcs := []store.Service{
		{Name: "sshd", Status: "running", Ports: []int{22}},
		{Name: "mariadb", Status: "running", Ports: []int{3306}},
		{Name: "caddy", Status: "running", Ports: []int{443}},
		{Name: "grafana-server", Status: "running", Ports: []int{3000}},
		{Name: "ssh", Status: "running", Ports: []int{22}, System: true},
	}
	if _, err := st.s.DB.AppendEvent(context.Background(), store.Event{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 101, Type: store.EventServices,
		Data: map[string]string{store.ServicesDataKey: store.EncodeServices(svcs), store.ServicesIPKey: "10.0.0.7"}}); err != nil {
		t.Fatal(err)
	}
	// The page uses the address Proxmox reports now.
	ip := st.c.get("/containers/" + st.pve1.ID + "/101").Doc.Find(`[data-testid="runtime-ip"]`).Text()
	res := st.c.get("/containers/" + st.pve1.ID + "/101?tab=services")
	expectStatus(t, res, http.StatusOK)
	want := map[string][2]string{ // service → link, text
		"sshd":           {"", "ssh " + ip},
		"mariadb":        {"", ip + ":3306"},
		"caddy":          {"https://" + ip + ":443", ""},
		"grafana-server": {"http://" + ip + ":3000", ""},
		"ssh":            {"", "ssh " + ip},
	}
	for name, w := range want {
		row := res.Doc.Find(`[data-service="` + name + `"]`)
		link, _ := row.Find(`[data-testid="service-open"]`).Attr("href")
		text := row.Find(`[data-testid="service-address"]`).Text()
		if link != w[0] || text != w[1] {
			t.Errorf("%s: link %q text %q, want %q %q", name, link, text, w[0], w[1])
		}
	}
	if p := res.Doc.Find(`[data-testid="services-panel"] p.muted`).First().Text(); !strings.HasPrefix(p, "5 services") {
		t.Errorf("count %q", p)
	}
	res = st.c.get("/containers")
	var links []string
	res.Doc.Find(`[data-node="pve1"][data-vmid="101"] [data-testid="ct-services"] a[target]`).Each(func(_ int, s *goquery.Selection) {
		h, _ := s.Attr("href")
		links = append(links, h)
	})
	if strings.Join(links, " ") != "https://10.0.0.7:443" { // sshd, mariadb, caddy; grafana is "+1 more"
		t.Errorf("card links %q", links)
	}
}

// TestNodesCountAllContainers: the Containers column counts what Proxmox
// lists on the node, not only what Corral created.
func TestNodesCountAllContainers(t *testing.T) {
	st := containersTestStart(t)
	if _, err := st.s.DB.CreateContainer(context.Background(), store.Container{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 100,
		Hostname: "pihole", Lifecycle: store.LifecycleReady}); err != nil {
		t.Fatal(err)
	}
	res := st.c.get("/settings/nodes")
	cell := res.Doc.Find(`[data-node-id="` + st.pve1.ID + `"] [data-testid="node-containers"]`)
	if get, _ := cell.Attr("hx-get"); get != "/settings/nodes/"+st.pve1.ID+"/containers" {
		t.Fatalf("the cell does not load the count: %q", get)
	}
	for node, want := range map[string][2]string{st.pve1.ID: {"2", "1 made by Corral"}, st.pve2.ID: {"1", ""}, st.solo.ID: {"1", ""}} {
		res = st.c.get("/settings/nodes/"+node+"/containers", "HX-Request", "true")
		expectStatus(t, res, http.StatusOK)
		total := res.Doc.Find(`[data-testid="node-containers-total"]`).Text()
		corral := strings.TrimSpace(res.Doc.Find(`[data-testid="node-containers-corral"]`).Text())
		if total != want[0] || corral != want[1] {
			t.Errorf("node %s: %q containers, %q; want %q, %q", node, total, corral, want[0], want[1])
		}
	}
	if err := st.sim.Node("pve-solo").SetDown(true); err != nil {
		t.Fatal(err)
	}
	res = st.c.get("/settings/nodes/"+st.solo.ID+"/containers", "HX-Request", "true")
	if got := res.Doc.Find(`[data-testid="node-containers-total"]`).Text(); got != "—" {
		t.Errorf("a node that is down counts %q", got)
	}
	st.s.withUser(t, "bob", "battery staple")
	bob := st.s.client(t)
	bob.login("bob", "battery staple")
	expectStatus(t, bob.get("/settings/nodes/"+st.pve1.ID+"/containers"), http.StatusNotFound)
}
