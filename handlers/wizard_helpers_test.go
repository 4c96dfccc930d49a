package handlers_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"corral/exec/provision"
	"corral/handlers"
	"corral/handlers/formtest"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

// wizardRecorder is a Provisioner that records the plans it is given.
type wizardRecorder struct {
	mu    sync.Mutex
	plans []store.Plan
}

func (r *wizardRecorder) Start(_ context.Context, p store.Plan) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.plans = append(r.plans, p)
	return "job-" + string(rune('0'+len(r.plans))), nil
}

// The recorder follows no jobs: every job is someone else's.
func (r *wizardRecorder) Job(context.Context, string, string) (store.Job, error) {
	return store.Job{}, store.ErrNotFound
}
func (r *wizardRecorder) Log(context.Context, string, string, uint64) ([]store.LogEntry, error) {
	return nil, store.ErrNotFound
}
func (r *wizardRecorder) Subscribe(string) (<-chan []store.LogEntry, func()) {
	ch := make(chan []store.LogEntry)
	close(ch)
	return ch, func() {}
}
func (r *wizardRecorder) Retry(context.Context, string, string) error  { return store.ErrNotFound }
func (r *wizardRecorder) Delete(context.Context, string, string) error { return store.ErrNotFound }
func (r *wizardRecorder) CheckGuest(context.Context, string, string) error {
	return store.ErrNotFound
}
func (r *wizardRecorder) TemplateChanges(context.Context, string, string) ([]provision.ScriptChange, error) {
	return nil, store.ErrNotFound
}
func (r *wizardRecorder) RetryWithTemplate(context.Context, string, string, string) error {
	return store.ErrNotFound
}

func (r *wizardRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.plans)
}

func (r *wizardRecorder) last(t *testing.T) store.Plan {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.plans) == 0 {
		t.Fatal("no plan was started")
	}
	return r.plans[len(r.plans)-1]
}

// wizardEnv is a signed-in user with the pve1 node of the demo estate and
// a template with packages of every manager, three scripts and a file.
type wizardEnv struct {
	*testServer
	sim  *pvesim.Sim
	c    *client
	user store.User
	node store.Node
	tmpl store.Template
	rec  *wizardRecorder
}

func newWizardEnv(t *testing.T, opts ...testDeps) *wizardEnv {
	t.Helper()
	return newWizardEnvWith(t, startSim(t), opts...)
}

// newWizardEnvWith is newWizardEnv on a given simulator.
func newWizardEnvWith(t *testing.T, sim *pvesim.Sim, opts ...testDeps) *wizardEnv {
	t.Helper()
	rec := &wizardRecorder{}
	base := func(d *handlers.Deps) {
		d.Provisioner = rec
		svc := clusters.NewVMIDs(proxmox.NewMemVMIDStore(nil), clusters.NewReader(d.Proxmox), d.Nodes.(clusters.AllNodeLister), nil)
		t.Cleanup(svc.Close)
		d.VMIDs = svc
	}
	s := newTestServer(t, append([]testDeps{base}, opts...)...)
	u := s.withUser(t, "alice", "correct horse")
	n := s.addSimNode(t, sim, u.ID, "pve1", "pve1")
	tmpl, err := s.DB.CreateTemplate(context.Background(), u.ID, wizardTemplate("Web stack", "debian-12-standard"))
	if err != nil {
		t.Fatal(err)
	}
	c := s.client(t)
	c.login("alice", "correct horse")
	return &wizardEnv{testServer: s, sim: sim, c: c, user: u, node: n, tmpl: tmpl, rec: rec}
}

func wizardTemplate(name, os string) store.Template {
	swap := 256
	return store.Template{
		Name: name, Description: "Packages of every kind", Tags: []string{"web"}, OSTemplate: os,
		Cores: 2, Memory: 1024, Swap: &swap, Disk: 10,
		Features: store.Features{Unprivileged: true, Nesting: true},
		Packages: []store.Package{
			{Manager: store.ManagerApt, Name: "curl"},
			{Manager: store.ManagerApt, Name: "vim"},
			{Manager: store.ManagerNpm, Name: "typescript"},
			{Manager: store.ManagerPip, Name: "requests"},
			{Manager: store.ManagerCustom, Name: "tool", Check: "command -v tool", Install: "echo tool > /usr/local/bin/tool"},
		},
		Scripts: []store.Script{
			{Name: "10-first.sh", Content: "echo first\n", Enabled: true},
			{Name: "20-second.sh", Content: "echo second\n", Enabled: true},
			{Name: "30-off.sh", Content: "echo off\n", Enabled: false},
		},
		Files: []store.File{{Name: "motd", TargetDir: "/etc", Policy: store.PolicyBackup, Mode: "0644", Content: "hello\n"}},
	}
}

// wizardForm reads the wizard form as a browser would submit it: hidden
// and text fields, ticked boxes and radios, chosen options, text areas.
func wizardForm(t *testing.T, doc *goquery.Document) url.Values {
	t.Helper()
	form := doc.Find("form#wizard")
	if form.Length() == 0 {
		t.Fatal("no wizard form on the page")
	}
	return formtest.Values(form)
}

// step posts the current form with changes applied and returns the answer.
func (e *wizardEnv) step(t *testing.T, res *response, change func(url.Values), headers ...string) *response {
	t.Helper()
	v := wizardForm(t, res.Doc)
	v.Del("_csrf")
	if change != nil {
		change(v)
	}
	path := "/containers/new"
	if v.Get("create") != "" {
		v.Del("create")
		path = "/containers"
	}
	return e.c.post(path, v, headers...)
}

func wizardGo(step string) func(url.Values) { return func(v url.Values) { v.Set("step", step) } }

// atStep fails unless the page shows the wizard at step.
func wizardAt(t *testing.T, res *response, step string) {
	t.Helper()
	if got, _ := res.Doc.Find("form#wizard").Attr("data-step"); got != step {
		errs := res.Doc.Find(`[data-testid="field-error"]`).Text()
		t.Fatalf("wizard at step %q, want %q (status %d; errors: %s)", got, step, res.StatusCode, errs)
	}
}

// fieldErr is the message shown under a field, or "".
func wizardFieldErr(res *response, field string) string {
	return strings.TrimSpace(res.Doc.Find(`[data-testid="field-error"][data-field="` + field + `"]`).Text())
}

// walkToConfigure opens the wizard and chooses template id.
func (e *wizardEnv) walkToConfigure(t *testing.T, template string) *response {
	t.Helper()
	res := e.c.get("/containers/new")
	expectStatus(t, res, http.StatusOK)
	wizardAt(t, res, "template")
	res = e.step(t, res, func(v url.Values) { v.Set("template", template); v.Set("step", "configure") })
	expectStatus(t, res, http.StatusOK)
	wizardAt(t, res, "configure")
	return res
}

// guestCount is how many guests the cluster of pve1 holds.
func (e *wizardEnv) guestCount(t *testing.T) int {
	t.Helper()
	api, err := clusters.NewClients(slog.New(slog.DiscardHandler))(e.node)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := api.ClusterResources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(proxmox.GuestsFromResources(rows))
}

// slowSim is the demo estate with tasks that take a while, so a test can
// see one running.
func slowSim(t *testing.T) *pvesim.Sim {
	t.Helper()
	return simtest.Demo(t, func(opts *pvesim.Options) { opts.TaskDuration = 2 * time.Second })
}
