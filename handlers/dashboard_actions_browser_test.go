package handlers_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
)

// watchSwaps records, for each table row or card inserted into the page
// from now on, its tags and its action links: the first one recorded after
// an action is the item the action swapped in, before the grid's refresh
// that follows replaces it.
const watchSwaps = `window.__swapped = [];
new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach((n) => {
	if (n.nodeType !== 1 || !n.matches('[data-testid="ct-row"], [data-testid="ct-card"]')) return;
	window.__swapped.push({
		id: n.id,
		tags: (n.querySelector('td[data-label="Tags"], [data-testid="ct-tags"]') || {}).textContent || "",
		links: Array.from(n.querySelectorAll("a[data-act]")).map((a) => a.getAttribute("href")),
	});
}))).observe(document.body, {childList: true, subtree: true}); true`

type swappedItem struct {
	ID    string   `json:"id"`
	Tags  string   `json:"tags"`
	Links []string `json:"links"`
}

// TestBrowserDashboardRowActionKeepsListState stops and starts a container
// from a searched, sorted table row with JavaScript: the URL stays, and the
// row swapped in shows its tags and actions that still know the list state.
func TestBrowserDashboardRowActionKeepsListState(t *testing.T) {
	d := startDashBrowser(t)
	b := d.b
	const list = "/containers?q=infra&sort=name&view=table"
	pihole := rowSel("pve1", 100)
	b.Run(
		chromedp.Navigate(d.s.URL+list),
		browsertest.Ready(pihole+` [data-testid="action-stop"]`),
	)
	browsertest.Get(b, chromedp.Evaluate[bool](watchSwaps))
	wantReturn := "return=" + url.QueryEscape(list)

	check := func(action string) {
		t.Helper()
		var got []swappedItem
		b.WaitTrue(`window.__swapped.length > 0`)
		got = browsertest.Get(b, chromedp.Evaluate[[]swappedItem](`window.__swapped`))
		first := got[0]
		if first.Tags != "dns, infra" {
			t.Errorf("after %s the swapped row shows tags %q", action, first.Tags)
		}
		if len(first.Links) == 0 {
			t.Fatalf("after %s the swapped row has no action links", action)
		}
		for _, href := range first.Links {
			if !strings.Contains(href, wantReturn) {
				t.Errorf("after %s the swapped row links %q, without %s", action, href, wantReturn)
			}
		}
		if loc := browsertest.Get(b, chromedp.Location()); loc != d.s.URL+list {
			t.Errorf("after %s the page is %s", action, loc)
		}
		browsertest.Get(b, chromedp.Evaluate[bool](`window.__swapped = []; true`))
	}

	b.Run(
		browsertest.Click(pihole+` [data-testid="action-stop"]`),
		browsertest.Ready(`#confirm-dialog [data-testid="confirm-ok"]`),
		browsertest.Click(`#confirm-dialog [data-testid="confirm-ok"]`),
	)
	b.WaitTrue(`document.querySelector('` + pihole + ` [data-testid="ct-status"]')?.textContent === "stopped"`)
	check("Stop")
	if s, _ := d.sim.Node("pve1").GuestStatus(100); s != "stopped" {
		t.Fatalf("Proxmox says %s after Stop", s)
	}

	b.Run(browsertest.Click(pihole + ` [data-testid="action-start"]`))
	b.WaitTrue(`document.querySelector('` + pihole + ` [data-testid="ct-status"]')?.textContent === "running"`)
	check("Start")
	d.noCSPViolations(t)
}
