package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"corral/exec"
	"corral/exec/access"
	"corral/exec/provision"
	"corral/handlers"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
)

// featuresTestConfig reads a container's config through the API, as
// Corral's token sees it.
func featuresTestConfig(t *testing.T, n store.Node, vmid int) proxmox.LXCConfig {
	t.Helper()
	api, err := clusters.NewClients(slog.New(slog.DiscardHandler))(n)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := api.LXCConfig(context.Background(), n.PVENodeName, vmid)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// featuresTestFlags parses a features property string into its set flags.
func featuresTestFlags(s string) []string {
	var on []string
	for _, kv := range strings.Split(s, ",") {
		if k, v, _ := strings.Cut(kv, "="); v == "1" {
			on = append(on, k)
		}
	}
	slices.Sort(on)
	return on
}

// featuresTestDockerPlan is a Docker-host-like plan: unprivileged, nesting
// and keyctl.
func featuresTestDockerPlan(u store.User, n store.Node, vmid int, host string) store.Plan {
	p := jobsTestPlan(u, n, vmid, host)
	p.Create.Keyctl = true
	return p
}

// TestJobs_KeyctlSetAsRoot: the API refuses keyctl to a token, so the job
// creates with nesting only, sets keyctl with pct set before the start,
// and ends ready with both flags in the container's config.
func TestJobs_KeyctlSetAsRoot(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	const vmid = 240
	plan := featuresTestDockerPlan(env.user, env.node, vmid, "dockerish")
	jobID, err := env.runner.Start(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, env.runner, env.user.ID, jobID)
	if j.State != store.JobDone {
		t.Fatalf("job %s at %s: %+v", j.State, j.Step, j.Error)
	}
	if i, k := slices.Index(j.Done, provision.StepFeatures), slices.Index(j.Done, provision.StepStart); i < 0 || k < i {
		t.Fatalf("steps done %v: features must run before start", j.Done)
	}
	cfg := featuresTestConfig(t, env.node, vmid)
	if got := featuresTestFlags(cfg["features"]); !slices.Equal(got, []string{"keyctl", "nesting"}) {
		t.Fatalf("features %q", cfg["features"])
	}
	log, _ := env.runner.Log(ctx, env.user.ID, jobID, 0)
	found := false
	for _, e := range log {
		found = found || (e.Step == provision.StepFeatures && e.Text == "pct set 240 --features nesting=1,keyctl=1")
	}
	if !found {
		t.Error("the pct set command is not in the job log")
	}
}

// featuresTestBlockingShell really runs pct set, then hangs until Corral
// stops, as a crash right after the command would leave it.
type featuresTestBlockingShell struct {
	*exec.Host
	entered chan struct{}
	once    *sync.Once
}

func (s featuresTestBlockingShell) SetFeatures(ctx context.Context, vmid int, f string, stdout, stderr io.Writer) (int, error) {
	code, err := s.Host.SetFeatures(ctx, vmid, f, stdout, stderr)
	if err != nil || code != 0 {
		return code, err
	}
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	return 255, ctx.Err()
}

// TestJobs_RecoverMidFeatures: Corral stops during the features step;
// setting flags is safe to repeat, so after the restart the job resumes
// there by itself and ends ready.
func TestJobs_RecoverMidFeatures(t *testing.T) {
	sim := startSim(t)
	ctx := context.Background()
	app := &jobsTestRestart{t: t, path: filepath.Join(t.TempDir(), "corral.db")}
	db, err := store.Open(app.path, store.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	app.db = db
	entered, once := make(chan struct{}), &sync.Once{}
	app.runner, app.stop = jobsTestRunner(t, db, nil, func(c *provision.Config) {
		c.Dial = func(ctx context.Context, n store.Node) (provision.Shell, error) {
			h, err := exec.Dial(ctx, access.HostTarget(n))
			if err != nil {
				return nil, err
			}
			return featuresTestBlockingShell{Host: h, entered: entered, once: once}, nil
		}
	})
	t.Cleanup(func() { app.stop(); app.db.Close() })
	u, err := db.CreateUser(ctx, "alice", "alice-password-1")
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.CreateNode(ctx, simNode(t, sim, u.ID, "pve1", "pve1"))
	if err != nil {
		t.Fatal(err)
	}
	const vmid = 241
	jobID, err := app.runner.Start(ctx, featuresTestDockerPlan(u, n, vmid, "crashfeat"))
	if err != nil {
		t.Fatal(err)
	}
	jobsTestWait(t, app.runner, u.ID, jobID, "inside the features step", func(j store.Job) bool {
		select {
		case <-entered:
			return j.Step == provision.StepFeatures
		default:
			return false
		}
	})
	if st := featuresTestStatus(t, n, vmid); st != "stopped" {
		t.Fatalf("container %s while its features are set; want stopped", st)
	}
	app.crash()

	app.start()
	if err := app.runner.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	j := jobsTestWaitEnd(t, app.runner, u.ID, jobID)
	if j.State != store.JobDone {
		t.Fatalf("after recovery: %s at %s, %+v", j.State, j.Step, j.Error)
	}
	if got := featuresTestFlags(featuresTestConfig(t, n, vmid)["features"]); !slices.Equal(got, []string{"keyctl", "nesting"}) {
		t.Fatalf("features after recovery %v", got)
	}
}

func featuresTestStatus(t *testing.T, n store.Node, vmid int) string {
	t.Helper()
	api, err := clusters.NewClients(slog.New(slog.DiscardHandler))(n)
	if err != nil {
		t.Fatal(err)
	}
	st, err := api.LXCStatus(context.Background(), n.PVENodeName, vmid)
	if err != nil {
		t.Fatal(err)
	}
	return st.Status
}

// featuresTestReview walks the wizard with template id to its Review.
func featuresTestReview(t *testing.T, e *wizardEnv, id string) *response {
	t.Helper()
	res := e.walkToConfigure(t, id)
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "docker1"); v.Set("step", "review") })
	expectStatus(t, res, http.StatusOK)
	wizardAt(t, res, "review")
	return res
}

// TestWizard_ReviewShowsRootFeatures: with keyctl on, the Review's create
// request carries only nesting, and the pct set command that follows is
// shown on its own line and as a step.
func TestWizard_ReviewShowsRootFeatures(t *testing.T) {
	e := newWizardEnv(t)
	tmpl := wizardTemplate("Dockerish", "debian-12-standard")
	tmpl.Features.Keyctl = true
	tmpl, err := e.DB.CreateTemplate(context.Background(), e.user.ID, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	res := featuresTestReview(t, e, tmpl.ID)
	params := map[string]string{}
	for _, sel := range res.Doc.Find(`[data-testid="create-param"]`).EachIter() {
		name, _ := sel.Attr("data-name")
		params[name] = sel.Find("td").Text()
	}
	if params["features"] != "nesting=1" || strings.Contains(res.Doc.Find(`[data-testid="review-params"] table`).Text(), "keyctl") {
		t.Fatalf("create request shows features %q (params %v)", params["features"], params)
	}
	want := "pct set 104 --features nesting=1,keyctl=1"
	if got := strings.TrimSpace(res.Doc.Find(`[data-testid="root-command"]`).Text()); got != want {
		t.Fatalf("root command line %q, want %q", got, want)
	}
	steps := wizardTexts(res.Doc, `[data-testid="review-step"]`)
	if len(steps) < 3 || !strings.HasSuffix(steps[1], want) || steps[2] != "Start the container" {
		t.Fatalf("steps %q", steps)
	}

	res = e.step(t, res, func(v url.Values) { v.Set("create", "1") })
	expectStatus(t, res, http.StatusSeeOther)
	p := e.rec.last(t)
	if !slices.Equal(provision.StepLabels(p), steps) || provision.FeaturesCommand(p) != want {
		t.Fatalf("plan steps %q, command %q", provision.StepLabels(p), provision.FeaturesCommand(p))
	}
}

// TestWizard_DockerHostBuiltinToReady creates a container from the
// built-in "Docker host" template (nesting + keyctl) through the wizard
// and the real provisioner, and checks it ends ready with both flags.
func TestWizard_DockerHostBuiltinToReady(t *testing.T) {
	var runner *provision.Runner
	e := newWizardEnv(t, func(d *handlers.Deps) {
		runner, _ = jobsTestRunner(t, d.Nodes.(*store.DB), nil)
		d.Provisioner = runner
	})
	ctx := context.Background()
	all, err := e.DB.Templates(ctx, e.user.ID, store.TemplateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(t store.Template) bool { return t.Name == "Docker host" && t.Source == store.SourceBuiltin })
	if i < 0 {
		t.Fatal("no built-in Docker host template")
	}
	res := featuresTestReview(t, e, all[i].ID)
	if res.Doc.Find(`[data-testid="root-command"]`).Length() != 1 {
		t.Fatal("the Review of Docker host shows no pct set command")
	}
	j := jobsCreateFromReview(t, e, runner, res)
	cfg := featuresTestConfig(t, e.node, j.Plan.VMID)
	if got := featuresTestFlags(cfg["features"]); !slices.Equal(got, []string{"keyctl", "nesting"}) {
		t.Fatalf("features %q", cfg["features"])
	}
	cts, _ := e.DB.Containers(ctx, e.user.ID)
	if len(cts) != 1 || cts[0].Lifecycle != store.LifecycleReady || cts[0].TemplateID != all[i].ID || cts[0].TemplateName != "Docker host" {
		t.Fatalf("containers %+v", cts)
	}
	// Everyone sees the built-ins, so the detail page links it.
	if text, link := detailTemplateFact(t, e.c, e.node, j.Plan.VMID); text != "Docker host" || link != "/templates/builtin-docker-host" {
		t.Errorf("Template fact %q → %q", text, link)
	}
}
