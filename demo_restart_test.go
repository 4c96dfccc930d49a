package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// demoCreate creates a container from scratch through the wizard's forms,
// as a person does, and returns its detail page's path once it is ready.
func demoCreate(t *testing.T, d *demoRun, host string) string {
	t.Helper()
	doc := demoPost(t, d.hc, d.base+"/containers/new", demoForm(t, demoGet(t, d.hc, d.base+"/containers/new")), func(v url.Values) {
		v.Set("template", "scratch")
		v.Set("step", "configure")
	})
	doc = demoPost(t, d.hc, d.base+"/containers/new", demoForm(t, doc), func(v url.Values) {
		v.Set("hostname", host)
		v.Set("step", "review")
	})
	res := demoSubmit(t, d.hc, d.base+"/containers", demoForm(t, doc), nil)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Request.URL.Path, "/jobs/") {
		t.Fatalf("creating ended at %s with %d", res.Request.URL, res.StatusCode)
	}
	page := demoJobEnd(t, d.hc, res.Request.URL.String())
	if state, _ := page.Find(`[data-testid="job-status"]`).Attr("data-state"); state != "done" {
		t.Fatalf("the job ended %q:\n%s", state, demoLogTail(page))
	}
	href, _ := page.Find(`[data-testid="job-container-link"]`).Attr("href")
	return href
}

// demoNodeRows is the node names on the nodes page, with their addresses.
func demoNodeRows(t *testing.T, d *demoRun) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	demoGet(t, d.hc, d.base+"/settings/nodes").Find(`[data-testid="node-row"]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("data-node-name")
		rows[name] = append(rows[name], strings.TrimSpace(s.Find(`[data-testid="node-addr"]`).Text()))
	})
	return rows
}

// TestDemoRestartComesBackWhole runs `corral demo --data DIR` twice on one
// directory (issue 14, bug 8: the second run pointed at the first run's
// dead ports, said "Cannot reach pve1" beside running containers and
// showed the containers it had created as unknown). The simulator keeps
// its estate in the data directory, so the second run has the same nodes
// once each, reachable, and the container the first run created, running.
func TestDemoRestartComesBackWhole(t *testing.T) {
	dir := t.TempDir()
	first := demoStart(t, "--data", dir)
	detail := demoCreate(t, first, "kept")
	vmid := path.Base(detail)
	before := demoNodeRows(t, first)
	first.stop()

	second := demoStart(t, "--data", dir)
	after := demoNodeRows(t, second)
	if len(after) != 4 {
		t.Errorf("nodes after the restart: %v", after)
	}
	for _, name := range []string{"pve1", "pve2", "pve3", "pve-solo"} {
		if len(after[name]) != 1 {
			t.Errorf("node %s listed %d times: %v", name, len(after[name]), after)
		}
	}
	for name, addrs := range before {
		if strings.Join(after[name], ",") != strings.Join(addrs, ",") {
			t.Logf("node %s moved from %v to %v (its old port was taken)", name, addrs, after[name])
		}
	}

	dash := demoGet(t, second.hc, second.base+"/containers")
	if p := dash.Find(`[data-testid="node-problem"]`); p.Length() > 0 {
		t.Errorf("the dashboard reports node problems: %s", strings.Join(strings.Fields(p.Text()), " "))
	}
	card := dash.Find(`[data-testid="ct-card"][data-vmid="` + vmid + `"]`)
	if st := strings.TrimSpace(card.Find(`[data-testid="ct-status"]`).Text()); card.Length() != 1 || st != "running" {
		t.Errorf("CT %s after the restart: %d card(s), status %q", vmid, card.Length(), st)
	}
	page := demoGet(t, second.hc, second.base+detail)
	if st := strings.TrimSpace(page.Find(`[data-testid="detail-status"]`).Text()); st != "running" {
		t.Errorf("detail of CT %s says %q: %s", vmid, st, strings.Join(strings.Fields(page.Find(`[data-testid="detail-stale"]`).Text()), " "))
	}
	if n := dash.Find(`[data-testid="ct-card"][data-vmid="100"]`).Length(); n != 2 {
		t.Errorf("the seeded CT 100 shows %d times (pve1's pihole and pve-solo's backup)", n)
	}
}

// TestDemoRestartWithoutSavedEstate: a data directory whose simulated
// estate was not saved (the demo before it was, or the file removed), with
// a node the user renamed: the records are repointed at the new simulator
// and re-pinned, the renamed node is not added twice, and the container
// the simulator no longer has is gone from Corral, its job saying so.
func TestDemoRestartWithoutSavedEstate(t *testing.T) {
	dir := t.TempDir()
	first := demoStart(t, "--data", dir)
	detail := demoCreate(t, first, "lost")
	vmid := path.Base(detail)
	first.stop()

	if err := os.Remove(filepath.Join(dir, "pvesim", "pvesim-state.json")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := openStore(Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.UserByName(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	nodes, _ := db.Nodes(ctx, u.ID)
	var jobID string
	for _, n := range nodes {
		if n.Name == "pve2" {
			n.Name = "pve2b"
			if _, err := db.UpdateNode(ctx, u.ID, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	cts, _ := db.Containers(ctx, u.ID)
	for _, c := range cts {
		jobID = c.JobID
	}
	db.Close()

	second := demoStart(t, "--data", dir)
	after := demoNodeRows(t, second)
	if len(after) != 4 || len(after["pve2b"]) != 1 || len(after["pve2"]) != 0 {
		t.Errorf("nodes after the restart: %v", after)
	}
	dash := demoGet(t, second.hc, second.base+"/containers")
	if p := dash.Find(`[data-testid="node-problem"]`); p.Length() > 0 {
		t.Errorf("the dashboard reports node problems: %s", strings.Join(strings.Fields(p.Text()), " "))
	}
	if card := dash.Find(`[data-testid="ct-card"][data-vmid="` + vmid + `"]`); card.Length() != 0 {
		t.Errorf("the lost CT %s is still shown: %s", vmid, strings.Join(strings.Fields(card.Text()), " "))
	}
	if n := dash.Find(`[data-testid="ct-card"][data-node="pve2b"]`).Length(); n == 0 {
		t.Error("the renamed node shows no containers")
	}
	job := demoGet(t, second.hc, second.base+"/jobs/"+jobID)
	if got := job.Find(`[data-testid="job-gone"]`).Text(); !strings.Contains(got, "was deleted") {
		t.Errorf("the lost container's job says %q", strings.Join(strings.Fields(got), " "))
	}
}
