package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestServicesWithoutJavaScript uses the Services tab as a browser without
// JavaScript would: plain form posts and gets, read from the page itself.
// Each answer is the container's whole detail page on the Services tab with
// the row open, never a bare fragment.
func TestServicesWithoutJavaScript(t *testing.T) {
	st := containersTestStart(t)
	detailTestInstall(t, st, "pve1", 101)
	base := "/containers/" + st.pve1.ID + "/101"
	nginx := `[data-service="nginx"]`

	// Refresh: a 303 back to the Services tab, which lists nginx.
	st.c.get(base + "?tab=services")
	res := st.c.post(base+"/services/refresh", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != base+"?tab=services" {
		t.Fatalf("refresh redirects to %q", loc)
	}
	res = st.c.get(res.Header.Get("Location"))
	expectStatus(t, res, http.StatusOK)
	servicesTestFullPage(t, res)
	if f := res.Doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(f, "Services refreshed") {
		t.Errorf("flash %q", f)
	}
	if res.Doc.Find(nginx).Length() != 1 {
		t.Fatalf("nginx not listed after refresh:\n%s", res.Body)
	}
	if strings.Contains(res.Body, "hunter2") {
		t.Fatal("credential shown before reveal")
	}

	// Reveal: the page again, nginx's row showing its credentials.
	reveal := res.Doc.Find(nginx + ` form:has([data-testid="reveal-credentials"])`)
	if m, _ := reveal.Attr("method"); m != "post" {
		t.Fatalf("reveal form method %q", m)
	}
	action, _ := reveal.Attr("action")
	res = st.c.post(action, servicesTestFields(reveal))
	expectStatus(t, res, http.StatusOK)
	servicesTestFullPage(t, res)
	if v := res.Doc.Find(nginx + ` [data-testid="credential-value"]`).Text(); !strings.Contains(v, "hunter2") {
		t.Fatalf("revealed %q:\n%s", v, res.Body)
	}
	if res.Doc.Find(`[data-testid="credential-value"]`).Length() != 2 {
		t.Errorf("%d credential values on the page, want nginx's 2", res.Doc.Find(`[data-testid="credential-value"]`).Length())
	}
	// Revealing is one answer, not a state: the tab shows none afterwards.
	if again := st.c.get(base + "?tab=services"); strings.Contains(again.Body, "hunter2") {
		t.Fatal("the Services tab still shows the credential")
	}

	// Show logs: a plain link, answered by the page with nginx's logs.
	href, ok := res.Doc.Find(nginx + ` a[data-testid="show-logs"]`).Attr("href")
	if !ok {
		t.Fatalf("no Show logs link for nginx:\n%s", res.Body)
	}
	res = st.c.get(href)
	expectStatus(t, res, http.StatusOK)
	servicesTestFullPage(t, res)
	if l := res.Doc.Find(nginx + ` [data-testid="service-logs"]`).Text(); !strings.Contains(l, "nginx") {
		t.Fatalf("logs %q:\n%s", l, res.Body)
	}

	// A failed read: still the page, the reason in the Services panel.
	expectStatus(t, lifecycleTestPost(t, st.c, st.pve1, "101", "stop", nil), http.StatusOK)
	st.c.get(base + "?tab=services")
	res = st.c.post(base+"/services/nginx/credentials", nil)
	expectStatus(t, res, http.StatusBadGateway)
	servicesTestFullPage(t, res)
	if e := res.Doc.Find(`[data-testid="services-error"]`).Text(); !strings.Contains(e, "Could not read the credentials of nginx") {
		t.Fatalf("error %q:\n%s", e, res.Body)
	}

	// Someone else's container is not found, with or without JavaScript.
	st.s.withUser(t, "bob", "battery staple")
	bob := st.s.client(t)
	bob.login("bob", "battery staple")
	expectStatus(t, bob.get(base+"/services/nginx/logs"), http.StatusNotFound)
	expectStatus(t, bob.post(base+"/services/nginx/credentials", nil), http.StatusNotFound)
}

// servicesTestFullPage fails unless res is the whole detail page (layout,
// header, tabs) with the Services tab open.
func servicesTestFullPage(t *testing.T, res *response) {
	t.Helper()
	for _, sel := range []string{
		`meta[name="csrf-token"]`, `[data-testid="nav-containers"]`, `[data-testid="detail-header"]`,
		`[data-testid="tab-services"][aria-current="page"]`, `[data-testid="services-panel"]`,
	} {
		if res.Doc.Find(sel).Length() != 1 {
			t.Fatalf("%s %s: no %s in the answer:\n%s", res.Request.Method, res.Request.URL.Path, sel, res.Body)
		}
	}
}

// servicesTestFields are the named inputs of form, as a browser sends them.
func servicesTestFields(form *goquery.Selection) url.Values {
	v := url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		val, _ := in.Attr("value")
		v.Add(name, val)
	})
	return v
}
