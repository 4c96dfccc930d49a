package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/handlers/formtest"
)

// listState is a dashboard URL with a search, a sort, a page and the
// table, as ListQuery.URL writes it.
const listState = "/containers?dir=desc&page=2&q=m&sort=name&view=table"

// startValues is what the page's one action form posts for the Start
// button of the container item, and where.
func startValues(t *testing.T, doc *goquery.Document, item *goquery.Selection) (string, url.Values) {
	t.Helper()
	b := item.Find(`[data-testid="action-start"]`)
	action, ok := b.Attr("formaction")
	if !ok {
		t.Fatal("no Start button")
	}
	return action, formtest.Values(doc.Find(`#ct-action`))
}

// TestDashboardActionsKeepListState: without JavaScript an action started
// from a row goes through its confirmation page (or the page's one form,
// for Start) and its 303 comes back to the same search, sort, page and
// layout; so does the confirmation page's Cancel. A return value that is not
// the list is refused, back to plain /containers.
func TestDashboardActionsKeepListState(t *testing.T) {
	st := containersTestStart(t)
	base := mqttPath(st)
	res := st.c.get(listState)
	expectStatus(t, res, http.StatusOK)
	row := res.Doc.Find(`[data-testid="ct-row"][data-node="pve1"][data-vmid="101"]`)
	if row.Length() != 1 {
		t.Fatalf("mqtt is not in the table of %s:\n%s", listState, res.Body)
	}
	stop, _ := row.Find(`[data-testid="action-stop"]`).Attr("href")
	want := base + "/stop?" + url.Values{"from": {"row"}, "return": {listState}}.Encode()
	if stop != want {
		t.Fatalf("stop link %q, want %q", stop, want)
	}

	// Stop: the confirmation page, its Cancel, then its form.
	res = st.c.get(stop)
	expectStatus(t, res, http.StatusOK)
	if cancel, _ := res.Doc.Find(`[data-testid="confirm-page-cancel"]`).Attr("href"); cancel != listState {
		t.Errorf("Cancel goes to %q, want %q", cancel, listState)
	}
	res = st.c.postForm(res.Doc.Find(`[data-testid="confirm-page"]`), "")
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != listState {
		t.Errorf("after Stop: 303 to %q, want %q", loc, listState)
	}
	if s, _ := st.sim.Node("pve1").GuestStatus(101); s != "stopped" {
		t.Fatalf("Proxmox says %s after Stop", s)
	}

	// Start: the page's one form, posted to the button's formaction.
	res = st.c.get(listState)
	action, form := startValues(t, res.Doc, res.Doc.Find(`[data-testid="ct-row"][data-node="pve1"][data-vmid="101"]`))
	if form.Get("return") != listState || form.Get("from") != "row" {
		t.Fatalf("the action form sends %v", form)
	}
	res = st.c.post(action, form)
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != listState {
		t.Errorf("after Start: 303 to %q, want %q", loc, listState)
	}
	if s, _ := st.sim.Node("pve1").GuestStatus(101); s != "running" {
		t.Fatalf("Proxmox says %s after Start", s)
	}

	// Delete: a wrong VMID is asked again on a page that still knows the
	// way back; the right one goes back there.
	res = st.c.get(listState)
	del, _ := res.Doc.Find(`[data-testid="ct-row"][data-node="pve1"][data-vmid="101"] [data-testid="action-delete"]`).Attr("href")
	form = formtest.Values(st.c.get(del).Doc.Find(`[data-testid="confirm-page"]`))
	form.Set("confirm_vmid", "110")
	res = st.c.post(base+"/delete", form)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if cancel, _ := res.Doc.Find(`[data-testid="confirm-page-cancel"]`).Attr("href"); cancel != listState {
		t.Errorf("Cancel after a wrong VMID goes to %q", cancel)
	}
	form = formtest.Values(res.Doc.Find(`[data-testid="confirm-page"]`))
	form.Set("confirm_vmid", "101")
	res = st.c.post(base+"/delete", form)
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != listState {
		t.Errorf("after Delete: 303 to %q, want %q", loc, listState)
	}
	if _, ok := st.sim.Node("pve1").GuestStatus(101); ok {
		t.Fatal("not deleted")
	}
}

// TestDashboardActionReturnRefused: a return value that is not the
// dashboard list (another site, another path, backslash tricks) sends the
// 303 and the Cancel link to plain /containers.
func TestDashboardActionReturnRefused(t *testing.T) {
	st := containersTestStart(t)
	base := mqttPath(st)
	hostile := []string{"https://evil.example/", "//evil.example", "/\\evil", "/\\/evil.example",
		"/account", "/containers/../account", "/containers/" + st.pve1.ID + "/101", "javascript:alert(1)"}
	for _, ret := range hostile {
		res := st.c.get(base + "/reboot?" + url.Values{"from": {"card"}, "return": {ret}}.Encode())
		expectStatus(t, res, http.StatusOK)
		if cancel, _ := res.Doc.Find(`[data-testid="confirm-page-cancel"]`).Attr("href"); cancel != "/containers" {
			t.Errorf("return %q: Cancel goes to %q", ret, cancel)
		}
		if n := res.Doc.Find(`input[name="return"]`).Length(); n != 0 {
			t.Errorf("return %q: the confirmation page carries it on", ret)
		}
	}
	// Each action redirects; they alternate so each one runs.
	for i, ret := range hostile {
		action := "stop"
		if i%2 == 1 {
			action = "start"
		}
		res := st.c.post(base+"/"+action, url.Values{"from": {"card"}, "return": {ret}})
		expectStatus(t, res, http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/containers" {
			t.Errorf("%s with return %q: 303 to %q", action, ret, loc)
		}
	}
}

// TestDashboardActionSwapsItemAsListed: after an htmx action the card or
// row swapped back in is byte for byte what the list shows for the
// container in the same state: its tags, its member to add, and actions
// that come back to the same list state.
func TestDashboardActionSwapsItemAsListed(t *testing.T) {
	st := containersTestStart(t)
	pihole := `[data-node="pve1"][data-vmid="100"]`
	jellyfin := `[data-node="pve3"][data-vmid="103"]` // on a member alice did not add
	for _, tc := range []struct {
		list, item, tags, from string
	}{
		{"/containers?q=pihole&view=cards", `[data-testid="ct-card"]` + pihole, "dns · infra", "card"},
		{"/containers?q=i&sort=name&view=table", `[data-testid="ct-row"]` + pihole, "dns, infra", "row"},
		{"/containers?view=cards", `[data-testid="ct-card"]` + jellyfin, "media", "card"},
		{"/containers?sort=vmid&dir=desc&view=table", `[data-testid="ct-row"]` + jellyfin, "media", "row"},
	} {
		item := st.c.get(tc.list).Doc.Find(tc.item)
		stop, _ := item.Find(`[data-testid="action-stop"]`).Attr("href")
		u, err := url.Parse(stop)
		if err != nil || stop == "" {
			t.Fatalf("%s: stop link %q", tc.list, stop)
		}
		res := st.c.post(u.Path, u.Query(), "HX-Request", "true")
		expectStatus(t, res, http.StatusOK)
		swapped := strings.TrimSpace(res.Body)
		if !strings.Contains(swapped, tc.tags) {
			t.Errorf("%s: the swapped %s has no tags %q:\n%s", tc.list, tc.from, tc.tags, swapped)
		}
		listed := st.c.get(tc.list)
		if !strings.Contains(listed.Body, swapped) {
			t.Errorf("%s: the swapped %s is not what the list shows.\nswapped:\n%s\nlisted:\n%s", tc.list, tc.from, swapped, outerHTML(listed.Doc.Find(tc.item)))
		}
		start, _ := listed.Doc.Find(tc.item + ` [data-testid="action-start"]`).Attr("formaction")
		res = st.c.post(start, formtest.Values(listed.Doc.Find(`#ct-action`)), "HX-Request", "true")
		expectStatus(t, res, http.StatusOK)
		if !strings.Contains(res.Body, tc.tags) {
			t.Errorf("%s: the %s swapped in after Start has no tags %q", tc.list, tc.from, tc.tags)
		}
		again, _ := goquery.NewDocumentFromReader(strings.NewReader("<table>" + res.Body + "</table>"))
		if href, _ := again.Find(`[data-testid="action-stop"]`).Attr("href"); href != stop {
			t.Errorf("%s: after Start the swapped stop link is %q, want %q", tc.list, href, stop)
		}
	}
}

func outerHTML(s *goquery.Selection) string {
	h, _ := goquery.OuterHtml(s)
	return h
}

// TestDashboardActionRefusedKeepsListState: without JavaScript, an action
// Proxmox's state refuses (Start on a running container) answers with an
// error page whose way back is the list the person acted from; a return
// value that is not the list leads to plain /containers.
func TestDashboardActionRefusedKeepsListState(t *testing.T) {
	st := containersTestStart(t)
	if s, _ := st.sim.Node("pve1").GuestStatus(101); s != "running" {
		t.Fatalf("mqtt is %s, want running", s)
	}
	// The list's one action form, posted as the Start button of a row
	// would post it (someone else started mqtt meanwhile).
	res := st.c.get(listState)
	form := formtest.Values(res.Doc.Find(`#ct-action`))
	form.Set("from", "row")
	action := mqttPath(st) + "/start"
	for ret, want := range map[string]string{listState: listState, "https://evil.example/": "/containers"} {
		form.Set("return", ret)
		res = st.c.post(action, form)
		expectStatus(t, res, http.StatusConflict)
		if back, _ := res.Doc.Find(`[data-testid="error-back"]`).Attr("href"); back != want {
			t.Errorf("return %q: the error page leads back to %q, want %q", ret, back, want)
		}
	}
	res = st.c.get(mqttPath(st) + "/nope")
	if res.Doc.Find(`[data-testid="error-back"]`).Length() != 0 {
		t.Error("an error page without a return value offers the list")
	}
}
