package handlers_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"corral/handlers"
	"corral/handlers/browsertest"
	"corral/proxmox"
	"corral/store"
)

// dashBrowser is alice's estate (pve1, pve2, solo) in a browser that
// records every CSP violation from the first byte of every page.
type dashBrowser struct {
	*containersTestSetup
	b *browsertest.Browser
}

func startDashBrowser(t *testing.T, opts ...testDeps) *dashBrowser {
	t.Helper()
	// The 10 s poll would race the test's own steps on a busy machine: the
	// test triggers every refresh itself.
	st := containersTestStart(t, append([]testDeps{func(d *handlers.Deps) { d.DashboardRefresh = time.Hour }}, opts...)...)
	s := st.s
	b := browsertest.New(t)
	b.Run(
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
				window.__csp = [];
				document.addEventListener("securitypolicyviolation", function (e) {
					window.__csp.push(e.violatedDirective + " " + e.blockedURI + " at " + e.sourceFile + ":" + e.lineNumber);
				});`})
			return err
		}),
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-containers"]`),
	)
	return &dashBrowser{containersTestSetup: st, b: b}
}

// noCSPViolations fails the test if the page broke its own policy.
func (d *dashBrowser) noCSPViolations(t *testing.T) {
	t.Helper()
	if got := browsertest.Get(d.b, chromedp.Evaluate[[]string](`window.__csp || []`)); len(got) > 0 {
		t.Fatalf("CSP violations: %q", got)
	}
}

// setGuest starts or stops a guest behind Corral's back, through the
// Proxmox API, as someone in the Proxmox UI would.
func setGuest(t *testing.T, n store.Node, vmid int, running bool) {
	t.Helper()
	c, err := proxmox.New(proxmox.Config{Host: n.Host, Port: n.Port, TokenID: n.TokenID, TokenSecret: n.TokenSecret, Fingerprint: n.TLSFingerprint})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := t.Context()
	do := c.Stop
	if running {
		do = c.Start
	}
	upid, err := do(ctx, n.PVENodeName, vmid)
	if err == nil {
		err = c.WaitTask(ctx, n.PVENodeName, upid, nil)
	}
	if err != nil {
		t.Fatalf("set CT %d running=%v: %v", vmid, running, err)
	}
}

func cardSel(node string, vmid int) string {
	return `[data-testid="ct-card"][data-node="` + node + `"][data-vmid="` + strconv.Itoa(vmid) + `"]`
}

// markGrid tags the grid element, so a test can tell whether a refresh
// replaced it.
const markGrid = `document.getElementById("ct-grid").dataset.old = "1"`

// triggerRefresh sends what the 10 s poll sends, without waiting 10 s, once
// htmx has wired the grid: a grid just swapped in is not listening yet, and
// the event would be lost.
func triggerRefresh(b *browsertest.Browser) {
	b.Run(browsertest.Ready("#ct-grid"))
	browsertest.Get(b, chromedp.Evaluate[bool](`htmx.trigger("#ct-grid", "corral:refresh"), true`))
}

func gridReplaced() string { return `!document.getElementById("ct-grid").dataset.old` }

func cardStatusIs(node string, vmid int, status string) string {
	return `document.querySelector('` + cardSel(node, vmid) + ` [data-testid="ct-status"]')?.textContent === "` + status + `"`
}

// TestBrowserDashboardRefreshKeepsDelete opens the Delete dialog, types
// part of the VMID and lets a refresh come: the dialog, the typed digits
// and the card stay; the wrong VMID is refused as typed; the right one
// deletes with this one confirmation; then the refresh resumes.
func TestBrowserDashboardRefreshKeepsDelete(t *testing.T) {
	d := startDashBrowser(t)
	b := d.b
	b.Run(chromedp.Navigate(d.s.URL+"/containers"), chromedp.WaitVisible(`[data-testid="ct-grid"]`))

	// The refresh works: a change made in Proxmox shows up.
	setGuest(t, d.pve1, 100, false)
	browsertest.Get(b, chromedp.Evaluate[string](markGrid))
	triggerRefresh(b)
	b.WaitTrue(gridReplaced() + ` && ` + cardStatusIs("pve1", 100, "stopped"))

	// Open Delete on mqtt and start typing.
	mqtt := cardSel("pve1", 101)
	b.Run(
		browsertest.Click(mqtt+` [data-testid="action-delete"]`),
		chromedp.WaitVisible(`#confirm-dialog [data-testid="confirm-vmid"]`),
		browsertest.SendKeys(`#confirm-vmid`, "10"),
	)
	if ok := browsertest.Get(b, chromedp.Text(`#confirm-dialog [data-testid="confirm-ok"]`)); ok != "Delete mqtt" {
		t.Errorf("confirm button says %q", ok)
	}
	setGuest(t, d.pve1, 100, true)
	browsertest.Get(b, chromedp.Evaluate[string](markGrid))
	triggerRefresh(b)
	if got := browsertest.Get(b, chromedp.Evaluate[string](`document.getElementById("ct-grid").dataset.refresh`)); !strings.HasPrefix(got, "paused") {
		t.Fatalf("refresh with the dialog open: %q", got)
	}
	if !browsertest.Get(b, chromedp.Evaluate[bool](`!!document.getElementById("ct-grid").dataset.old && document.getElementById("confirm-dialog").open && document.getElementById("confirm-vmid").value === "10"`)) {
		b.Screenshot("lost")
		t.Fatal("the refresh replaced the grid or lost the dialog or what was typed")
	}

	// A wrong VMID is refused as it is typed, before any request.
	b.Run(browsertest.SendKeys(`#confirm-vmid`, "2"))
	b.WaitTrue(`document.querySelector('[data-confirm-vmid-hint]').textContent.includes("102 is not 101")`)
	if !browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector('#confirm-dialog [data-testid="confirm-ok"]').disabled`)) {
		t.Fatal("a wrong VMID can be confirmed")
	}
	b.Screenshot("wrong-vmid")
	b.Run(
		browsertest.SendKeys(`#confirm-vmid`, "\b\b\b101"),
		browsertest.Click(`#confirm-dialog [data-testid="confirm-ok"]`),
	)
	b.WaitTrue(`!document.querySelector('` + mqtt + `')`)
	if _, ok := d.sim.Node("pve1").GuestStatus(101); ok {
		t.Fatal("CT 101 still on Proxmox after the one confirmation")
	}
	if browsertest.Get(b, chromedp.Evaluate[bool](`document.getElementById("confirm-dialog").open`)) {
		t.Fatal("a second dialog asked again")
	}
	// The refresh resumed on its own after the action, and shows what
	// changed meanwhile.
	b.WaitTrue(gridReplaced() + ` && ` + cardStatusIs("pve1", 100, "running"))
	d.noCSPViolations(t)
}

// TestBrowserDashboardConfirmAcrossRefresh leaves the Stop dialog open
// while the refresh fires; confirming afterwards still stops the container.
// Reboot asks too, and Cancel does nothing.
func TestBrowserDashboardConfirmAcrossRefresh(t *testing.T) {
	d := startDashBrowser(t)
	b := d.b
	b.Run(chromedp.Navigate(d.s.URL+"/containers"), chromedp.WaitVisible(`[data-testid="ct-grid"]`))
	mqtt := cardSel("pve1", 101)

	b.Run(browsertest.Click(mqtt+` [data-testid="action-reboot"]`), chromedp.WaitVisible(`#confirm-dialog [data-testid="confirm-ok"]`))
	if ok := browsertest.Get(b, chromedp.Text(`#confirm-dialog [data-testid="confirm-ok"]`)); ok != "Reboot mqtt" {
		t.Errorf("reboot confirm button says %q", ok)
	}
	// Cancel asks nothing and resumes the refresh at once.
	browsertest.Get(b, chromedp.Evaluate[string](markGrid))
	b.Run(browsertest.Click(`#confirm-dialog [data-testid="confirm-cancel"]`))
	b.WaitTrue(`!document.getElementById("confirm-dialog").open && ` + gridReplaced())

	b.Run(browsertest.Click(mqtt+` [data-testid="action-stop"]`), chromedp.WaitVisible(`#confirm-dialog [data-testid="confirm-ok"]`))
	if ok := browsertest.Get(b, chromedp.Text(`#confirm-dialog [data-testid="confirm-ok"]`)); ok != "Stop mqtt" {
		t.Errorf("stop confirm button says %q", ok)
	}
	b.Screenshot("confirm-stop")
	browsertest.Get(b, chromedp.Evaluate[string](markGrid))
	triggerRefresh(b)
	if got := browsertest.Get(b, chromedp.Evaluate[string](`document.getElementById("ct-grid").dataset.refresh`)); got != "paused dialog" {
		t.Fatalf("refresh with the dialog open: %q", got)
	}
	// Confirming stops it, and the refresh resumes once the stop is done.
	b.Run(browsertest.Click(`#confirm-dialog [data-testid="confirm-ok"]`))
	b.WaitTrue(gridReplaced() + ` && ` + cardStatusIs("pve1", 101, "stopped"))
	if s, _ := d.sim.Node("pve1").GuestStatus(101); s != "stopped" {
		t.Fatalf("Proxmox says %s after the confirmed stop", s)
	}
	evs, err := d.s.DB.ContainerEvents(t.Context(), d.alice.ID, d.pve1.ID, 101, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == store.EventRebooted {
			t.Fatal("the cancelled reboot happened")
		}
	}

	// A hidden tab does not poll; coming back refreshes at once.
	setGuest(t, d.pve1, 101, true)
	browsertest.Get(b, chromedp.Evaluate[string](markGrid))
	browsertest.Get(b, chromedp.Evaluate[bool](`Object.defineProperty(document, "hidden", {configurable: true, get: function () { return true; }}), true`))
	triggerRefresh(b)
	if got := browsertest.Get(b, chromedp.Evaluate[string](`document.getElementById("ct-grid").dataset.refresh`)); got != "paused hidden" {
		t.Fatalf("refresh in a hidden tab: %q", got)
	}
	browsertest.Get(b, chromedp.Evaluate[bool](`delete document.hidden, document.dispatchEvent(new Event("visibilitychange")), true`))
	b.WaitTrue(gridReplaced() + ` && ` + cardStatusIs("pve1", 101, "running"))
	d.noCSPViolations(t)
}
