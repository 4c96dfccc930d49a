package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"corral/handlers"
	"corral/handlers/browsertest"
)

// TestBrowserContainers filters the dashboard by node, stops and starts a
// container from its card (through the confirmation dialog), opens its
// page, discovers its services, reveals a credential and reads a log.
func TestBrowserContainers(t *testing.T) {
	// No 10 s poll replacing a card under a click on a busy machine.
	s := newTestServer(t, func(d *handlers.Deps) { d.DashboardRefresh = time.Hour })
	sim := startSim(t)
	u := s.withUser(t, "alice", "correct horse")
	st := &containersTestSetup{s: s, sim: sim, alice: u,
		pve1: s.addSimNode(t, sim, u.ID, "pve1", "pve1"),
		pve2: s.addSimNode(t, sim, u.ID, "pve2", "pve2"),
		solo: s.addSimNode(t, sim, u.ID, "pve-solo", "solo"),
	}
	detailTestInstall(t, st, "pve1", 101)

	card := `[data-node="pve1"][data-vmid="101"]`
	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-containers"]`),
		chromedp.Navigate(s.URL+"/containers"),
		chromedp.WaitVisible(`[data-testid="ct-grid"]`),
	)
	b.Screenshot("dashboard")
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="ct-card"]').length`)); n != 5 { // pve3's CT 103 too: alice's cluster
		t.Fatalf("%d cards on the dashboard", n)
	}

	b.Run(
		browsertest.Click(`[data-testid="filter-node-pve1"]`),
		chromedp.WaitVisible(`[data-testid="filter-node-pve1"].btn-primary`),
	)
	// The click navigated: wait for app.js, which turns Stop into the dialog.
	b.WaitTrue(`document.readyState === "complete"`)
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="ct-card"]').length`)); n != 2 {
		t.Fatalf("%d cards for pve1", n)
	}
	if loc := browsertest.Get(b, chromedp.Location()); !strings.Contains(loc, "node="+st.pve1.ID) {
		t.Fatalf("filter not in the URL: %s", loc)
	}

	// Stop asks first, in the page's dialog; the card swaps to stopped.
	b.Run(
		browsertest.Click(card+` [data-testid="action-stop"]`),
		chromedp.WaitVisible(`#confirm-dialog [data-testid="confirm-ok"]`),
	)
	b.Screenshot("confirm-stop")
	b.Run(browsertest.Click(`#confirm-dialog [data-testid="confirm-ok"]`))
	b.WaitTrue(`document.querySelector('` + card + ` [data-testid="ct-status"]')?.textContent === "stopped"`)
	b.Screenshot("stopped")
	if s, _ := sim.Node("pve1").GuestStatus(101); s != "stopped" {
		t.Fatalf("Proxmox says %s after stop", s)
	}
	b.Run(browsertest.Click(card + ` [data-testid="action-start"]`))
	b.WaitTrue(`document.querySelector('` + card + ` [data-testid="ct-status"]')?.textContent === "running"`)

	// The detail page: overview, then services.
	b.Run(
		browsertest.Click(card+` [data-testid="ct-name"]`),
		chromedp.WaitVisible(`[data-testid="detail-header"]`),
		chromedp.WaitVisible(`[data-testid="chart-svg"]`),
	)
	b.Screenshot("detail-overview")
	b.Run(
		browsertest.Click(`[data-testid="tab-services"]`),
		chromedp.WaitVisible(`[data-testid="services-refresh"]`),
		browsertest.Click(`[data-testid="services-refresh"]`),
		chromedp.WaitVisible(`[data-service="nginx"]`),
		browsertest.Click(`[data-service="nginx"] [data-testid="reveal-credentials"]`),
		chromedp.WaitVisible(`[data-service="nginx"] [data-testid="credential-value"]`),
		browsertest.Click(`[data-service="nginx"] [data-testid="show-logs"]`),
		chromedp.WaitVisible(`[data-service="nginx"] [data-testid="service-logs"]`),
	)
	b.Screenshot("services")
	if creds := browsertest.Get(b, chromedp.Text(`[data-service="nginx"] [data-testid="credentials"]`)); !strings.Contains(creds, "hunter2") {
		t.Fatalf("revealed %q", creds)
	}
	if logs := browsertest.Get(b, chromedp.Text(`[data-service="nginx"] [data-testid="service-logs"]`)); !strings.Contains(logs, "nginx") {
		t.Fatalf("logs %q", logs)
	}
}
