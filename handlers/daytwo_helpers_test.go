package handlers_test

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"corral/handlers"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
)

// dayTwoEnv is the demo estate with alice's three nodes, her browser-like
// client, and a Proxmox client of "someone else" working in the Proxmox
// UI at the same time.
type dayTwoEnv struct {
	*containersTestSetup
	other *proxmox.Client // pve1's API, outside Corral
}

func dayTwoStart(t *testing.T) *dayTwoEnv {
	t.Helper()
	return newDayTwoEnv(t, containersTestStart(t, dayTwoDeps(t)))
}

// dayTwoDeps polls the simulator's tasks often and checks VMIDs as serve does.
func dayTwoDeps(t *testing.T) testDeps {
	return func(d *handlers.Deps) {
		log := slog.New(slog.DiscardHandler)
		// Tasks of the simulator end at once; poll them as often.
		d.Proxmox = clusters.NewClients(log, proxmox.WithPollInterval(20*time.Millisecond))
		vmids := clusters.NewVMIDs(proxmox.NewMemVMIDStore(nil), clusters.NewReader(d.Proxmox), d.Nodes.(*store.DB), log)
		t.Cleanup(vmids.Close)
		d.VMIDs = vmids
	}
}

// newDayTwoEnv adds the outside Proxmox client to alice's estate.
func newDayTwoEnv(t *testing.T, st *containersTestSetup) *dayTwoEnv {
	t.Helper()
	other, err := proxmox.New(clusters.Config(st.pve1), proxmox.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	return &dayTwoEnv{containersTestSetup: st, other: other}
}

// ctURL is the page of a container of pve1.
func (e *dayTwoEnv) ctURL(vmid int, rest string) string {
	return "/containers/" + e.pve1.ID + "/" + strconv.Itoa(vmid) + rest
}

// config reads a pve1 container's configuration the way Proxmox has it.
func (e *dayTwoEnv) config(t *testing.T, vmid int) proxmox.LXCConfig {
	t.Helper()
	cfg, err := e.other.LXCConfig(t.Context(), "pve1", vmid)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// formOf collects the fields of the form selected by sel in a page, as a
// browser would post them with the button named step.
func formOf(t *testing.T, res *response, sel, step string) url.Values {
	t.Helper()
	form := res.Doc.Find(sel)
	if form.Length() == 0 {
		t.Fatalf("no form %s in:\n%s", sel, res.Body)
	}
	v := url.Values{}
	form.Find("input, textarea, select").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if name == "" {
			return
		}
		typ, _ := s.Attr("type")
		switch {
		case goquery.NodeName(s) == "textarea":
			v.Add(name, s.Text())
		case goquery.NodeName(s) == "select":
			opt := s.Find("option[selected]")
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			val, _ := opt.Attr("value")
			v.Add(name, val)
		case typ == "checkbox" || typ == "radio":
			if _, on := s.Attr("checked"); on {
				val, ok := s.Attr("value")
				if !ok {
					val = "on"
				}
				v.Add(name, val)
			}
		case typ == "submit":
		default:
			val, _ := s.Attr("value")
			v.Add(name, val)
		}
	})
	if step != "" {
		v.Set("step", step)
	}
	return v
}

// waitTask follows the redirect of an action to its task page and reloads
// it until the task stopped; it returns the last page.
func (e *dayTwoEnv) waitTask(t *testing.T, res *response) *response {
	t.Helper()
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !strings.Contains(loc, "/tasks/") {
		t.Fatalf("want a redirect to a task page, got %d %q:\n%s", res.StatusCode, loc, res.Body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		page := e.c.get(loc)
		expectStatus(t, page, 200)
		if state, _ := page.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "running" {
			return page
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s never stopped", loc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEvent waits until the container has an event of type typ, which a
// day-two task records when it ends (and then releases the container).
func (e *dayTwoEnv) waitEvent(t *testing.T, n store.Node, vmid int, typ string) store.Event {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		evs, err := e.s.DB.ContainerEvents(context.Background(), e.alice.ID, n.ID, vmid, []string{typ}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 {
			return evs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("CT %d never got a %s event", vmid, typ)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// audited reports whether alice's audit log has an entry of kind whose
// detail contains detail.
func (e *dayTwoEnv) audited(t *testing.T, kind, detail string) bool {
	t.Helper()
	list, err := e.s.DB.AuditEntries(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Kind == kind && strings.Contains(a.Detail, detail) {
			return true
		}
	}
	return false
}
