package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
	"corral/store"
)

// TestBrowserJobReadyPanel: when a creation job ends, the progress page's
// ready panel shows the container's address and links each discovered
// service's port, live (the page was open while the job ran).
func TestBrowserJobReadyPanel(t *testing.T) {
	env := jobsTestSetup(t)
	plan := jobsTestPlan(env.user, env.node, 150, "app")
	plan.Scripts = []store.Script{
		// Holds the job until the page is watching (bounded: 60 s).
		{Name: "10-hold.sh", Content: "i=0\nwhile [ $i -lt 1200 ]; do [ -e /root/release ] && exit 0; sleep 0.05; i=$((i+1)); done\nexit 1\n"},
		{Name: "20-app.sh", Content: jobsTestAppScript},
	}
	jobID, err := env.runner.Start(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(env.srv.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "alice-password-1"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-containers"]`),
		chromedp.Navigate(env.srv.URL+"/jobs/"+jobID),
		chromedp.WaitVisible(`[data-testid="job-status"] [data-script="10-hold.sh"][data-state="running"]`),
	)
	jobsTestWrite(t, env.sim, "pve1", 150, "root/release", "go\n")
	b.Run(
		chromedp.WaitVisible(`[data-testid="job-ready"]`),
		chromedp.WaitVisible(`[data-testid="job-address"]`),
	)
	ip := browsertest.Get(b, chromedp.Text(`[data-testid="job-address"]`))
	if !strings.Contains(ip, ".") {
		t.Fatalf("address %q", ip)
	}
	href := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector('[data-service="myapp"] [data-testid="job-service-link"]')?.getAttribute('href') ?? ''`))
	if href != "http://"+ip+":3000" {
		t.Errorf("myapp link %q, want http://%s:3000", href, ip)
	}
	for _, m := range lookModes {
		b.Run(m.apply())
		if p := browsertest.Get(b, chromedp.Evaluate[string](lookProblems)); p != "" {
			t.Errorf("%s:\n%s", m.name, p)
		}
		b.Screenshot("ready-" + m.name)
	}
}
