package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
)

func rowSel(node string, vmid int) string {
	return strings.Replace(cardSel(node, vmid), `"ct-card"`, `"ct-row"`, 1)
}

// rowNames is the table's names, top to bottom, as JavaScript.
const rowNames = `Array.from(document.querySelectorAll('[data-testid="ct-row"]')).map(r => r.dataset.name).join(",")`

// TestBrowserDashboardTableSearchSort switches to the table (remembered on
// the next visit), searches by tag, sorts by name both ways, lets a refresh
// come with a half-typed search and keeps search, sort and layout across
// it, then starts and stops a container from its row through the page's
// one form and one dialog.
func TestBrowserDashboardTableSearchSort(t *testing.T) {
	d := startDashBrowser(t)
	b := d.b
	b.Run(
		chromedp.Navigate(d.s.URL+"/containers"),
		chromedp.WaitVisible(`[data-testid="ct-grid"]`),
		browsertest.Click(`[data-testid="view-table"]`),
		chromedp.WaitVisible(`[data-testid="ct-table"]`),
		chromedp.Navigate(d.s.URL+"/containers"),
		chromedp.WaitVisible(`[data-testid="ct-table"]`),
	)

	// Search by tag: only pihole is tagged infra.
	b.Run(
		browsertest.SendKeys(`#ct-q`, "infra"),
		browsertest.Click(`[data-testid="ct-search-go"]`),
	)
	b.WaitTrue(rowNames + ` === "pihole"`)
	if loc := browsertest.Get(b, chromedp.Location()); !strings.Contains(loc, "q=infra") || !strings.Contains(loc, "view=table") {
		t.Fatalf("search not in the URL: %s", loc)
	}

	// Sort by name, then the other way.
	b.Run(browsertest.Click(`[data-testid="ct-search-clear"]`))
	b.WaitTrue(`document.querySelectorAll('[data-testid="ct-row"]').length === 5`)
	b.Run(browsertest.Click(`[data-testid="th-name"]`))
	b.WaitTrue(rowNames + ` === "backup,jellyfin,mqtt,nextcloud,pihole"`)
	b.Run(browsertest.Click(`[data-testid="th-name"]`))
	b.WaitTrue(rowNames + ` === "pihole,nextcloud,mqtt,jellyfin,backup"`)
	b.Screenshot("table-by-name-desc")

	// A refresh while the user types a search: the field keeps the text,
	// the table keeps its sort and shows the change made in Proxmox.
	b.Run(browsertest.SendKeys(`#ct-q`, "pih"))
	setGuest(t, d.pve1, 101, false)
	browsertest.Get(b, chromedp.Evaluate[string](markGrid))
	triggerRefresh(b)
	mqtt := rowSel("pve1", 101)
	b.WaitTrue(gridReplaced() + ` && document.querySelector('` + mqtt + ` [data-testid="ct-status"]')?.textContent === "stopped"`)
	if got := browsertest.Get(b, chromedp.Evaluate[string](rowNames)); got != "pihole,nextcloud,mqtt,jellyfin,backup" {
		t.Fatalf("after the refresh the table shows %s", got)
	}
	if got := browsertest.Get(b, chromedp.Evaluate[string](`document.getElementById("ct-q").value`)); got != "pih" {
		t.Fatalf("the refresh changed the search field to %q", got)
	}

	// Start from the row (the page's one form), then Stop (its one dialog).
	b.Run(browsertest.Click(mqtt + ` [data-testid="action-start"]`))
	b.WaitTrue(`document.querySelector('` + mqtt + ` [data-testid="ct-status"]')?.textContent === "running"`)
	b.Run(
		browsertest.Click(mqtt+` [data-testid="action-stop"]`),
		chromedp.WaitVisible(`#confirm-dialog [data-testid="confirm-ok"]`),
	)
	if title := browsertest.Get(b, chromedp.Text(`#confirm-title`)); title != "Stop mqtt?" {
		t.Fatalf("dialog title %q", title)
	}
	if text := browsertest.Get(b, chromedp.Text(`#confirm-dialog [data-confirm-text]`)); !strings.Contains(text, "mqtt (CT 101)") {
		t.Fatalf("dialog text %q", text)
	}
	b.Run(browsertest.Click(`#confirm-dialog [data-testid="confirm-ok"]`))
	b.WaitTrue(`document.querySelector('` + mqtt + ` [data-testid="ct-status"]')?.textContent === "stopped"`)
	if s, _ := d.sim.Node("pve1").GuestStatus(101); s != "stopped" {
		t.Fatalf("Proxmox says %s after stop", s)
	}
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="ct-row"]').length`)); n != 5 {
		t.Fatalf("%d rows after the actions", n)
	}
	d.noCSPViolations(t)

	for _, scheme := range []string{"light", "dark"} {
		b.Run(colorScheme(scheme))
		for _, width := range []int64{1280, 390} {
			b.SetViewport(width, 900)
			for _, view := range []string{"table", "cards"} {
				b.Run(chromedp.Navigate(d.s.URL+"/containers?view="+view), chromedp.WaitVisible(`[data-testid="ct-grid"]`))
				fitsWidth(t, b, "dashboard "+view, width)
				b.Screenshot(strings.Join([]string{"dashboard", view, scheme, map[int64]string{1280: "desktop", 390: "phone"}[width]}, "-"))
			}
		}
	}
}
