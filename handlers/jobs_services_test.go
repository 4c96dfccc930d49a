package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
	"corral/store"
)

// jobsServicesPlan installs a service that listens on a port.
func jobsServicesPlan(env *jobsTestEnv, vmid int, host string) store.Plan {
	plan := jobsTestPlan(env.user, env.node, vmid, host)
	plan.Scripts = []store.Script{{Name: "20-app.sh", Content: jobsTestAppScript}}
	return plan
}

// TestJobs_DiscoveredServicesReachContainerPage: the services the job's
// last step found are the container's Services tab at once (issue 14, bug
// 4: the tab said "No discovery has run yet" until a manual refresh).
func TestJobs_DiscoveredServicesReachContainerPage(t *testing.T) {
	env := jobsTestSetup(t)
	const vmid = 152
	jobID, err := env.runner.Start(context.Background(), jobsServicesPlan(env, vmid, "svc"))
	if err != nil {
		t.Fatal(err)
	}
	if j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID); j.State != store.JobDone {
		t.Fatalf("job %s: %+v", j.State, j.Error)
	}
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	res := c.get("/containers/" + env.node.ID + "/152?tab=services")
	expectStatus(t, res, http.StatusOK)
	panel := res.Doc.Find(`[data-testid="services-panel"]`).Text()
	if strings.Contains(res.Doc.Text(), "No discovery has run yet") {
		t.Errorf("the Services tab knows no discovery after the job:\n%s", strings.Join(strings.Fields(panel), " "))
	}
	app := res.Doc.Find(`[data-testid="service"][data-service="myapp"]`)
	if app.Length() != 1 || !strings.Contains(app.Text(), "3000") {
		t.Errorf("myapp with its port is not on the Services tab: %q", strings.Join(strings.Fields(app.Text()), " "))
	}
	if res.Doc.Find(`[data-testid="reveal-credentials"]`).Length() == 0 {
		t.Error("myapp's credentials cannot be revealed")
	}
	// The dashboard card lists it too.
	res = c.get("/containers")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.Doc.Find(`[data-testid="ct-card"][data-vmid="152"]`).Text(), "myapp") {
		t.Error("the dashboard card does not list myapp")
	}
}

// TestBrowserJobServicesOnContainerPage: a person watches a creation end,
// follows "View container", opens Services and sees what the job
// discovered, without refreshing anything.
func TestBrowserJobServicesOnContainerPage(t *testing.T) {
	env := jobsTestSetup(t)
	const vmid = 153
	jobID, err := env.runner.Start(context.Background(), jobsServicesPlan(env, vmid, "svcb"))
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
		chromedp.WaitVisible(`[data-testid="nav-templates"]`),
		chromedp.Navigate(env.srv.URL+"/jobs/"+jobID),
		chromedp.WaitVisible(`[data-testid="job-status"][data-state="done"]`),
		browsertest.Click(`[data-testid="job-container-link"]`),
		chromedp.WaitVisible(`[data-testid="tab-services"]`),
		browsertest.Click(`[data-testid="tab-services"]`),
		chromedp.WaitVisible(`[data-testid="service"][data-service="myapp"]`),
	)
	if text := browsertest.Get(b, chromedp.Text(`[data-testid="service"][data-service="myapp"]`)); !strings.Contains(text, "3000") {
		t.Errorf("myapp shown without its port: %q", text)
	}
	b.Screenshot("services")
}

// TestJobs_CredentialsSavedUnderPackageName: a script that installs redis
// and saves `save_credential redis ...` gets its credentials on the running
// redis-server, revealed from there; no "redis - stopped" service appears
// (issue 14, bug 11). Credentials that belong to no unit are shown as
// credentials, not as a stopped service.
func TestJobs_CredentialsSavedUnderPackageName(t *testing.T) {
	env := jobsTestSetup(t)
	const vmid = 154
	plan := jobsTestPlan(env.user, env.node, vmid, "cache")
	plan.Packages = []store.Package{{Manager: "apt", Name: "redis"}}
	plan.Scripts = []store.Script{{Name: "10-redis.sh", Content: "save_credential redis REDIS_PASSWORD from-the-script\n" +
		"save_credential wordpress WP_ADMIN admin\n"}}
	jobID, err := env.runner.Start(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobDone {
		t.Fatalf("job %s: %+v", j.State, j.Error)
	}
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	job := c.get("/jobs/" + jobID)
	if s := job.Doc.Find(`[data-testid="job-services"] [data-service="redis"]`); s.Length() != 0 {
		t.Errorf("the job lists a service redis: %q", s.Text())
	}
	if s := job.Doc.Find(`[data-testid="job-services"] [data-service="redis-server"]`).Text(); !strings.Contains(s, "REDIS_PASSWORD") {
		t.Errorf("redis-server on the job page: %q", s)
	}
	if s := job.Doc.Find(`[data-testid="job-services"] [data-service="wordpress"]`).Text(); strings.Contains(s, "stopped") || !strings.Contains(s, "credentials") {
		t.Errorf("wordpress on the job page: %q", strings.Join(strings.Fields(s), " "))
	}

	base := "/containers/" + env.node.ID + "/154"
	res := c.get(base + "?tab=services")
	expectStatus(t, res, http.StatusOK)
	if s := res.Doc.Find(`[data-testid="service"][data-service="redis"]`); s.Length() != 0 {
		t.Errorf("a made-up redis service: %q", strings.Join(strings.Fields(s.Text()), " "))
	}
	rs := res.Doc.Find(`[data-testid="service"][data-service="redis-server"]`)
	if rs.Length() != 1 || rs.Find(`[data-testid="reveal-credentials"]`).Length() != 1 {
		t.Fatalf("redis-server without its credentials: %q", strings.Join(strings.Fields(rs.Text()), " "))
	}
	if wp := res.Doc.Find(`[data-testid="service"][data-service="wordpress"]`).Text(); strings.Contains(wp, "stopped") {
		t.Errorf("wordpress's credentials shown as a stopped service: %q", strings.Join(strings.Fields(wp), " "))
	}
	res = c.post(base+"/services/redis-server/credentials", nil, "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if got := res.Doc.Find(`[data-testid="credential-value"]`).Text(); got != "from-the-script" {
		t.Errorf("revealed %q", got)
	}
}
