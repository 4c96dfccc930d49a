package handlers_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/exec/provision"
	"corral/store"
)

const jobsTestAppScript = `set -euo pipefail
log_info "Installing myapp on $CONTAINER_OS $CONTAINER_OS_VERSION"
mkdir -p /opt/myapp
cat > /opt/myapp/run.sh <<'END'
#!/bin/bash
exec node /opt/myapp/server.js
END
chmod +x /opt/myapp/run.sh
cat > /etc/systemd/system/myapp.service <<'END'
[Unit]
Description=My App

[Service]
Environment=PORT=3000
ExecStart=/opt/myapp/run.sh

[Install]
WantedBy=multi-user.target
END
systemctl daemon-reload && systemctl enable --now myapp
save_credential myapp MYAPP_PASSWORD "$(generate_password 20)"
save_credential myapp MYAPP_USER admin
save_credential myapp MYAPP_USER admin2
log_warn "myapp installed"
`

// TestJobs_EndToEnd creates a container through the whole pipeline against
// pvesim over real HTTPS and SSH and checks every effect inside it.
func TestJobs_EndToEnd(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 150
	// Files a user left in the container before this provisioning run:
	// placed right after the create task, before the deploy step.
	env.cache.onCreated = func(id int) {
		jobsTestWrite(t, env.sim, "pve1", id, "etc/myapp/keep.conf", "edited by the user\n")
		jobsTestWrite(t, env.sim, "pve1", id, "etc/myapp/backed.conf", "old\n")
		jobsTestWrite(t, env.sim, "pve1", id, "etc/myapp/same.conf", "same\n")
	}
	plan := jobsTestPlan(env.user, env.node, vmid, "app")
	plan.Files = []store.File{
		{Name: "app.conf", TargetDir: "/etc/myapp", Policy: "replace", Mode: "0640", Owner: "root:root", Content: "port=3000\n"},
		{Name: "keep.conf", TargetDir: "/etc/myapp", Policy: "default", Content: "template default\n"},
		{Name: "new.conf", TargetDir: "/etc/myapp", Policy: "default", Content: "fresh\n"},
		{Name: "backed.conf", TargetDir: "/etc/myapp", Policy: "backup", Content: "new\n"},
		{Name: "same.conf", TargetDir: "/etc/myapp", Policy: "replace", Content: "same\n"},
	}
	plan.Packages = []store.Package{
		{Manager: "apt", Name: "nginx"},
		{Manager: "apt", Name: "curl"},
		{Manager: "npm", Name: "pm2"},
		{Manager: "pip", Name: "flask"},
		{Manager: "custom", Name: "tool", Check: "test -x /usr/local/bin/tool", Install: "printf '#!/bin/sh\\necho tool\\n' > /usr/local/bin/tool && chmod +x /usr/local/bin/tool"},
		{Manager: "custom", Name: "present", Check: "true", Install: "echo SHOULD-NOT-RUN; exit 1"},
	}
	plan.Scripts = []store.Script{
		{Name: "10-user.sh", Content: "set -eu\nlog_info \"PATH is $PATH\"\nuseradd -m -s /bin/bash coder\nis_installed nginx\n"},
		{Name: "20-app.sh", Content: jobsTestAppScript},
		{Name: "30-check.sh", Content: "test \"$CONTAINER_USER\" = coder\nlog_info \"user $CONTAINER_USER ready\"\n"},
	}

	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobDone {
		t.Fatalf("job %s at %s: %+v", j.State, j.Step, j.Error)
	}
	if len(j.Done) != len(provision.Steps(plan)) {
		t.Fatalf("done steps %v, plan %d steps", j.Done, len(provision.Steps(plan)))
	}

	// Files, by policy.
	read := func(p string) string { return jobsTestRead(t, env.sim, "pve1", vmid, p) }
	if got := read("etc/myapp/app.conf"); got != "port=3000\n" {
		t.Errorf("replace: %q", got)
	}
	if got := read("etc/myapp/keep.conf"); got != "edited by the user\n" {
		t.Errorf("default kept a user's edit? %q", got)
	}
	if got := read("etc/myapp/new.conf"); got != "fresh\n" {
		t.Errorf("default on a missing file: %q", got)
	}
	if got := read("etc/myapp/backed.conf"); got != "new\n" {
		t.Errorf("backup: %q", got)
	}
	backups, _ := filepath.Glob(filepath.Join(env.sim.Node("pve1").ContainerDir(vmid), "etc/myapp/backed.conf.backup-*"))
	if len(backups) != 1 {
		t.Fatalf("backups = %v", backups)
	}
	if b, _ := os.ReadFile(backups[0]); string(b) != "old\n" {
		t.Errorf("backup copy = %q", b)
	}
	if st, err := os.Stat(filepath.Join(env.sim.Node("pve1").ContainerDir(vmid), "etc/myapp/app.conf")); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("app.conf mode %v %v", st.Mode(), err)
	}

	// Packages of all four managers.
	state := read(".pvesim-state.json")
	for _, want := range []string{"nginx", "curl", "pm2", "flask"} {
		if !strings.Contains(state, want) {
			t.Errorf("package %s not recorded as installed", want)
		}
	}
	if got := read("usr/local/bin/tool"); !strings.Contains(got, "echo tool") {
		t.Errorf("custom package: %q", got)
	}

	// Scripts: helpers, credentials, services; temporary files gone.
	cred := read("etc/corral/credentials/myapp")
	if strings.Count(cred, "MYAPP_USER=") != 1 || !strings.Contains(cred, "MYAPP_USER=admin2\n") || !strings.Contains(cred, "MYAPP_PASSWORD=") {
		t.Errorf("credential file:\n%s", cred)
	}
	if st, err := os.Stat(filepath.Join(env.sim.Node("pve1").ContainerDir(vmid), "etc/corral/credentials/myapp")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("credential file mode %v %v", st.Mode(), err)
	}
	for _, tmp := range []string{"tmp/.corral-helpers.sh", "tmp/.corral-script-0.sh", "tmp/.corral-script-1.sh"} {
		if _, err := os.Stat(filepath.Join(env.sim.Node("pve1").ContainerDir(vmid), tmp)); !os.IsNotExist(err) {
			t.Errorf("%s left behind (%v)", tmp, err)
		}
	}
	svcs := map[string]store.Service{}
	for _, s := range j.Services {
		svcs[s.Name] = s
	}
	if s := svcs["myapp"]; !slices.Equal(s.Ports, []int{3000}) || !slices.Equal(s.CredentialKeys, []string{"MYAPP_PASSWORD", "MYAPP_USER"}) {
		t.Errorf("myapp service = %+v (all: %+v)", s, j.Services)
	}
	if s := svcs["nginx"]; !slices.Contains(s.Ports, 80) {
		t.Errorf("nginx service = %+v", s)
	}

	// The log holds the scripts' output, tagged by script, without secrets.
	entries, err := env.runner.Log(ctx, env.user.ID, jobID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sawInfo, sawWarn, sawPath bool
	for i, e := range entries {
		if e.Seq != uint64(i+1) {
			t.Fatalf("log seq %d at %d", e.Seq, i)
		}
		sawInfo = sawInfo || (e.Script == "20-app.sh" && strings.Contains(e.Text, "[INFO   ] Installing myapp on debian 12"))
		sawWarn = sawWarn || (e.Script == "20-app.sh" && strings.Contains(e.Text, "[WARNING] myapp installed"))
		sawPath = sawPath || strings.Contains(e.Text, "PATH is /usr/local/sbin:/usr/local/bin:")
		if strings.Contains(e.Text, "SHOULD-NOT-RUN") {
			t.Errorf("custom install ran although its check passed: %q", e.Text)
		}
	}
	if !sawInfo || !sawWarn || !sawPath {
		t.Errorf("helper output missing: info %v warn %v path %v", sawInfo, sawWarn, sawPath)
	}

	// Typed events of the container, and its record.
	evs, err := env.srv.DB.ContainerEvents(ctx, env.user.ID, env.node.ID, vmid, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range evs {
		count[e.Type]++
		if e.JobID != jobID {
			t.Errorf("event %+v not linked to the job", e)
		}
	}
	if count[store.EventReady] != 1 || count[store.EventScriptDone] != 3 || count[store.EventStepDone] != len(provision.Steps(plan)) ||
		count[store.EventStepStarted] != len(provision.Steps(plan)) || count[store.EventServiceReady] < 2 || count[store.EventError] != 0 {
		t.Errorf("event counts %v", count)
	}
	cts, _ := env.srv.DB.Containers(ctx, env.user.ID)
	if len(cts) != 1 || cts[0].Lifecycle != store.LifecycleReady || cts[0].JobID != jobID || cts[0].VMID != vmid {
		t.Errorf("containers = %+v", cts)
	}
	if !slices.Equal(env.cache.created, []int{vmid}) {
		t.Errorf("VMID cache noted %v", env.cache.created)
	}

	// The progress page.
	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	res := c.get("/jobs/" + jobID)
	expectStatus(t, res, http.StatusOK)
	if st, _ := res.Doc.Find(`[data-testid="job-status"]`).Attr("data-state"); st != "done" {
		t.Errorf("page state %q", st)
	}
	if href, _ := res.Doc.Find(`[data-testid="job-container-link"]`).Attr("href"); href != "/containers/"+env.node.ID+"/150" {
		t.Errorf("container link %q", href)
	}
	if res.Doc.Find(`[data-testid="job-services"] [data-service="myapp"]`).Length() != 1 {
		t.Errorf("myapp not listed on the page")
	}
	if res.Doc.Find(`[data-testid="job"][sse-connect]`).Length() != 0 {
		t.Errorf("a finished job's page still opens a stream")
	}
	filtered := c.get("/jobs/" + jobID + "?script=20-app.sh")
	lines := filtered.Doc.Find(`#job-log-lines .logline`)
	if lines.Length() == 0 {
		t.Fatal("filtered log is empty")
	}
	lines.Each(func(_ int, s *goquery.Selection) {
		if sc, _ := s.Attr("data-script"); sc != "20-app.sh" {
			t.Errorf("filtered log shows a line of %q", sc)
		}
	})
}
