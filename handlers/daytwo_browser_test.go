package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"corral/handlers/browsertest"
	"corral/proxmox"
)

// dayTwoBrowser is the day-two estate with alice signed in in Chromium,
// CSP violations recorded.
type dayTwoBrowser struct {
	*dayTwoEnv
	b    *browsertest.Browser
	dash *dashBrowser
}

func startDayTwoBrowser(t *testing.T) *dayTwoBrowser {
	t.Helper()
	d := startDashBrowser(t, dayTwoDeps(t))
	return &dayTwoBrowser{dayTwoEnv: newDayTwoEnv(t, d.containersTestSetup), b: d.b, dash: d}
}

func (d *dayTwoBrowser) noCSPViolations(t *testing.T) { d.dash.noCSPViolations(t) }

// TestBrowserDayTwoSettings changes a container's memory and start at boot
// from its Settings tab: the review shows the exact request, Apply sends
// it; then a change made meanwhile in Proxmox stops the next edit, which
// shows what Proxmox has now.
func TestBrowserDayTwoSettings(t *testing.T) {
	d := startDayTwoBrowser(t)
	b := d.b
	b.Run(
		chromedp.Navigate(d.s.URL+d.ctURL(101, "")),
		browsertest.Click(`[data-testid="tab-settings"]`),
		browsertest.SendKeys(`#memory`, kb.End+"\b\b\b\b\b512"),
		browsertest.Click(`[data-testid="input-onboot"]`),
		browsertest.SendKeys(`#tags`, "iot"),
		browsertest.Click(`[data-testid="settings-review"]`),
		browsertest.Ready(`[data-testid="settings-review-panel"]`),
	)
	b.Screenshot("review")
	params := browsertest.Get(b, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('[data-testid="review-param"]')].map(function (r) {
		return [r.dataset.name, r.querySelector(".wizard-param-value").textContent.trim()];
	}))`))
	if params["memory"] != "512" || params["onboot"] != "1" || params["tags"] != "iot" || params["digest"] != d.config(t, 101).Digest() || len(params) != 4 {
		t.Fatalf("review params = %v", params)
	}
	if d.config(t, 101).Memory() != 256 {
		t.Fatal("the review changed the container")
	}
	b.Run(
		browsertest.Click(`[data-testid="settings-apply"]`),
		browsertest.Ready(`[data-testid="flash"]`),
		browsertest.Ready(`[data-testid="settings-form"]`),
	)
	if flash := browsertest.Get(b, chromedp.Text(`[data-testid="flash"]`)); !strings.HasPrefix(flash, "Saved") {
		t.Errorf("flash %q", flash)
	}
	if cfg := d.config(t, 101); cfg.Memory() != 512 || !cfg.OnBoot() || strings.Join(cfg.Tags(), ";") != "iot" {
		t.Fatalf("config after apply: %v", cfg)
	}

	// Someone raises the memory in the Proxmox UI while the form is open.
	cfg := d.config(t, 101)
	ch := proxmox.NewConfigChange(cfg)
	ch.Update(cfg, "memory", "1024")
	if err := d.other.UpdateLXCConfig(t.Context(), "pve1", 101, ch); err != nil {
		t.Fatal(err)
	}
	b.Run(
		browsertest.SendKeys(`#memory`, kb.End+"\b\b\b\b\b768"),
		browsertest.Click(`[data-testid="settings-review"]`),
		browsertest.Ready(`[data-testid="settings-conflict"]`),
	)
	b.Screenshot("conflict")
	now := browsertest.Get(b, chromedp.Text(`[data-testid="now-value"][data-field="memory"]`))
	typed := browsertest.Get(b, chromedp.Value(`#memory`))
	if !strings.Contains(now, "1024") || typed != "768" {
		t.Errorf("after the conflict: field %q, Proxmox now %q", typed, now)
	}
	if got := d.config(t, 101).Memory(); got != 1024 {
		t.Errorf("the refused edit reached Proxmox: memory %d", got)
	}
	d.noCSPViolations(t)
}

// TestBrowserDayTwoLooks walks the new tabs and pages at a desktop's and a
// phone's width, light and dark: nothing is wider than the screen, and a
// screenshot of each is kept for a person to look at.
func TestBrowserDayTwoLooks(t *testing.T) {
	d := startDayTwoBrowser(t)
	b := d.b
	ctx := t.Context()
	detailTestInstall(t, d.containersTestSetup, "pve1", 101)
	expectStatus(t, d.c.post(d.ctURL(101, "/services/refresh"), nil), 303)
	upid, err := d.other.CreateSnapshot(ctx, "pve1", 101, "before-upgrade", "Mosquitto 2.0, before 2.1")
	if err == nil {
		err = d.other.WaitTask(ctx, "pve1", upid, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	upid, err = d.other.Backup(ctx, "pve1", proxmox.BackupParams{VMID: 101, Storage: "local", NotesTemplate: "{{guestname}}"})
	if err == nil {
		err = d.other.WaitTask(ctx, "pve1", upid, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	task := d.ctURL(101, "/tasks/"+upid)
	pages := []struct{ name, path, ready string }{
		{"settings", d.ctURL(101, "/settings"), `[data-testid="settings-form"]`},
		{"snapshots", d.ctURL(101, "/snapshots"), `[data-testid="snapshot"]`},
		{"backups", d.ctURL(101, "/backups"), `[data-testid="restore-new-form"]`},
		{"services", d.ctURL(101, "?tab=services"), `[data-testid="service-restart"]`},
		{"task", task, `[data-testid="task-done-back"]`},
		{"rollback-confirm", d.ctURL(101, "/snapshots/before-upgrade/rollback"), `[data-testid="confirm-page"]`},
	}
	for _, scheme := range []string{"light", "dark"} {
		b.Run(colorScheme(scheme))
		for _, width := range []int64{1280, 390} {
			b.SetViewport(width, 900)
			for _, p := range pages {
				b.Run(chromedp.Navigate(d.s.URL+p.path), browsertest.Ready(p.ready))
				fitsWidth(t, b, p.name, width)
				wholePage(b, fmt.Sprintf("%s-%d-%s", p.name, width, scheme), width)
			}
			// The review of a change, reached by the form.
			b.Run(
				chromedp.Navigate(d.s.URL+d.ctURL(101, "/settings")),
				browsertest.SendKeys(`#bind_host`, "/mnt/media"),
				browsertest.SendKeys(`#bind_path`, "/media"),
				browsertest.Click(`[data-testid="bind-review"]`),
				browsertest.Ready(`[data-testid="review-command"]`),
			)
			fitsWidth(t, b, "bind review", width)
			wholePage(b, fmt.Sprintf("bind-review-%d-%s", width, scheme), width)
		}
	}
	d.noCSPViolations(t)
}

// TestBrowserDayTwoActions clicks every day-two action a person would:
// take a snapshot, roll back to it through the page's dialog, back up now,
// restore the backup to a new VMID the field shows as free, and restart a
// service through the dialog. Each lands on its task page (or the panel)
// and Proxmox has done it.
func TestBrowserDayTwoActions(t *testing.T) {
	d := startDayTwoBrowser(t)
	b := d.b
	detailTestInstall(t, d.containersTestSetup, "pve1", 101)
	expectStatus(t, d.c.post(d.ctURL(101, "/services/refresh"), nil), 303)
	taskDone := func(what string) {
		t.Helper()
		b.Run(browsertest.Ready(`[data-testid="task-done-back"]`))
		if state := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector('[data-testid="task-status"]').dataset.state`)); state != "ok" {
			t.Fatalf("%s: task %s\n%s", what, state, browsertest.Get(b, chromedp.Text(`[data-testid="task-status"]`)))
		}
	}

	b.Run(
		chromedp.Navigate(d.s.URL+d.ctURL(101, "")),
		browsertest.Click(`[data-testid="tab-snapshots"]`),
		browsertest.SendKeys(`#snap_name`, "before-upgrade"),
		browsertest.SendKeys(`#snap_description`, "Mosquitto 2.0"),
		browsertest.Click(`[data-testid="snapshot-take"]`),
	)
	taskDone("snapshot")
	b.Run(
		browsertest.Click(`[data-testid="task-done-back"]`),
		browsertest.Click(`[data-snapshot="before-upgrade"] [data-testid="snapshot-rollback"]`),
		chromedp.WaitVisible(`#confirm-dialog [data-testid="confirm-ok"]`),
		browsertest.Click(`#confirm-dialog [data-testid="confirm-ok"]`),
	)
	taskDone("rollback")
	d.waitEvent(t, d.pve1, 101, "rolled_back")

	b.Run(
		chromedp.Navigate(d.s.URL+d.ctURL(101, "")),
		browsertest.Click(`[data-testid="tab-backups"]`),
		browsertest.Click(`[data-testid="backup-now"]`),
	)
	taskDone("backup")
	b.Run(
		browsertest.Click(`[data-testid="task-done-back"]`),
		browsertest.SendKeys(`[data-testid="restore-new-form"] #vmid`, "150"),
		chromedp.WaitVisible(`[data-testid="vmid-status"][data-state="free"]`),
		browsertest.Click(`[data-testid="restore-new"]`),
	)
	taskDone("restore")
	if next := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector('[data-testid="task-next"]').getAttribute("href")`)); next != d.ctURL(150, "") {
		t.Errorf("link to the restored container: %q", next)
	}
	if cfg := d.config(t, 150); cfg.Hostname() != "mqtt" {
		t.Errorf("restored config = %v", cfg)
	}

	nginx := `[data-service="nginx"]`
	b.Run(
		chromedp.Navigate(d.s.URL+d.ctURL(101, "?tab=services")),
		browsertest.Click(nginx+` [data-testid="service-restart"]`),
		chromedp.WaitVisible(`#confirm-dialog [data-testid="confirm-ok"]`),
		browsertest.Click(`#confirm-dialog [data-testid="confirm-ok"]`),
	)
	b.WaitTrue(`[...document.querySelectorAll("#toasts .toast")].some(function (e) { return e.textContent.includes("nginx restarted") })`)
	if !d.audited(t, "container.service.restart", "nginx") {
		t.Error("the restart was not audited")
	}
	d.noCSPViolations(t)
}
