package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/exec/provision"
	"corral/store"
)

// payload is what the other account tries to get run as root in alice's
// container.
const payload = "echo pwned > /root/pwned\n"

// isolationNoPayload fails the test when the payload ran in CT vmid.
func isolationNoPayload(t *testing.T, env *jobsTestEnv, vmid int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(env.sim.Node("pve1").ContainerDir(vmid), "root/pwned")); !os.IsNotExist(err) {
		t.Fatalf("the other account's payload ran in CT %d: %v", vmid, err)
	}
}

// TestTemplates_OtherAccountCannotTouch is the reported attack, end to end
// (issue 13): bob opens, edits, deletes, shares, copies and exports alice's
// template and changes her package bucket, by id, through every route; all
// of it is not found, and nothing of his reaches her. Once she shares the
// template he may read and copy it, never change it, and what he writes
// into his copy never runs in her failed job's retry.
func TestTemplates_OtherAccountCannotTouch(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	db := env.srv.DB
	alice := env.user
	env.srv.withUser(t, "bob", "bob-password-1")
	const vmid = 194
	tmpl := jobsRetryTemplate(t, db, alice.ID, "Alice's app",
		store.Script{Name: "10-base.sh", Enabled: true, Content: "echo base > /root/base\n"},
		store.Script{Name: "20-app.sh", Enabled: true, Content: "echo 'app config is missing' >&2\nexit 3\n"},
	)
	bucket, err := db.CreatePackageBucket(ctx, alice.ID, "alice tools", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddBucketPackages(ctx, alice.ID, bucket.ID, store.Package{Manager: store.ManagerApt, Name: "curl"}); err != nil {
		t.Fatal(err)
	}
	jobID, err := env.runner.Start(ctx, jobsRetryPlan(env, tmpl, vmid, "alice-app", "10-base.sh", "20-app.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if j := jobsTestWaitEnd(t, env.runner, alice.ID, jobID); j.State != store.JobFailed {
		t.Fatalf("alice's job %s: %+v", j.State, j.Error)
	}

	bob := env.srv.client(t)
	bob.login("bob", "bob-password-1")
	edit := url.Values{"action": {"save"}, "name": {"Alice's app"}, "os_template": {"debian-12-standard"}, "unprivileged": {"on"},
		"scripts.0.name": {"10-base.sh"}, "scripts.0.content": {payload}, "scripts.0.enabled": {"on"},
		"scripts.1.name": {"20-app.sh"}, "scripts.1.content": {payload}, "scripts.1.enabled": {"on"}}
	notFound := func(res *response) {
		t.Helper()
		expectStatus(t, res, http.StatusNotFound)
	}
	bob.get("/templates")
	for _, path := range []string{"", "/edit", "/export", "/delete"} {
		notFound(bob.get("/templates/" + tmpl.ID + path))
	}
	notFound(bob.post("/templates/"+tmpl.ID+"/edit", edit))
	notFound(bob.post("/templates/"+tmpl.ID+"/delete", nil))
	notFound(bob.post("/templates/"+tmpl.ID+"/share", url.Values{"shared": {"1"}}))
	notFound(bob.post("/templates/"+tmpl.ID+"/copy", nil))
	bp := "/templates/buckets/" + bucket.ID
	notFound(bob.post(bp, url.Values{"name": {"mine now"}}))
	notFound(bob.post(bp+"/import", url.Values{"manager": {"custom"}, "packages": {"x||" + strings.TrimSpace(payload)}}))
	notFound(bob.post(bp+"/remove", url.Values{"manager": {"apt"}, "name": {"curl"}}))
	notFound(bob.get(bp + "/delete"))
	notFound(bob.post(bp+"/delete", nil))
	notFound(bob.get("/jobs/" + jobID))
	notFound(bob.post("/jobs/"+jobID+"/retry", nil))
	notFound(bob.get("/jobs/" + jobID + "/retry-template"))
	notFound(bob.post("/jobs/"+jobID+"/retry-template", url.Values{"changes": {"x"}}))
	if res := bob.get("/templates"); strings.Contains(res.Body, "Alice&#39;s app") || strings.Contains(res.Body, tmpl.ID) {
		t.Error("bob's template list shows alice's private template")
	}
	if res := bob.get("/templates/buckets"); strings.Contains(res.Body, "alice tools") {
		t.Error("bob's bucket page shows alice's bucket")
	}
	// Ticking alice's bucket id on his own template form copies nothing.
	res := bob.post("/templates/new", url.Values{"action": {"copy-buckets"}, "name": {"Bob's"}, "bucket": {bucket.ID}})
	expectStatus(t, res, http.StatusOK)
	if got := res.Doc.Find(`[name="packages.apt"]`).Text(); got != "" {
		t.Errorf("alice's bucket packages reached bob's form: %q", got)
	}

	got, err := db.Template(ctx, alice.ID, tmpl.ID)
	if err != nil || got.Name != tmpl.Name || got.Scripts[1].Content != tmpl.Scripts[1].Content || got.Shared {
		t.Fatalf("alice's template after bob's tries: %+v %v", got, err)
	}
	if b, err := db.PackageBucket(ctx, alice.ID, bucket.ID); err != nil || b.Name != "alice tools" || len(b.Packages) != 1 {
		t.Fatalf("alice's bucket after bob's tries: %+v %v", b, err)
	}

	// Alice shares it: bob reads it, read-only, and copies it.
	aliceC := env.srv.client(t)
	aliceC.login("alice", "alice-password-1")
	expectStatus(t, aliceC.post("/templates/"+tmpl.ID+"/share", url.Values{"shared": {"1"}}), http.StatusSeeOther)
	res = bob.get("/templates/" + tmpl.ID)
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="template-edit"], [data-testid="template-delete"], [data-testid="template-share-form"]`).Length() != 0 {
		t.Error("bob is offered to change alice's shared template")
	}
	if got := strings.TrimSpace(res.Doc.Find(`[data-testid="template-origin"]`).Text()); got != "shared by alice" {
		t.Errorf("origin %q", got)
	}
	if res.Doc.Find(`[data-testid="template-copy"]`).Length() != 1 {
		t.Error("no copy button on a shared template")
	}
	for _, path := range []string{"/edit", "/delete"} {
		notFound(bob.get("/templates/" + tmpl.ID + path))
	}
	notFound(bob.post("/templates/"+tmpl.ID+"/edit", edit))
	notFound(bob.post("/templates/"+tmpl.ID+"/delete", nil))
	notFound(bob.post("/templates/"+tmpl.ID+"/share", url.Values{"shared": {"0"}}))
	expectStatus(t, bob.get("/templates/"+tmpl.ID+"/export"), http.StatusOK)
	loc := location(t, bob.post("/templates/"+tmpl.ID+"/copy", nil))
	copyID := strings.TrimPrefix(loc, "/templates/")
	if copyID == tmpl.ID {
		t.Fatal("the copy is alice's template")
	}
	// Bob puts his payload into his copy: that is his to do.
	location(t, bob.post("/templates/"+copyID+"/edit", edit))
	if mine, _ := db.Template(ctx, userNamed(t, env.srv, "bob").ID, copyID); mine.Scripts[1].Content != payload {
		t.Fatalf("bob's copy %+v", mine)
	}

	// Alice's failed job: no change to offer, a plain retry runs what she
	// reviewed, and nothing bob wrote.
	res = aliceC.get("/jobs/" + jobID)
	if res.Doc.Find(`[data-testid="job-template-changed"]`).Length() != 0 {
		t.Error("alice is offered changes she did not make")
	}
	if diffs, _ := jobsRetryDiff(t, aliceC, jobID, http.StatusOK); len(diffs) != 0 {
		t.Errorf("review shows changes: %q", diffs)
	}
	expectStatus(t, aliceC.post("/jobs/"+jobID+"/retry", nil), http.StatusSeeOther)
	if j := jobsTestWaitEnd(t, env.runner, alice.ID, jobID); j.State != store.JobFailed || j.Error == nil || j.Error.ExitCode != 3 {
		t.Fatalf("alice's retry: %s %+v", j.State, j.Error)
	}
	isolationNoPayload(t, env, vmid)

	// Alice fixes her own template; the review shows only her change.
	fixed := got
	fixed.Scripts[1].Content = "echo fixed > /root/app\n"
	if _, err := db.UpdateTemplate(ctx, alice.ID, fixed); err != nil {
		t.Fatal(err)
	}
	diffs, digest := jobsRetryDiff(t, aliceC, jobID, http.StatusOK)
	if len(diffs) != 1 || strings.Contains(strings.Join(diffs["20-app.sh"], "\n"), "pwned") || !strings.Contains(strings.Join(diffs["20-app.sh"], "\n"), "+ echo fixed > /root/app") {
		t.Fatalf("alice's review %q", diffs)
	}
	expectStatus(t, aliceC.post("/jobs/"+jobID+"/retry-template", url.Values{"changes": {digest}}), http.StatusSeeOther)
	if j := jobsTestWaitEnd(t, env.runner, alice.ID, jobID); j.State != store.JobDone {
		t.Fatalf("alice's reviewed retry: %s %+v", j.State, j.Error)
	}
	if got := jobsTestRead(t, env.sim, "pve1", vmid, "root/app"); got != "fixed\n" {
		t.Errorf("/root/app = %q", got)
	}
	isolationNoPayload(t, env, vmid)
}

// TestJobs_SharedTemplateRetryRunsSnapshot: alice built a container from
// bob's shared template. When bob changes it, alice is offered nothing,
// her retry runs what she reviewed, and no digest makes it run bob's new
// version: "retry with the template's current version" is only for the
// template's owner.
func TestJobs_SharedTemplateRetryRunsSnapshot(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	db := env.srv.DB
	bob := env.srv.withUser(t, "bob", "bob-password-1")
	const vmid = 195
	flagged := "if [ ! -f /etc/ready-flag ]; then echo 'the flag is missing' >&2; exit 5; fi\necho reviewed > /root/ran\n"
	shared := jobsRetryTemplate(t, db, bob.ID, "Bob's shared", store.Script{Name: "20-app.sh", Enabled: true, Content: flagged})
	if _, err := db.ShareTemplate(ctx, bob.ID, shared.ID, true); err != nil {
		t.Fatal(err)
	}
	// Alice sees it in the wizard, marked as bob's.
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	res := c.get("/containers/new")
	choice := res.Doc.Find(`[data-testid="template-choice"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Find(`input[value="`+shared.ID+`"]`).Length() == 1
	})
	if got := strings.TrimSpace(choice.Find(`[data-testid="template-origin"]`).Text()); got != "shared by bob" {
		t.Fatalf("wizard choice for bob's template: %q", got)
	}

	jobID, err := env.runner.Start(ctx, jobsRetryPlan(env, shared, vmid, "from-bob", "20-app.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID); j.State != store.JobFailed || j.Error == nil || j.Error.ExitCode != 5 {
		t.Fatalf("job %s: %+v", j.State, j.Error)
	}
	shared.Scripts[0].Content = payload
	if _, err := db.UpdateTemplate(ctx, bob.ID, shared); err != nil {
		t.Fatal(err)
	}

	res = c.get("/jobs/" + jobID)
	if res.Doc.Find(`[data-testid="job-template-changed"], [data-testid="job-retry-template"]`).Length() != 0 {
		t.Error("alice is offered bob's new version")
	}
	diffs, digest := jobsRetryDiff(t, c, jobID, http.StatusOK)
	if len(diffs) != 0 || digest != "" {
		t.Errorf("review of bob's change: %q %q", diffs, digest)
	}
	// Even the digest of bob's actual change runs nothing.
	forged := provision.ChangesDigest([]provision.ScriptChange{{Index: 0, Name: "20-app.sh", Planned: flagged, Current: payload}})
	expectStatus(t, c.post("/jobs/"+jobID+"/retry-template", url.Values{"changes": {forged}}), http.StatusConflict)
	if j, _ := env.runner.Job(ctx, env.user.ID, jobID); j.State != store.JobFailed || j.Attempts != 0 {
		t.Fatalf("the forged review ran the job: %s attempts %d", j.State, j.Attempts)
	}

	jobsTestWrite(t, env.sim, "pve1", vmid, "etc/ready-flag", "ok\n")
	expectStatus(t, c.post("/jobs/"+jobID+"/retry", nil), http.StatusSeeOther)
	if j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID); j.State != store.JobDone {
		t.Fatalf("retry: %s %+v", j.State, j.Error)
	}
	if got := jobsTestRead(t, env.sim, "pve1", vmid, "root/ran"); got != "reviewed\n" {
		t.Errorf("/root/ran = %q", got)
	}
	isolationNoPayload(t, env, vmid)
}
