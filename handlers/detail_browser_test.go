package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/exec"
	"corral/handlers/browsertest"
)

// TestBrowserDetailShutdownKeepsName shuts down a container Corral did not
// create from its page: the title keeps its Proxmox name and the usage
// panel stops showing CPU, uptime and the leased address.
func TestBrowserDetailShutdownKeepsName(t *testing.T) {
	d := startDashBrowser(t)
	b := d.b
	b.Run(
		chromedp.Navigate(d.s.URL+"/containers/"+d.pve1.ID+"/101"),
		chromedp.WaitVisible(`[data-testid="usage-CPU"]`),
		browsertest.Click(`[data-testid="action-shutdown"]`),
		chromedp.WaitVisible(`#confirm-dialog [data-testid="confirm-ok"]`),
	)
	if ok := browsertest.Get(b, chromedp.Text(`#confirm-dialog [data-testid="confirm-ok"]`)); ok != "Shut down mqtt" {
		t.Errorf("confirm button says %q", ok)
	}
	b.Run(browsertest.Click(`#confirm-dialog [data-testid="confirm-ok"]`))
	b.WaitTrue(`document.querySelector('[data-testid="detail-status"]')?.textContent === "stopped"`)
	b.Screenshot("after-shutdown")
	if name := browsertest.Get(b, chromedp.Text(`[data-testid="detail-name"]`)); !strings.HasPrefix(name, "mqtt") {
		t.Errorf("title after shut down: %q", name)
	}
	got := browsertest.Get(b, chromedp.Evaluate[[]string](`[
		String(!!document.querySelector('[data-testid="usage-CPU"]')),
		document.querySelector('[data-testid="uptime"]').textContent,
		document.querySelector('[data-testid="runtime-ip"]').textContent]`))
	if got[0] != "false" || got[1] != "—" || got[2] != "—" {
		t.Errorf("usage panel of a stopped container: CPU shown %s, uptime %q, IP %q", got[0], got[1], got[2])
	}
	d.noCSPViolations(t)
}

// TestBrowserDetailLogsAndCredentials: Show logs turns into Hide logs, the
// line count can be chosen, Follow shows new lines as they are written;
// credentials can be copied and hidden again.
func TestBrowserDetailLogsAndCredentials(t *testing.T) {
	d := startDashBrowser(t)
	detailTestInstall(t, d.containersTestSetup, "pve1", 101)
	b := d.b
	nginx := `[data-service="nginx"]`
	b.Grant(d.s.URL, "clipboard-read", "clipboard-write")
	b.Run(
		chromedp.Navigate(d.s.URL+"/containers/"+d.pve1.ID+"/101?tab=services"),
		chromedp.WaitVisible(`[data-testid="services-refresh"]`),
		browsertest.Click(`[data-testid="services-refresh"]`),
		chromedp.WaitVisible(nginx),
		browsertest.Click(nginx+` [data-testid="show-logs"]`),
		chromedp.WaitVisible(nginx+` [data-testid="service-logs"]`),
		chromedp.WaitVisible(nginx+` [data-testid="hide-logs"]`),
	)
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-service="nginx"] [data-testid="show-logs"]').length`)); n != 0 {
		t.Fatal("Show logs still offered while the logs are shown")
	}

	// Fewer lines: the panel reloads with the choice kept.
	b.Run(chromedp.SetValue(nginx+` [data-testid="logs-lines"]`, "50"))
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector('[data-service="nginx"] [data-testid="logs-lines"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	b.WaitTrue(`document.querySelector('[data-service="nginx"] [data-testid="logs-lines"]')?.value === "50" && document.querySelector('[data-service="nginx"] [data-testid="logs-lines"] option[selected]')?.value === "50"`)

	// Follow: a line written now shows up without a click.
	b.Run(browsertest.Click(nginx + ` [data-testid="logs-follow"]`))
	b.WaitTrue(`document.querySelector('[data-service="nginx"] [data-testid="log-view"][hx-trigger]') !== null`)
	if strings.Contains(browsertest.Get(b, chromedp.Text(nginx+` [data-testid="service-logs"]`)), "Stopping nginx") {
		t.Fatal("the journal already has the line this test writes")
	}
	host, err := exec.Dial(t.Context(), handlersTarget(d.containersTestSetup, "pve1"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	code, err := host.Pct(t.Context(), exec.PctRequest{VMID: 101, Argv: []string{"systemctl", "restart", "nginx"}, Stdout: &out, Stderr: &out})
	host.Close()
	if err != nil || code != 0 {
		t.Fatalf("restart nginx: %d %v %s", code, err, out.String())
	}
	b.WaitTrue(`document.querySelector('[data-service="nginx"] [data-testid="service-logs"]')?.textContent.includes("Stopping nginx")`)
	b.Screenshot("following")

	// Hide: the panel goes, and the toggle says Show again.
	b.Run(
		browsertest.Click(nginx+` [data-testid="hide-logs"]`),
		chromedp.WaitVisible(nginx+` [data-testid="show-logs"]`),
	)
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-service="nginx"] [data-testid="log-view"]').length`)); n != 0 {
		t.Fatal("logs still shown after Hide")
	}

	// Credentials: copy, then hide.
	b.Run(
		browsertest.Click(nginx+` [data-testid="reveal-credentials"]`),
		chromedp.WaitVisible(nginx+` [data-testid="credential-copy"]`),
	)
	id := browsertest.Get(b, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-service="nginx"] [data-testid="credential-value"]')].find(e => e.textContent === "hunter2")?.id || ""`))
	if id == "" {
		t.Fatal("no password revealed")
	}
	b.Run(browsertest.Click(`button[data-copy="` + id + `"]`))
	b.WaitTrue(`[...document.querySelectorAll('[data-service="nginx"] [data-testid="credential-copy"]')].some(b => b.textContent === "Copied")`)
	copied := browsertest.Get(b, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if copied != "hunter2" {
		t.Errorf("clipboard holds %q", copied)
	}
	b.Run(browsertest.Click(nginx + ` [data-testid="credentials-hide"]`))
	b.WaitTrue(`!document.querySelector('[data-service="nginx"] [data-testid="credentials"]')`)
	if loc := browsertest.Get(b, chromedp.Location()); !strings.HasSuffix(loc, "?tab=services") {
		t.Errorf("Hide navigated to %s", loc)
	}
	if strings.Contains(browsertest.Get(b, chromedp.Text(`main`)), "hunter2") {
		t.Fatal("the password is still on the page after Hide")
	}
	d.noCSPViolations(t)
}
