package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
	"corral/store"
)

// TestBrowserJobProgress follows a creation live in Chromium: the page opens
// mid-job, then the htmx SSE stream appends log lines and replaces the
// status panel until the container is ready; a failed job shows its error
// with Retry and Delete.
func TestBrowserJobProgress(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 240
	plan := jobsTestPlan(env.user, env.node, vmid, "web")
	plan.Packages = []store.Package{{Manager: "apt", Name: "nginx"}}
	plan.Scripts = []store.Script{
		{Name: "10-prepare.sh", Content: "log_info preparing\n"},
		{Name: "20-wait.sh", Content: "log_info waiting for the test\nwhile [ ! -f /tmp/go ]; do sleep 0.02; done\nlog_info released\n"},
	}
	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	jobsTestWait(t, env.runner, env.user.ID, jobID, "blocked in the script", func(j store.Job) bool {
		log, _ := env.runner.Log(ctx, env.user.ID, jobID, 0)
		return len(log) > 0 && strings.HasSuffix(log[len(log)-1].Text, "waiting for the test")
	})

	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(env.srv.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "alice-password-1"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-templates"]`),
		chromedp.Navigate(env.srv.URL+"/jobs/"+jobID),
		chromedp.WaitVisible(`[data-testid="job-status"][data-state="running"]`),
		chromedp.WaitVisible(`[data-step="script:1"][data-state="running"]`),
	)
	b.Screenshot("running")

	jobsTestWrite(t, env.sim, "pve1", vmid, "tmp/go", "")
	b.Run(
		chromedp.WaitVisible(`[data-testid="job-status"][data-state="done"]`),
		chromedp.WaitVisible(`[data-testid="job-container-link"]`),
	)
	// The runner saves "done" before it logs the line announcing it, so the
	// status panel can turn done a moment before that last line streams in.
	b.WaitTrue(`document.querySelector('[data-testid="job-log"]').textContent.includes("is ready")`)
	log := browsertest.Get(b, chromedp.Text(`[data-testid="job-log"]`))
	for _, want := range []string{"waiting for the test", "released", "is ready"} {
		if !strings.Contains(log, want) {
			t.Errorf("live log lacks %q:\n%s", want, log)
		}
	}
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('#job-log-lines .logline').length`)); n != len(mustLog(t, env, jobID)) {
		t.Errorf("page shows %d lines, the log has %d", n, len(mustLog(t, env, jobID)))
	}
	b.Screenshot("ready")

	// A failing job.
	bad := jobsTestPlan(env.user, env.node, vmid+1, "broken")
	bad.Scripts = []store.Script{{Name: "fail.sh", Content: "echo 'cannot reach the mirror' >&2\nexit 4\n"}}
	badID, err := env.runner.Start(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	jobsTestWaitEnd(t, env.runner, env.user.ID, badID)
	b.Run(
		chromedp.Navigate(env.srv.URL+"/jobs/"+badID),
		chromedp.WaitVisible(`[data-testid="job-error"]`),
		chromedp.WaitVisible(`[data-testid="job-retry"]`),
	)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="job-error-exit"]`)); got != "4" {
		t.Errorf("exit code shown %q", got)
	}
	b.Screenshot("failed")
}

func mustLog(t *testing.T, env *jobsTestEnv, jobID string) []store.LogEntry {
	t.Helper()
	log, err := env.runner.Log(context.Background(), env.user.ID, jobID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return log
}
