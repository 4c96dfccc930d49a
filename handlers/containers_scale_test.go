package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/store"
)

// dashScale is the estate of issue 17: 50 nodes in five clusters of eight
// and ten standalone nodes, 5,000 guests.
var dashScale = pvesim.Scale{Clusters: 5, NodesPerCluster: 8, Standalone: 10, GuestsPerNode: 100}

// bobsNode is the one node of the estate registered by another account.
const bobsNode = "solo-pve10"

// scaleEstate is the dashboard over dashScale: alice registered every node
// but bobsNode, which is bob's.
type scaleEstate struct {
	sim    *pvesim.Sim
	opts   pvesim.Options
	db     *store.DB
	url    string
	nodes  map[string]store.Node // alice's, by name
	alice  *http.Client
	bob    *http.Client
	bobsID string
}

func startScaleEstate(tb testing.TB, read ...clusters.Option) *scaleEstate {
	tb.Helper()
	opts := dashScale.Options()
	opts.Dir = tb.TempDir()
	sim, err := pvesim.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sim.Close() })
	db, err := store.Open(filepath.Join(tb.TempDir(), "corral.db"), store.Options{Key: make([]byte, 32)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ctx := context.Background()
	alice, err := db.CreateUser(ctx, "alice", "correct horse")
	if err != nil {
		tb.Fatal(err)
	}
	bob, err := db.CreateUser(ctx, "bob", "battery staple")
	if err != nil {
		tb.Fatal(err)
	}
	es := &scaleEstate{sim: sim, opts: opts, db: db, nodes: map[string]store.Node{}}
	for _, name := range sim.Nodes() {
		owner := alice.ID
		if name == bobsNode {
			owner = bob.ID
		}
		n, err := db.CreateNode(ctx, containersBenchNode(tb, sim, owner, name))
		if err != nil {
			tb.Fatal(err)
		}
		if name == bobsNode {
			es.bobsID = n.ID
		} else {
			es.nodes[name] = n
		}
	}
	srv := benchServer(tb, db, read...)
	es.url = srv.URL
	es.alice = containersBenchLogin(tb, srv.URL)
	es.bob = containersLoginAs(tb, srv.URL, "bob", "battery staple")
	return es
}

// scaleCT is one container as the estate was built.
type scaleCT struct {
	node, name string
	vmid       int
	tags       []string
}

// alicesContainers lists alice's containers from the estate's own
// description, in the dashboard's default order (node, then VMID).
func (es *scaleEstate) alicesContainers() []scaleCT {
	var out []scaleCT
	for _, g := range es.opts.Guests {
		if g.Type == pvesim.QEMU || g.Template || g.Node == bobsNode {
			continue
		}
		var tags []string
		if g.Tags != "" {
			tags = strings.Split(g.Tags, ";")
		}
		out = append(out, scaleCT{node: g.Node, name: g.Name, vmid: g.VMID, tags: tags})
	}
	slices.SortFunc(out, func(a, b scaleCT) int {
		if c := strings.Compare(a.node, b.node); c != 0 {
			return c
		}
		return a.vmid - b.vmid
	})
	return out
}

// page fetches a dashboard URL as hc: the HTML and its document.
func (es *scaleEstate) page(tb testing.TB, hc *http.Client, path string) ([]byte, *goquery.Document) {
	tb.Helper()
	res, err := hc.Get(es.url + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	if strings.Contains(string(body), `data-testid="node-problem"`) {
		tb.Fatalf("GET %s: a node could not be read", path)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		tb.Fatal(err)
	}
	return body, doc
}

// shown lists the cards or rows of a page as node/vmid/name.
func shown(doc *goquery.Document) []scaleCT {
	var out []scaleCT
	doc.Find(`[data-testid="ct-card"], [data-testid="ct-row"]`).Each(func(_ int, s *goquery.Selection) {
		vmid, _ := strconv.Atoi(s.AttrOr("data-vmid", ""))
		out = append(out, scaleCT{node: s.AttrOr("data-node", ""), vmid: vmid, name: s.AttrOr("data-name", "")})
	})
	return out
}

func sameSlice(t *testing.T, what string, got, want []scaleCT) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d containers shown, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i].node != want[i].node || got[i].vmid != want[i].vmid || got[i].name != want[i].name {
			t.Fatalf("%s: #%d is %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

// TestDashboardAtScale: with 50 nodes and 5,000 guests the first page of
// either layout stays under 300 KB of HTML and shows the first 100
// containers; page 7 shows the 7th hundred; search by name, VMID and tag
// finds exactly what matches, never another account's containers; sorting
// orders the whole estate, not just a page.
func TestDashboardAtScale(t *testing.T) {
	// Reading 5,000 guests under -race on a busy machine can take longer
	// than a page's deadlines; this test is about what the page shows.
	es := startScaleEstate(t, clusters.WithDeadlines(time.Minute, time.Minute))
	all := es.alicesContainers()
	if len(all) < 4500 {
		t.Fatalf("the estate has only %d containers", len(all))
	}
	const maxPage = 300 << 10

	for _, view := range []string{"cards", "table"} {
		body, doc := es.page(t, es.alice, "/containers?view="+view)
		t.Logf("%s: page 1 is %d bytes of HTML for %d containers", view, len(body), len(all))
		if len(body) > maxPage {
			t.Errorf("%s: page 1 is %d bytes, over %d", view, len(body), maxPage)
		}
		if n := doc.Find(`form`).Length(); n > 4 {
			t.Errorf("%s: %d forms on the page; actions should share one", view, n)
		}
		sameSlice(t, view+" page 1", shown(doc), all[:100])
		if got := doc.Find(`[data-testid="stat-total"]`).Text(); got != strconv.Itoa(len(all)) {
			t.Errorf("%s: total %s, want %d", view, got, len(all))
		}
		want := "1–100 of " + strconv.Itoa(len(all))
		if got := doc.Find(`[data-testid="ct-pager-top"] [data-testid="ct-range"]`).Text(); got != want {
			t.Errorf("%s: range %q, want %q", view, got, want)
		}
		_, doc = es.page(t, es.alice, "/containers?page=7&view="+view)
		sameSlice(t, view+" page 7", shown(doc), all[600:700])
		next, _ := doc.Find(`[data-testid="page-next"]`).First().Attr("href")
		if want := "/containers?page=8"; !strings.HasPrefix(next, want) {
			t.Errorf("%s: next page link %q", view, next)
		}
	}
	// The remembered layout: the last request asked for the table.
	if _, doc := es.page(t, es.alice, "/containers"); doc.Find(`[data-testid="ct-table"]`).Length() != 1 {
		t.Error("the table layout was not remembered")
	}
	// A page past the end shows the last one.
	last := (len(all) + 99) / 100
	_, doc := es.page(t, es.alice, "/containers?page=9999")
	sameSlice(t, "past the end", shown(doc), all[(last-1)*100:])

	// Search.
	matches := func(q string) []scaleCT {
		var out []scaleCT
		for _, c := range all {
			hit := strings.Contains(strings.ToLower(c.name), q) || strings.HasPrefix(strconv.Itoa(c.vmid), q)
			for _, tag := range c.tags {
				hit = hit || strings.Contains(tag, q)
			}
			if hit {
				out = append(out, c)
			}
		}
		return out
	}
	for _, q := range []string{"vaultwarden-1", "security", "98", "mqtt"} {
		want := matches(q)
		if len(want) == 0 {
			t.Fatalf("search %q: nothing to find; pick another word", q)
		}
		_, doc := es.page(t, es.alice, "/containers?view=table&q="+url.QueryEscape(q))
		sameSlice(t, "search "+q, shown(doc), want[:min(len(want), 100)])
		if got, want := doc.Find(`[data-testid="ct-pager-top"] [data-testid="ct-range"]`).Text(), "1–"+strconv.Itoa(min(len(want), 100))+" of "+strconv.Itoa(len(want)); got != want {
			t.Errorf("search %q: range %q, want %q", q, got, want)
		}
		if got, want := doc.Find(`#ct-q`).AttrOr("value", ""), q; got != want {
			t.Errorf("search field shows %q, want %q", got, want)
		}
	}
	// Bob's standalone node holds "pihole-…" and others too: alice never
	// sees its containers, and bob sees only his.
	_, doc = es.page(t, es.alice, "/containers?view=table&q=0")
	doc.Find(`[data-testid="ct-row"]`).Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("data-node", "") == bobsNode {
			t.Fatalf("alice's search shows bob's container %s", s.AttrOr("data-name", ""))
		}
	})
	_, doc = es.page(t, es.bob, "/containers?view=table&q=pihole")
	for _, c := range shown(doc) {
		if c.node != bobsNode {
			t.Fatalf("bob's search shows alice's %+v", c)
		}
	}
	if _, doc = es.page(t, es.bob, "/containers?view=table&node="+url.QueryEscape(es.nodes["homelab-pve01"].ID)); len(shown(doc)) != 0 {
		t.Fatal("bob filters by alice's node and sees its containers")
	}

	// Sort: the first page of a sort is the head of the whole estate.
	byName := slices.Clone(all)
	slices.SortStableFunc(byName, func(a, b scaleCT) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	_, doc = es.page(t, es.alice, "/containers?view=table&sort=name")
	sameSlice(t, "by name", shown(doc), byName[:100])
	_, doc = es.page(t, es.alice, "/containers?view=table&sort=vmid&dir=desc&page=2")
	got := shown(doc)
	for i := 1; i < len(got); i++ {
		if got[i].vmid > got[i-1].vmid {
			t.Fatalf("by VMID descending: %d after %d", got[i].vmid, got[i-1].vmid)
		}
	}
	maxVMID := slices.MaxFunc(all, func(a, b scaleCT) int { return a.vmid - b.vmid }).vmid
	if len(got) != 100 || got[0].vmid >= maxVMID {
		t.Fatalf("page 2 by VMID descending starts at %d (max %d), %d rows", got[0].vmid, maxVMID, len(got))
	}
	for _, key := range []string{"cpu", "mem"} {
		_, doc = es.page(t, es.alice, "/containers?view=table&sort="+key+"&dir=desc")
		col := map[string]int{"cpu": 4, "mem": 5}[key]
		var prev float64 = 1e18
		doc.Find(`[data-testid="ct-row"]`).Each(func(i int, s *goquery.Selection) {
			v := usageValue(s.Find("td").Eq(col).Text())
			if v > prev {
				t.Fatalf("by %s descending: row %d has %v after %v", key, i, v, prev)
			}
			prev = v
		})
		if prev <= 0 {
			t.Fatalf("by %s descending: page 1 ends at %v; the busiest are running", key, prev)
		}
	}
	_, doc = es.page(t, es.alice, "/containers?view=table&sort=status")
	for _, c := range doc.Find(`[data-testid="ct-row"] [data-testid="ct-status"]`).Map(func(_ int, s *goquery.Selection) string { return s.Text() }) {
		if c != "running" {
			t.Fatalf("by status: %s among the first hundred (running sorts before stopped)", c)
		}
	}
}

// usageValue reads "12%" or "256.0 MiB / 1.0 GiB" as a number that sorts
// the same way; "—" is zero.
func usageValue(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "—" || s == "–" || s == "" {
		return 0
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, _ := strconv.ParseFloat(p, 64)
		return v
	}
	used, _, _ := strings.Cut(s, " / ")
	num, unit, _ := strings.Cut(used, " ")
	v, _ := strconv.ParseFloat(num, 64)
	mult := map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[unit]
	return v * mult
}

// TestDashboardSearchAddressAndLinks: an address finds the container whose
// last discovery reported it (bob's search does not); the refresh asks for
// exactly the page shown; card actions are plain links to confirmation
// pages and a Start button on the page's one form, so they work without
// JavaScript.
func TestDashboardSearchAddressAndLinks(t *testing.T) {
	st := containersTestStart(t)
	ctx := context.Background()
	svcs := []store.Service{{Name: "mosquitto", Status: "running", Ports: []int{1883}}}
	if _, err := st.s.DB.AppendEvent(ctx, store.Event{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 101, Type: store.EventServices,
		Data: map[string]string{store.ServicesDataKey: store.EncodeServices(svcs), store.ServicesIPKey: "10.0.0.42"}}); err != nil {
		t.Fatal(err)
	}
	names := func(res *response) []string {
		return res.Doc.Find(`[data-testid="ct-row"]`).Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("data-name", "") })
	}
	res := st.c.get("/containers?view=table&q=10.0.0.4")
	expectStatus(t, res, http.StatusOK)
	if got := names(res); !slices.Equal(got, []string{"mqtt"}) {
		t.Fatalf("search by address: %q", got)
	}
	if got := names(st.c.get("/containers?view=table&q=10.0.0.5")); len(got) != 0 {
		t.Fatalf("search by another address: %q", got)
	}
	grid := res.Doc.Find(`#ct-grid`)
	if got, want := grid.AttrOr("hx-get", ""), "/containers?q=10.0.0.4&view=table"; got != want {
		t.Fatalf("the refresh asks for %q, want %q", got, want)
	}
	st.s.withUser(t, "bob", "battery staple")
	bob := st.s.client(t)
	bob.login("bob", "battery staple")
	if res := bob.get("/containers?view=table&q=10.0.0.4"); res.Doc.Find(`[data-testid="ct-row"]`).Length() != 0 {
		t.Fatal("bob's search finds alice's container")
	}

	// Without JavaScript: Stop is a link to its confirmation page, Start a
	// button that posts the page's one form.
	res = st.c.get("/containers?view=cards")
	card := res.Doc.Find(`[data-node="pve1"][data-vmid="101"]`)
	if card.Find(`form`).Length() != 0 {
		t.Fatal("a card still holds a form")
	}
	href := card.Find(`[data-testid="action-stop"]`).AttrOr("href", "")
	if want := "/containers/" + st.pve1.ID + "/101/stop?from=card"; href != want {
		t.Fatalf("Stop links to %q, want %q", href, want)
	}
	if res := st.c.get(href); res.Doc.Find(`[data-testid="confirm-page"], form[action$="/101/stop"]`).Length() == 0 {
		t.Fatalf("the Stop link opens no confirmation:\n%s", res.Body)
	}
	stopped := res.Doc.Find(`[data-node="pve2"][data-vmid="102"] [data-testid="action-start"]`)
	form := res.Doc.Find(`form#` + stopped.AttrOr("form", "none"))
	if form.Length() != 1 || stopped.AttrOr("formaction", "") != "/containers/"+st.pve2.ID+"/102/start" || form.Find(`input[name="_csrf"]`).Length() != 1 {
		t.Fatal("Start does not post the page's action form with a token")
	}
	res = st.c.post(stopped.AttrOr("formaction", ""), url.Values{"from": {form.Find(`input[name="from"]`).AttrOr("value", "")}})
	expectStatus(t, res, http.StatusSeeOther)
	if s, _ := st.sim.Node("pve2").GuestStatus(102); s != "running" {
		t.Fatalf("Proxmox says %s after Start without JavaScript", s)
	}
}
