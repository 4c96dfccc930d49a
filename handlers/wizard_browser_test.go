package handlers_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"corral/exec/provision"
	"corral/handlers"
	"corral/handlers/browsertest"
	"corral/store"
)

// TestBrowserWizard walks the whole wizard in Chromium, from the template to
// the progress page of a real creation job against pvesim, and waits for
// the container to be ready. On the way it checks the VMID field turns red
// for a taken id and green for a free one, and that reordering scripts
// reaches the pipeline.
func TestBrowserWizard(t *testing.T) {
	var runner interface{ Run(context.Context) }
	real := func(d *handlers.Deps) {
		r, err := provision.New(provision.Config{
			Store: d.Nodes.(provision.Store), Proxmox: d.Proxmox, Dial: jobsTestDial, VMIDs: d.VMIDs,
			Logger: slog.New(slog.DiscardHandler), WaitInterval: 20 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Provisioner, runner = r, r
	}
	e := newWizardEnv(t, real)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	tm, err := e.DB.CreateTemplate(context.Background(), e.user.ID, store.Template{
		Name: "Hello", Description: "Two scripts and a file", OSTemplate: "debian-12-standard",
		Cores: 1, Memory: 512, Disk: 4, Features: store.Features{Unprivileged: true},
		Packages: []store.Package{{Manager: store.ManagerApt, Name: "curl"}, {Manager: store.ManagerApt, Name: "vim"}},
		Scripts: []store.Script{
			{Name: "10-hello.sh", Content: "echo hello >> /root/hello\n", Enabled: true},
			{Name: "20-world.sh", Content: "echo world >> /root/hello\n", Enabled: true},
		},
		Files: []store.File{{Name: "motd", TargetDir: "/etc", Policy: store.PolicyReplace, Content: "Built by Corral\n"}},
	})
	if err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-containers"]`),
		chromedp.Navigate(e.URL+"/containers/new"),
		chromedp.WaitVisible(`[data-testid="step-template"]`),
		browsertest.Click(`input[value="`+tm.ID+`"]`),
	)
	b.Screenshot("template")
	b.Run(
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-configure"]`),
	)
	if got := browsertest.Get(b, chromedp.Value(`#vmid`)); got != "104" {
		t.Fatalf("VMID prefilled with %q, want the next free 104", got)
	}
	b.Screenshot("configure")

	// A taken VMID turns the field red, a free one green.
	b.Run(
		chromedp.Clear(`#vmid`),
		browsertest.SendKeys(`#vmid`, "100"),
		chromedp.WaitVisible(`[data-testid="vmid-status"][data-state="taken"]`),
	)
	if msg := browsertest.Get(b, chromedp.Text(`[data-testid="vmid-status"]`)); !strings.Contains(msg, "100") {
		t.Errorf("taken VMID says %q", msg)
	}
	b.Screenshot("vmid-taken")
	browsertest.Get(b, chromedp.Evaluate[bool](`(document.querySelector('#vmid').value = '', true)`))
	b.Run(
		browsertest.SendKeys(`#vmid`, "150"),
		chromedp.WaitVisible(`[data-testid="vmid-status"][data-state="free"]`),
	)
	b.Screenshot("vmid-free")

	// A bad hostname is refused next to its field; then a good one passes.
	b.Run(
		browsertest.SendKeys(`#hostname`, "bad_name"),
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="field-error"][data-field="hostname"]`),
	)
	b.Screenshot("configure-error")
	b.Run(
		chromedp.SetValue(`#hostname`, "hello1"),
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-packages"]`),
		browsertest.Click(`[data-testid="pkg-apt:vim"]`),
		browsertest.SendKeys(`#extra_apt`, "htop"),
	)
	b.Screenshot("packages")
	b.Run(
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-scripts"]`),
		browsertest.Click(`button[value="script-down:0"]`),
	)
	b.WaitTrue(`document.querySelector('[data-testid="script-item"]')?.dataset.name === "20-world.sh"`)
	b.Screenshot("scripts")
	b.Run(
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-review"]`),
	)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="review-vmid"]`)); got != "150" {
		t.Fatalf("review VMID %q", got)
	}
	b.Screenshot("review")

	b.Run(
		browsertest.Click(`[data-testid="wizard-create"]`),
		chromedp.WaitVisible(`[data-testid="job-status"]`),
	)
	if loc := browsertest.Get(b, chromedp.Location()); !strings.Contains(loc, "/jobs/") {
		t.Fatalf("after create the browser is at %s", loc)
	}
	b.Screenshot("progress")
	b.Run(chromedp.WaitVisible(`[data-testid="job-ready"]`))
	b.Screenshot("ready")

	// The pipeline ran the scripts in the chosen order inside the container.
	dir := e.sim.Node("pve1").ContainerDir(150)
	b2, err := os.ReadFile(filepath.Join(dir, "root", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b2)
	if got != "world\nhello\n" {
		t.Fatalf("/root/hello in CT 150 is %q, want world then hello", got)
	}
}
