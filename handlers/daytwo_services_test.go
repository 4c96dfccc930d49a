package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestDayTwoServiceActions stops, starts and restarts a unit from the
// Services tab: each asks first (a page without JavaScript), is audited,
// and the tab shows the unit's state afterwards.
func TestDayTwoServiceActions(t *testing.T) {
	e := dayTwoStart(t)
	const vmid = 101
	detailTestInstall(t, e.containersTestSetup, "pve1", vmid)
	expectStatus(t, e.c.post(e.ctURL(vmid, "/services/refresh"), nil), http.StatusSeeOther)
	nginx := `[data-service="nginx"]`
	page := e.c.get(e.ctURL(vmid, "?tab=services"))
	if page.Doc.Find(nginx+` [data-testid="service-restart"]`).Length() != 1 || page.Doc.Find(nginx+` [data-testid="service-start"]`).Length() != 0 {
		t.Fatalf("controls of a running unit:\n%s", page.Doc.Find(nginx).Text())
	}
	stop := page.Doc.Find(nginx + ` [data-testid="service-stop"]`)
	href, _ := stop.Attr("href")
	if q, _ := stop.Attr("data-confirm"); !strings.Contains(q, "Stop nginx in CT 101?") {
		t.Errorf("stop asks %q", q)
	}
	confirm := e.c.get(href)
	expectStatus(t, confirm, http.StatusOK)
	if ok := confirm.Doc.Find(`[data-testid="confirm-page-ok"]`).Text(); ok != "Stop nginx" {
		t.Errorf("confirm page button %q", ok)
	}

	// Stop, as a plain form post: back to the tab, with the unit stopped.
	res := e.c.post(href, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "?tab=services") {
		t.Fatalf("stop: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	page = e.c.get(e.ctURL(vmid, "?tab=services"))
	if flash := page.Doc.Find(`[data-testid="flash"]`).Text(); flash != "nginx stopped." {
		t.Errorf("flash %q", flash)
	}
	if page.Doc.Find(nginx+` [data-testid="service-start"]`).Length() != 1 {
		t.Fatalf("a stopped unit offers no Start:\n%s", page.Doc.Find(`[data-testid="services-panel"]`).Text())
	}

	// Start and restart through the dialog's htmx post: the panel comes back.
	res = e.c.post(e.ctURL(vmid, "/services/nginx/start"), nil, "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="services-panel"] `+nginx+` [data-testid="service-restart"]`).Length() != 1 {
		t.Fatalf("panel after start:\n%s", res.Body)
	}
	if !strings.Contains(res.Header.Get("HX-Trigger"), "nginx started.") {
		t.Errorf("toast %q", res.Header.Get("HX-Trigger"))
	}
	res = e.c.post(e.ctURL(vmid, "/services/nginx/restart"), nil, "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	logs := e.c.get(e.ctURL(vmid, "/services/nginx/logs?lines=50"), "HX-Request", "true")
	if !strings.Contains(logs.Body, "Stopping nginx") {
		t.Errorf("the journal shows no restart:\n%s", logs.Body)
	}
	for _, a := range []string{"stop", "start", "restart"} {
		if !e.audited(t, "container.service."+a, "nginx") {
			t.Errorf("%s not audited", a)
		}
	}

	t.Run("Refusals", func(t *testing.T) {
		expectStatus(t, e.c.post(e.ctURL(vmid, "/services/nginx/explode"), nil), http.StatusNotFound)
		expectStatus(t, e.c.get(e.ctURL(vmid, "/services/nginx/reload")), http.StatusNotFound)
		expectStatus(t, e.c.post(e.ctURL(vmid, "/services/-rf/restart"), nil), http.StatusBadRequest)
		res := e.c.post(e.ctURL(vmid, "/services/nope/start"), nil, "HX-Request", "true")
		expectStatus(t, res, http.StatusBadGateway)
		if !strings.Contains(res.Body, "Unit nope.service not found") {
			t.Errorf("a unit that is not there: %s", res.Body)
		}
		expectStatus(t, e.c.post(e.ctURL(102, "/services/nginx/restart"), nil), http.StatusNotFound) // 102 is on pve2
	})
}
