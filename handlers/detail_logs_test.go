package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestServiceLogsPanel: the panel answers with its lines and turns the
// toggle to Hide; a followed panel reloads only its lines; Hide turns it
// back; without JavaScript the logs are a page with a way back.
func TestServiceLogsPanel(t *testing.T) {
	st := containersTestStart(t)
	detailTestInstall(t, st, "pve1", 101)
	logs := "/containers/" + st.pve1.ID + "/101/services/nginx/logs"

	res := st.c.get(logs+"?lines=50&follow=1", "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if v, _ := res.Doc.Find(`[data-testid="logs-lines"] option[selected]`).Attr("value"); v != "50" {
		t.Errorf("selected line count %q", v)
	}
	if res.Doc.Find(`[data-testid="logs-follow"][checked]`).Length() != 1 {
		t.Error("follow not kept")
	}
	view := res.Doc.Find(`[data-testid="log-view"]`)
	if trig, _ := view.Attr("hx-trigger"); trig != "every 3s" {
		t.Errorf("followed view trigger %q", trig)
	}
	if get, _ := view.Attr("hx-get"); !strings.Contains(get, "view=1") || !strings.Contains(get, "follow=1") || !strings.Contains(get, "lines=50") {
		t.Errorf("followed view reloads %q", get)
	}
	if oob, _ := res.Doc.Find(`[data-testid="hide-logs"]`).Attr("hx-swap-oob"); oob != "true" {
		t.Error("the toggle is not turned to Hide")
	}

	res = st.c.get(logs+"?lines=50&follow=1&view=1", "HX-Request", "true")
	if res.Doc.Find(`[data-testid="log-view"]`).Length() != 1 || res.Doc.Find(`form`).Length() != 0 {
		t.Errorf("a reload of the lines sends more than the lines:\n%s", res.Body)
	}

	res = st.c.get(logs+"?hide=1", "HX-Request", "true")
	if res.Doc.Find(`[data-testid="show-logs"]`).Length() != 1 || res.Doc.Find(`[data-testid="log-view"]`).Length() != 0 {
		t.Errorf("hide:\n%s", res.Body)
	}

	// Without JavaScript: the detail page on the Services tab, the logs
	// open in the service's row, with no live follow to offer.
	res = st.c.get(logs + "?lines=9999&follow=1")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="detail-header"]`).Length() != 1 || res.Doc.Find(`[data-testid="log-view"]`).Length() != 1 ||
		res.Doc.Find(`[data-testid="logs-follow"]`).Length() != 0 || res.Doc.Find(`[data-testid="hide-logs"]`).Length() != 1 {
		t.Errorf("logs page:\n%s", res.Body)
	}
	if v, _ := res.Doc.Find(`[data-testid="logs-lines"] option[selected]`).Attr("value"); v != "200" {
		t.Errorf("9999 lines capped to %q", v)
	}
	if trig, ok := res.Doc.Find(`[data-testid="log-view"]`).Attr("hx-trigger"); ok {
		t.Errorf("the page polls without JavaScript to run it: %q", trig)
	}
}
