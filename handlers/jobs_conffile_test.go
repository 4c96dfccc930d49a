package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"corral/exec/provision"
	"corral/handlers"
	"corral/store"
)

// TestJobs_TemplateShipsPackageConffile: a template that ships nginx's site
// file and installs nginx ends ready, keeping the template's file. Files
// are deployed before packages by design, so dpkg finds a conffile it did
// not expect; without --force-confdef/--force-confold it asks, and with no
// terminal under pct exec it fails ("end of file on stdin at conffile
// prompt", as pvesim's guest answers like Debian's dpkg).
func TestJobs_TemplateShipsPackageConffile(t *testing.T) {
	var runner *provision.Runner
	e := newWizardEnv(t, func(d *handlers.Deps) {
		runner, _ = jobsTestRunner(t, d.Nodes.(*store.DB), nil)
		d.Provisioner = runner
	})
	const site = "server {\n\tlisten 80 default_server;\n\troot /srv/site;\n}\n"
	const upgrades = "Unattended-Upgrade::Origins-Pattern { \"origin=Debian\"; };\n"
	tmpl, err := e.DB.CreateTemplate(context.Background(), e.user.ID, store.Template{
		Name: "Own nginx site", OSTemplate: "debian-12-standard", Features: store.Features{Unprivileged: true},
		Files: []store.File{
			{Name: "default", TargetDir: "/etc/nginx/sites-available", Policy: store.PolicyReplace, Content: site},
			{Name: "50unattended-upgrades", TargetDir: "/etc/apt/apt.conf.d", Policy: store.PolicyReplace, Content: upgrades},
		},
		Packages: []store.Package{{Manager: store.ManagerApt, Name: "nginx"}},
		// The helper a script installs with meets the same question.
		Scripts: []store.Script{{Name: "10-upgrades.sh", Content: "ensure_installed unattended-upgrades\n", Enabled: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := e.walkToConfigure(t, tmpl.ID)
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "site"); v.Set("step", "review") })
	expectStatus(t, res, http.StatusOK)
	wizardAt(t, res, "review")
	j := jobsCreateFromReview(t, e, runner, res)
	if got := jobsTestRead(t, e.sim, "pve1", j.Plan.VMID, "etc/nginx/sites-available/default"); got != site {
		t.Errorf("the template's site file was replaced:\n%s", got)
	}
	if got := jobsTestRead(t, e.sim, "pve1", j.Plan.VMID, "etc/nginx/sites-available/default.dpkg-dist"); !strings.Contains(got, "server") {
		t.Errorf("the package's own version is not beside it: %q", got)
	}
	if got := jobsTestRead(t, e.sim, "pve1", j.Plan.VMID, "etc/apt/apt.conf.d/50unattended-upgrades"); got != upgrades {
		t.Errorf("ensure_installed replaced the template's file:\n%s", got)
	}
}

// jobsCreateFromReview confirms the wizard's Review and waits for the job
// the real runner then runs; it must end ready.
func jobsCreateFromReview(t *testing.T, e *wizardEnv, runner *provision.Runner, review *response) store.Job {
	t.Helper()
	res := e.step(t, review, func(v url.Values) { v.Set("create", "1") })
	expectStatus(t, res, http.StatusSeeOther)
	jobID := strings.TrimPrefix(res.Header.Get("Location"), "/jobs/")
	j := jobsTestWaitEnd(t, runner, e.user.ID, jobID)
	if j.State != store.JobDone {
		t.Fatalf("job %s at %s: %+v", j.State, j.Step, j.Error)
	}
	return j
}
