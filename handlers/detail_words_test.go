package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/store"
)

// TestDetailChartsSayWhatTheyShow: a flat zero line reads "peak 0.0%",
// not the top of its scale, and memory's peak is set against its limit.
func TestDetailChartsSayWhatTheyShow(t *testing.T) {
	st := containersTestStart(t)
	peaks := func(path string) []string {
		res := st.c.get(path)
		expectStatus(t, res, http.StatusOK)
		var out []string
		res.Doc.Find(`[data-testid="chart-peak"]`).Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
		if len(out) != 2 {
			t.Fatalf("%s: peaks %q", path, out)
		}
		return out
	}
	stopped := peaks("/containers/" + st.pve2.ID + "/102")
	if stopped[0] != "peak 0.0%" || !strings.HasPrefix(stopped[1], "peak 0 B of ") {
		t.Errorf("stopped container: %q", stopped)
	}
	running := peaks("/containers/" + st.pve1.ID + "/101")
	if running[0] == "peak 0.0%" || !strings.HasPrefix(running[0], "peak ") {
		t.Errorf("running CPU: %q", running[0])
	}
	used, limit, ok := strings.Cut(strings.TrimPrefix(running[1], "peak "), " of ")
	if !ok || used == limit || limit != "256.0 MiB" {
		t.Errorf("running memory: %q (the peak is what was used, set against the 256 MiB limit)", running[1])
	}
	res := st.c.get("/containers/" + st.pve1.ID + "/101")
	if cpu := res.Doc.Find(`[data-testid="usage-CPU"]`).Text(); !strings.Contains(cpu, "of 1 core") || strings.Contains(cpu, "cores") {
		t.Errorf("usage %q", cpu)
	}
}

// TestDetailEventsInWords: the timeline and its filters name events the
// way a person would, and hide internal details.
func TestDetailEventsInWords(t *testing.T) {
	st := containersTestStart(t)
	ctx := context.Background()
	expectStatus(t, lifecycleTestPost(t, st.c, st.pve1, "101", "reboot", nil), http.StatusOK)
	for _, e := range []store.Event{
		{Type: store.EventStepStarted, Message: "Installing packages", Data: map[string]string{"step": "packages", "log_seq": "7"}},
		{Type: store.EventServices, Data: map[string]string{store.ServicesDataKey: store.EncodeServices([]store.Service{{Name: "nginx", Ports: []int{80}}})}},
	} {
		e.UserID, e.NodeID, e.VMID = st.alice.ID, st.pve1.ID, 101
		if _, err := st.s.DB.AppendEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	res := st.c.get("/containers/" + st.pve1.ID + "/101?tab=events")
	expectStatus(t, res, http.StatusOK)
	var labels []string
	res.Doc.Find(`[data-testid="event-label"]`).Each(func(_ int, s *goquery.Selection) { labels = append(labels, s.Text()) })
	if got := strings.Join(labels, ","); got != "Services found,Step started,Rebooted" {
		t.Errorf("labels %q", got)
	}
	if f := res.Doc.Find(`[data-testid="event-filter-step_started"]`).Text(); f != "Step started (1)" {
		t.Errorf("filter %q", f)
	}
	body := res.Doc.Find(`[data-testid="events-panel"]`).Text()
	for _, bad := range []string{"step_started", "log_seq", "service(s)"} {
		if strings.Contains(body, bad) {
			t.Errorf("the timeline shows %q:\n%s", bad, body)
		}
	}
	for _, want := range []string{"1 service", "mqtt (CT 101) rebooted."} {
		if !strings.Contains(body, want) {
			t.Errorf("the timeline lacks %q", want)
		}
	}
}
