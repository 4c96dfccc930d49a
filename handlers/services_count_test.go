package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
)

// TestServicesTabCountFollowsSwaps: the count on the Services tab comes
// along, out of band, with every services panel htmx swaps in (Refresh and
// a service action), and says what the panel lists.
func TestServicesTabCountFollowsSwaps(t *testing.T) {
	st := containersTestStart(t)
	detailTestInstall(t, st, "pve1", 101)
	base := mqttPath(st)
	if n := st.c.get(base + "?tab=services").Doc.Find(`[data-testid="tab-services"] .badge`).Text(); n != "0" {
		t.Fatalf("before any discovery the tab counts %q", n)
	}
	for _, path := range []string{"/services/refresh", "/services/nginx/restart"} {
		res := st.c.post(base+path, nil, "HX-Request", "true")
		expectStatus(t, res, http.StatusOK)
		listed := res.Doc.Find(`[data-testid="services-panel"] [data-testid="service"]`).Length()
		if listed == 0 {
			t.Fatalf("%s: the panel lists nothing:\n%s", path, res.Body)
		}
		count := res.Doc.Find(`#services-count[hx-swap-oob="true"]`)
		if count.Length() != 1 || count.Text() != strconv.Itoa(listed) {
			t.Errorf("%s: the tab's count in the answer is %q (%d), the panel lists %d:\n%s", path, count.Text(), count.Length(), listed, res.Body)
		}
		if !strings.HasPrefix(res.Doc.Find(`[data-testid="services-panel"] p.muted`).First().Text(), strconv.Itoa(listed)+" service") {
			t.Errorf("%s: the panel says %q", path, res.Doc.Find(`[data-testid="services-panel"] p.muted`).First().Text())
		}
	}
}

// TestBrowserServicesTabCount: after Refresh finds services, the tab's
// count says how many, without a reload.
func TestBrowserServicesTabCount(t *testing.T) {
	d := startDashBrowser(t)
	detailTestInstall(t, d.containersTestSetup, "pve1", 101)
	b := d.b
	b.Run(
		chromedp.Navigate(d.s.URL+"/containers/"+d.pve1.ID+"/101?tab=services"),
		browsertest.Ready(`[data-testid="services-refresh"]`),
	)
	const tabCount = `[data-testid="tab-services"] .badge`
	if n := browsertest.Get(b, chromedp.Text(tabCount)); n != "0" {
		t.Fatalf("before any discovery the tab counts %q", n)
	}
	b.Run(browsertest.Click(`[data-testid="services-refresh"]`))
	b.WaitTrue(`document.querySelector('[data-service="nginx"]') !== null && document.querySelectorAll('.badge#services-count').length === 1 &&
		document.querySelector('` + tabCount + `')?.textContent === String(document.querySelectorAll('#services-panel [data-testid="service"]').length)`)
	if n := browsertest.Get(b, chromedp.Text(tabCount)); n == "0" {
		t.Fatal("the tab still counts 0")
	}
	d.noCSPViolations(t)
}
