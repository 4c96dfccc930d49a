package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/exec/provision"
	"corral/store"
)

// jobsRetryTemplate stores a template of the user's with the given scripts.
func jobsRetryTemplate(t *testing.T, db *store.DB, userID, name string, scripts ...store.Script) store.Template {
	t.Helper()
	tmpl, err := db.CreateTemplate(context.Background(), userID, store.Template{
		Name: name, OSTemplate: "debian-12-standard", Features: store.Features{Unprivileged: true}, Scripts: scripts,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// jobsRetryPlan is a plan made from tmpl running the named scripts in the
// given order, as the wizard records it.
func jobsRetryPlan(env *jobsTestEnv, tmpl store.Template, vmid int, host string, order ...string) store.Plan {
	p := jobsTestPlan(env.user, env.node, vmid, host)
	p.TemplateID, p.TemplateName = tmpl.ID, tmpl.Name
	for _, name := range order {
		for _, sc := range tmpl.Scripts {
			if sc.Name == name {
				p.Scripts = append(p.Scripts, store.Script{Name: sc.Name, Content: sc.Content})
			}
		}
	}
	return p
}

// jobsRetrySavedPlan is the plan persisted with the job, and its encoding
// to compare it whole.
func jobsRetrySavedPlan(t *testing.T, db *store.DB, userID, jobID string) (store.Plan, []byte) {
	t.Helper()
	j, err := db.Job(context.Background(), userID, jobID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(j.Plan)
	if err != nil {
		t.Fatal(err)
	}
	return j.Plan, raw
}

// jobsRetryLogTexts is the text of every entry of the job's log.
func jobsRetryLogTexts(t *testing.T, r *provision.Runner, userID, jobID string) []string {
	t.Helper()
	log, err := r.Log(context.Background(), userID, jobID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range log {
		out = append(out, e.Text)
	}
	return out
}

// jobsRetryDiff reads the review page of a retry with the template's
// current version: each script's diff lines as "OP TEXT", and the digest
// its form would send.
func jobsRetryDiff(t *testing.T, c *client, jobID string, status int) (map[string][]string, string) {
	t.Helper()
	res := c.get("/jobs/" + jobID + "/retry-template")
	expectStatus(t, res, status)
	diffs := map[string][]string{}
	res.Doc.Find(`[data-testid="script-diff"]`).Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("data-script", "")
		s.Find(`[data-testid="diff-line"]`).Each(func(_ int, l *goquery.Selection) {
			diffs[name] = append(diffs[name], l.Text())
		})
	})
	return diffs, res.Doc.Find(`input[name="changes"]`).AttrOr("value", "")
}

// TestJobs_RetryRunsReviewedSnapshot: a template's script fails with exit
// code 3 and the user fixes it in the template. Retry still runs what was
// reviewed (and fails again); the job page offers the template's current
// version, whose review page shows a diff per script still to run; a
// confirmation for changes that have changed again runs nothing; the
// confirmed one runs the new versions of the failed and later scripts,
// keeps the wizard's order and enabled set, never re-runs what completed,
// and saves the refreshed plan with the job.
func TestJobs_RetryRunsReviewedSnapshot(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	db := env.srv.DB
	const vmid = 190
	tmpl := jobsRetryTemplate(t, db, env.user.ID, "Flaky app",
		store.Script{Name: "10-base.sh", Enabled: true, Content: "echo base-v1 >> /root/runs\n"},
		store.Script{Name: "30-after.sh", Enabled: true, Content: "echo after-v1 > /root/after\n"},
		store.Script{Name: "20-app.sh", Enabled: true, Content: "echo 'preparing the app'\necho 'app config is missing' >&2\nexit 3\n"},
		store.Script{Name: "15-off.sh", Enabled: false, Content: "echo off > /root/off\n"},
	)
	// The user reordered the scripts in the wizard and left 15-off.sh off.
	plan := jobsRetryPlan(env, tmpl, vmid, "flaky-app", "10-base.sh", "20-app.sh", "30-after.sh")
	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobFailed || j.Step != "script:1" || j.Error == nil || j.Error.ExitCode != 3 {
		t.Fatalf("job %s at %s: %+v", j.State, j.Step, j.Error)
	}
	if !strings.Contains(j.Error.Message, `"20-app.sh" failed with exit code 3`) || !strings.Contains(strings.Join(j.Error.Output, "\n"), "app config is missing") {
		t.Fatalf("error = %+v", j.Error)
	}
	_, snapshot := jobsRetrySavedPlan(t, db, env.user.ID, jobID)

	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	res := c.get("/jobs/" + jobID)
	expectStatus(t, res, http.StatusOK)
	if got := res.Doc.Find(`[data-testid="job-error-exit"]`).Text(); got != "3" {
		t.Errorf("exit code on page %q", got)
	}
	if got := res.Doc.Find(`[data-testid="job-error-output"]`).Text(); !strings.Contains(got, "app config is missing") {
		t.Errorf("output on page %q", got)
	}
	if res.Doc.Find(`[data-testid="job-template-changed"]`).Length() != 0 || res.Doc.Find(`[data-testid="job-retry-template"]`).Length() != 0 {
		t.Error("template change offered before any edit")
	}

	// Fix the failing script, change the later one and the completed one,
	// and switch 15-off.sh on in the template.
	tmpl.Scripts = []store.Script{
		{Name: "10-base.sh", Enabled: true, Content: "echo base-v2 >> /root/runs\n"},
		{Name: "30-after.sh", Enabled: true, Content: "echo after-v2 > /root/after\n"},
		{Name: "20-app.sh", Enabled: true, Content: "echo 'preparing the app'\nlog_info 'config written'\necho app-v2 > /root/app\n"},
		{Name: "15-off.sh", Enabled: true, Content: "echo off > /root/off\n"},
	}
	if _, err := db.UpdateTemplate(ctx, env.user.ID, tmpl); err != nil {
		t.Fatal(err)
	}
	res = c.get("/jobs/" + jobID)
	expectStatus(t, res, http.StatusOK)
	want := "Your template's 20-app.sh and 30-after.sh have changed since this job started. Retry runs the job as it was reviewed."
	if got := strings.TrimSpace(res.Doc.Find(`[data-testid="job-template-changed"]`).Text()); got != want {
		t.Errorf("note next to Retry = %q, want %q", got, want)
	}
	if href := res.Doc.Find(`[data-testid="job-retry-template"]`).AttrOr("href", ""); href != "/jobs/"+jobID+"/retry-template" {
		t.Errorf("review link %q", href)
	}

	// Plain Retry runs the snapshot: the reviewed 20-app.sh fails again.
	expectStatus(t, c.post("/jobs/"+jobID+"/retry", nil), http.StatusSeeOther)
	j = jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobFailed || j.Step != "script:1" || j.Attempts != 1 || j.Error == nil || j.Error.ExitCode != 3 {
		t.Fatalf("plain retry: %s at %s, attempts %d, %+v", j.State, j.Step, j.Attempts, j.Error)
	}
	if _, raw := jobsRetrySavedPlan(t, db, env.user.ID, jobID); string(raw) != string(snapshot) {
		t.Error("a plain retry changed the saved plan")
	}
	if texts := strings.Join(jobsRetryLogTexts(t, env.runner, env.user.ID, jobID), "\n"); strings.Contains(texts, "current version") {
		t.Errorf("a plain retry mentions the template:\n%s", texts)
	}

	// The review page: one diff per changed script still to run.
	diffs, digest := jobsRetryDiff(t, c, jobID, http.StatusOK)
	wantDiffs := map[string][]string{
		"20-app.sh":   {"  echo 'preparing the app'", "- echo 'app config is missing' >&2", "- exit 3", "+ log_info 'config written'", "+ echo app-v2 > /root/app"},
		"30-after.sh": {"- echo after-v1 > /root/after", "+ echo after-v2 > /root/after"},
	}
	if !reflect.DeepEqual(diffs, wantDiffs) || digest == "" {
		t.Fatalf("diffs %q (digest %q), want %q", diffs, digest, wantDiffs)
	}

	// The template changes again after the review: confirming the old
	// review runs nothing and shows the new state.
	tmpl.Scripts[1].Content = "echo after-v3 > /root/after\n"
	if _, err := db.UpdateTemplate(ctx, env.user.ID, tmpl); err != nil {
		t.Fatal(err)
	}
	res = c.post("/jobs/"+jobID+"/retry-template", url.Values{"changes": {digest}})
	expectStatus(t, res, http.StatusConflict)
	if res.Doc.Find(`[data-testid="job-retry-template-notice"]`).Length() != 1 || !strings.Contains(res.Body, "after-v3") {
		t.Errorf("stale confirmation page: %s", res.Doc.Find("main").Text())
	}
	if j, _ := env.runner.Job(ctx, env.user.ID, jobID); j.State != store.JobFailed || j.Attempts != 1 {
		t.Fatalf("a stale confirmation ran the job: %s attempts %d", j.State, j.Attempts)
	}
	expectStatus(t, c.post("/jobs/"+jobID+"/retry-template", url.Values{"changes": {""}}), http.StatusConflict)

	_, digest = jobsRetryDiff(t, c, jobID, http.StatusOK)
	expectStatus(t, c.post("/jobs/"+jobID+"/retry-template", url.Values{"changes": {digest}}), http.StatusSeeOther)
	j = jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobDone || j.Attempts != 2 || j.Error != nil {
		t.Fatalf("after retry: %s %+v attempts %d", j.State, j.Error, j.Attempts)
	}
	// The new versions' effects, and only those of the planned scripts.
	if got := jobsTestRead(t, env.sim, "pve1", vmid, "root/app"); got != "app-v2\n" {
		t.Errorf("/root/app = %q", got)
	}
	if got := jobsTestRead(t, env.sim, "pve1", vmid, "root/after"); got != "after-v3\n" {
		t.Errorf("/root/after = %q", got)
	}
	if got := jobsTestRead(t, env.sim, "pve1", vmid, "root/runs"); got != "base-v1\n" {
		t.Errorf("completed script ran again or changed: /root/runs = %q", got)
	}
	if _, err := os.Stat(filepath.Join(env.sim.Node("pve1").ContainerDir(vmid), "root/off")); !os.IsNotExist(err) {
		t.Errorf("a script the wizard left off ran: %v", err)
	}

	// The saved plan is what ran: order and set from the wizard, new content
	// for the scripts that had not completed.
	saved, _ := jobsRetrySavedPlan(t, db, env.user.ID, jobID)
	var names []string
	for _, sc := range saved.Scripts {
		names = append(names, sc.Name)
	}
	if !slices.Equal(names, []string{"10-base.sh", "20-app.sh", "30-after.sh"}) {
		t.Fatalf("saved scripts %v", names)
	}
	if saved.Scripts[0].Content != plan.Scripts[0].Content || saved.Scripts[1].Content != tmpl.Scripts[2].Content || saved.Scripts[2].Content != tmpl.Scripts[1].Content {
		t.Errorf("saved script contents %+v", saved.Scripts)
	}
	if saved.VMID != vmid || saved.TemplateID != tmpl.ID || !reflect.DeepEqual(saved.Create, plan.Create) {
		t.Errorf("saved plan changed beyond the scripts: %+v", saved)
	}

	// The log and the retry event say which scripts came from the template.
	texts := strings.Join(jobsRetryLogTexts(t, env.runner, env.user.ID, jobID), "\n")
	for _, name := range []string{"20-app.sh", "30-after.sh"} {
		if !strings.Contains(texts, "Using the template's current version of "+name) {
			t.Errorf("log does not mention the refreshed %s:\n%s", name, texts)
		}
	}
	if strings.Contains(texts, "current version of 10-base.sh") {
		t.Error("log says the completed script was refreshed")
	}
	evs, _ := db.ContainerEvents(ctx, env.user.ID, env.node.ID, vmid, []string{store.EventRetried}, 0)
	// Newest first.
	if len(evs) != 2 || strings.Contains(evs[1].Message, "current version") || !strings.Contains(evs[0].Message, "using the template's current version of 20-app.sh, 30-after.sh") {
		t.Errorf("retried events %+v", evs)
	}
	// Completed steps did not run again.
	started, _ := db.ContainerEvents(ctx, env.user.ID, env.node.ID, vmid, []string{store.EventStepStarted}, 0)
	count := map[string]int{}
	for _, e := range started {
		count[e.Data["step"]]++
	}
	for _, key := range []string{provision.StepCreate, provision.StepStart, "script:0"} {
		if count[key] != 1 {
			t.Errorf("step %s started %d times", key, count[key])
		}
	}
	if count["script:1"] != 3 || count["script:2"] != 1 {
		t.Errorf("script steps started %v", count)
	}
	res = c.get("/jobs/" + jobID)
	if res.Doc.Find(`[data-testid="job-template-changed"]`).Length() != 0 || res.Doc.Find(`[data-testid="job-ready"]`).Length() != 1 {
		t.Error("a finished job's page still offers the template's changes, or is not ready")
	}
}

// TestJobs_TemplateEditLeavesDoneJob: editing the template of a finished
// job changes nothing about it, even when the user presses Retry.
func TestJobs_TemplateEditLeavesDoneJob(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	db := env.srv.DB
	const vmid = 191
	tmpl := jobsRetryTemplate(t, db, env.user.ID, "Stable app",
		store.Script{Name: "20-app.sh", Enabled: true, Content: "echo v1 > /root/version\n"})
	jobID, err := env.runner.Start(ctx, jobsRetryPlan(env, tmpl, vmid, "stable", "20-app.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID); j.State != store.JobDone {
		t.Fatalf("job %s: %+v", j.State, j.Error)
	}
	_, before := jobsRetrySavedPlan(t, db, env.user.ID, jobID)

	tmpl.Scripts[0].Content = "echo v2 > /root/version\n"
	if _, err := db.UpdateTemplate(ctx, env.user.ID, tmpl); err != nil {
		t.Fatal(err)
	}
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	res := c.get("/jobs/" + jobID)
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="job-template-changed"]`).Length() != 0 {
		t.Error("a finished job's page notes the template's change")
	}
	expectStatus(t, c.post("/jobs/"+jobID+"/retry", nil), http.StatusSeeOther)
	if err := env.runner.Retry(ctx, env.user.ID, jobID); err == nil {
		t.Error("a finished job was retried")
	}
	if loc := location(t, c.get("/jobs/"+jobID+"/retry-template")); loc != "/jobs/"+jobID {
		t.Errorf("review of a finished job went to %s", loc)
	}
	changes, _ := env.runner.TemplateChanges(ctx, env.user.ID, jobID)
	expectStatus(t, c.post("/jobs/"+jobID+"/retry-template", url.Values{"changes": {provision.ChangesDigest(changes)}}), http.StatusSeeOther)
	j, err := env.runner.Job(ctx, env.user.ID, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != store.JobDone || j.Attempts != 0 {
		t.Errorf("job after the edit: %s attempts %d", j.State, j.Attempts)
	}
	if _, after := jobsRetrySavedPlan(t, db, env.user.ID, jobID); string(after) != string(before) {
		t.Errorf("saved plan changed:\n%s\n%s", before, after)
	}
	if got := jobsTestRead(t, env.sim, "pve1", vmid, "root/version"); got != "v1\n" {
		t.Errorf("/root/version = %q", got)
	}
	if texts := strings.Join(jobsRetryLogTexts(t, env.runner, env.user.ID, jobID), "\n"); strings.Contains(texts, "current version") {
		t.Errorf("log mentions the template:\n%s", texts)
	}
}

// TestJobs_RetryWithoutTemplateKeepsPlan: a plan made from scratch (even
// when some template has a script of the same name) and a plan whose
// template was deleted retry exactly what they saved.
func TestJobs_RetryWithoutTemplateKeepsPlan(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	db := env.srv.DB
	const flagged = "if [ ! -f /etc/ready-flag ]; then echo 'the flag is missing' >&2; exit 5; fi\necho saved > /root/ran\n"
	// A template with a script of the same name that must never be used.
	jobsRetryTemplate(t, db, env.user.ID, "Other", store.Script{Name: "20-app.sh", Enabled: true, Content: "echo hijacked > /root/ran\n"})
	gone := jobsRetryTemplate(t, db, env.user.ID, "Gone", store.Script{Name: "20-app.sh", Enabled: true, Content: flagged})

	scratch := jobsTestPlan(env.user, env.node, 192, "scratch")
	scratch.Scripts = []store.Script{{Name: "20-app.sh", Content: flagged}}
	fromGone := jobsRetryPlan(env, gone, 193, "orphan", "20-app.sh")
	var ids []string
	for _, p := range []store.Plan{scratch, fromGone} {
		id, err := env.runner.Start(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var before [][]byte
	for _, id := range ids {
		if j := jobsTestWaitEnd(t, env.runner, env.user.ID, id); j.State != store.JobFailed || j.Error == nil || j.Error.ExitCode != 5 {
			t.Fatalf("job %s: %+v", j.State, j.Error)
		}
		_, raw := jobsRetrySavedPlan(t, db, env.user.ID, id)
		before = append(before, raw)
	}
	if err := db.DeleteTemplate(ctx, env.user.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	for i, vmid := range []int{192, 193} {
		jobsTestWrite(t, env.sim, "pve1", vmid, "etc/ready-flag", "ok\n")
		res := c.get("/jobs/" + ids[i])
		expectStatus(t, res, http.StatusOK)
		if res.Doc.Find(`[data-testid="job-template-changed"]`).Length() != 0 {
			t.Errorf("CT %d: template change noted", vmid)
		}
		expectStatus(t, c.post("/jobs/"+ids[i]+"/retry", nil), http.StatusSeeOther)
	}
	for i, vmid := range []int{192, 193} {
		j := jobsTestWaitEnd(t, env.runner, env.user.ID, ids[i])
		if j.State != store.JobDone || j.Attempts != 1 {
			t.Fatalf("CT %d after retry: %s %+v attempts %d", vmid, j.State, j.Error, j.Attempts)
		}
		if got := jobsTestRead(t, env.sim, "pve1", vmid, "root/ran"); got != "saved\n" {
			t.Errorf("CT %d ran %q", vmid, got)
		}
		if _, after := jobsRetrySavedPlan(t, db, env.user.ID, ids[i]); string(after) != string(before[i]) {
			t.Errorf("CT %d: saved plan changed", vmid)
		}
		if texts := strings.Join(jobsRetryLogTexts(t, env.runner, env.user.ID, ids[i]), "\n"); strings.Contains(texts, "current version") {
			t.Errorf("CT %d log mentions a template:\n%s", vmid, texts)
		}
	}
}
