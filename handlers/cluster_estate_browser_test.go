package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"corral/handlers"
	"corral/handlers/browsertest"
)

// TestClusterEstate_Browser (issue 20): with only pve1 added, the
// dashboard shows pve3's container with a one-click add; the click shows
// pve3's keys, trusting them adds it. The nodes page then groups the
// cluster, offers the last member, and adds it the same way.
func TestClusterEstate_Browser(t *testing.T) {
	e := nodesSetup(t, func(d *handlers.Deps) { d.DashboardRefresh = time.Hour })
	c, u := e.nodesLogin(t, "alice")
	e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "pve1"))

	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "password alice"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-containers"]`),
		chromedp.Navigate(e.URL+"/containers"),
		chromedp.WaitVisible(`[data-testid="ct-grid"]`),
	)
	b.Screenshot("dashboard-one-node")
	card := `[data-node="pve3"][data-vmid="103"]`
	if got := browsertest.Get(b, chromedp.Text(card+` [data-testid="add-member-button"]`)); got != "Add pve3 to open shells here" {
		t.Fatalf("pve3's card offers %q", got)
	}
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="ct-card"]').length`)); n != 4 {
		t.Fatalf("%d cards, want every container of the cluster", n)
	}

	b.Run(
		browsertest.Click(card+` [data-testid="add-member-button"]`),
		chromedp.WaitVisible(`[data-testid="members-confirm"]`),
	)
	b.Screenshot("members-confirm")
	if got := browsertest.Get(b, chromedp.Text(`[data-member="pve3"] [data-testid="tls-fingerprint"]`)); strings.TrimSpace(got) != e.sim.Node("pve3").Fingerprint() {
		t.Fatalf("pve3's certificate shown as %q", got)
	}
	if html := browsertest.Get(b, chromedp.OuterHTML(`html`)); strings.Contains(html, nodesTokenSecret) || strings.Contains(html, nodesRootPassword) {
		t.Fatal("a secret is in the confirm page")
	}
	b.Run(
		browsertest.Click(`[data-testid="node-confirm-submit"]`),
		chromedp.WaitVisible(`[data-testid="flash"]`),
		chromedp.WaitVisible(`[data-testid="members-form"]`),
	)
	b.Screenshot("nodes-grouped")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="flash"]`)); !strings.Contains(got, "Added pve3 of cluster homelab") {
		t.Fatalf("flash %q", got)
	}
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="group-members"]`)); got != "3 members, 2 added" {
		t.Fatalf("cluster heading %q", got)
	}

	b.Run(
		browsertest.Click(`[data-testid="members-add"]`),
		chromedp.WaitVisible(`[data-testid="members-confirm"]`),
		browsertest.Click(`[data-testid="node-confirm-submit"]`),
		chromedp.WaitVisible(`[data-testid="flash"]`),
	)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="group-members"]`)); got != "3 members, 3 added" {
		t.Fatalf("cluster heading after adding pve2: %q", got)
	}
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="members-form"]').length`)); n != 0 {
		t.Fatal("the members form is still offered with every member added")
	}
	if nodes := nodesOf(t, e.testServer, u.ID); len(nodes) != 3 {
		t.Fatalf("%d nodes stored", len(nodes))
	}
}
