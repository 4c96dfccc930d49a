package handlers_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSetupCreatesFirstAccountOnlyOnce(t *testing.T) {
	s := newTestServer(t)
	c := s.client(t)

	res := c.get("/")
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/setup" {
		t.Fatalf("fresh install should send / to /setup, got %q", loc)
	}
	expectStatus(t, c.get("/setup"), http.StatusOK)

	res = c.post("/setup", url.Values{"username": {"alice"}, "password": {"correct horse"}, "confirm": {"different"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.Doc.Find(`[data-testid="field-error"][data-field="confirm"]`).Text(), "differ") {
		t.Fatalf("mismatched passwords not explained: %s", res.Body)
	}
	if v, _ := res.Doc.Find(`input[name="username"]`).Attr("value"); v != "alice" {
		t.Fatalf("the username was not kept: %q", v)
	}

	// Every field's problem is shown at once (issue 14), next to its field.
	res = c.post("/setup", url.Values{"username": {"-alice"}, "password": {"short"}, "confirm": {"other"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	for field, want := range map[string]string{
		"username": "Username must start with a letter or digit.",
		"password": "Password must be at least 8 characters.",
		"confirm":  "The two passwords differ.",
	} {
		if got := strings.TrimSpace(res.Doc.Find(`[data-testid="field-error"][data-field="` + field + `"]`).Text()); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
		if v, _ := res.Doc.Find(`input[name="` + field + `"]`).Attr("aria-invalid"); v != "true" {
			t.Errorf("%s not marked invalid", field)
		}
	}
	if n, _ := s.DB.CountUsers(context.Background()); n != 0 {
		t.Fatalf("an invalid setup created %d account(s)", n)
	}

	// The rule in words, without the store's "invalid:" prefix.
	res = c.post("/setup", url.Values{"username": {"al ice"}, "password": {"correct horse"}, "confirm": {"correct horse"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := strings.TrimSpace(res.Doc.Find(`[data-testid="field-error"][data-field="username"]`).Text()); !strings.HasPrefix(got, "Username may contain only") || strings.Contains(got, "invalid") {
		t.Fatalf("bad username explained as %q", got)
	}

	res = c.post("/setup", url.Values{"username": {"alice"}, "password": {"correct horse"}, "confirm": {"correct horse"}})
	expectStatus(t, res, http.StatusSeeOther)
	res = c.get("/containers")
	expectStatus(t, res, http.StatusOK)
	if got := res.Doc.Find(`[data-testid="username"]`).Text(); got != "alice" {
		t.Fatalf("signed-in username = %q, want alice", got)
	}

	other := s.client(t)
	expectStatus(t, other.get("/setup"), http.StatusNotFound)
	other.get("/login")
	res = other.post("/setup", url.Values{"username": {"mallory"}, "password": {"12345678"}, "confirm": {"12345678"}})
	expectStatus(t, res, http.StatusNotFound)
	if n, _ := s.DB.CountUsers(context.Background()); n != 1 {
		t.Fatalf("users after second setup = %d, want 1", n)
	}
}

func TestLoginLogout(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	c := s.client(t)

	c.get("/login")
	res := c.post("/login", url.Values{"username": {"alice"}, "password": {"wrong password"}})
	expectStatus(t, res, http.StatusUnauthorized)
	if !strings.Contains(res.Doc.Find(`[data-testid="form-error"]`).Text(), "Wrong username or password") {
		t.Fatalf("bad password not explained: %s", res.Body)
	}
	if c.cookie("corral_session") != "" {
		t.Fatal("a failed login set a session cookie")
	}

	// Usernames are case-insensitive at sign-in too.
	res = c.post("/login", url.Values{"username": {"ALICE"}, "password": {"correct horse"}})
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/containers" {
		t.Fatalf("login redirect = %q", loc)
	}
	sid := c.cookie("corral_session")
	if sid == "" {
		t.Fatal("no session cookie after login")
	}
	res = c.get("/containers")
	expectStatus(t, res, http.StatusOK)

	res = c.post("/logout", nil)
	expectStatus(t, res, http.StatusSeeOther)
	expectStatus(t, c.get("/containers"), http.StatusSeeOther)

	// The old cookie is dead on the server, not only in this browser.
	replay := s.client(t)
	u, _ := url.Parse(s.URL)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: "corral_session", Value: sid}})
	res = replay.get("/containers")
	expectStatus(t, res, http.StatusSeeOther)
	if !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("replayed session not sent to login: %q", res.Header.Get("Location"))
	}

	entries, err := s.DB.AuditEntries(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, e := range entries {
		kinds[e.Kind] = e.Remote
	}
	for _, k := range []string{"login.failed", "login.ok", "logout"} {
		if r, ok := kinds[k]; !ok || !strings.HasPrefix(r, "127.0.0.1") {
			t.Errorf("audit %s missing or without remote address: %v", k, kinds)
		}
	}
}

func TestLoginRotatesSessionID(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	c := s.client(t)
	// An attacker-planted session id must not survive sign-in.
	u, _ := url.Parse(s.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "corral_session", Value: "planted-by-attacker"}})
	c.login("alice", "correct horse")
	first := c.cookie("corral_session")
	if first == "" || first == "planted-by-attacker" {
		t.Fatalf("session id not rotated: %q", first)
	}
	c.login("alice", "correct horse")
	if second := c.cookie("corral_session"); second == first {
		t.Fatal("signing in again kept the same session id")
	}
}

func TestLoginRateLimit(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	s.withUser(t, "bob", "battery staple")
	c := s.client(t)
	c.get("/login")
	for i := 0; i < 5; i++ {
		expectStatus(t, c.post("/login", url.Values{"username": {"alice"}, "password": {"guess"}}), http.StatusUnauthorized)
	}
	res := c.post("/login", url.Values{"username": {"alice"}, "password": {"correct horse"}})
	expectStatus(t, res, http.StatusTooManyRequests)
	if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 without a useful Retry-After: %q", ra)
	}
	if !strings.Contains(res.Doc.Find(`[data-testid="form-error"]`).Text(), "Too many failed sign-ins") {
		t.Fatalf("429 not explained: %s", res.Body)
	}
	// The same address is blocked for other accounts too.
	expectStatus(t, c.post("/login", url.Values{"username": {"bob"}, "password": {"battery staple"}}), http.StatusTooManyRequests)

	s.clock.Add(61 * time.Second)
	expectStatus(t, c.post("/login", url.Values{"username": {"alice"}, "password": {"correct horse"}}), http.StatusSeeOther)
}

func TestCSRFRefusesForgedRequests(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	c := s.client(t)

	c.get("/login")
	res := c.post("/login", url.Values{"username": {"alice"}, "password": {"correct horse"}, "_csrf": {""}})
	expectStatus(t, res, http.StatusForbidden)
	if c.cookie("corral_session") != "" {
		t.Fatal("a login without CSRF token signed in")
	}

	c.login("alice", "correct horse")
	for _, tok := range []string{"", "forged-token-forged-token-forged-token"} {
		res = c.post("/logout", url.Values{"_csrf": {tok}})
		expectStatus(t, res, http.StatusForbidden)
	}
	expectStatus(t, c.get("/containers"), http.StatusOK) // still signed in: nothing changed
}

// TestCSRFNotFromQuery: a token in the URL ends up in logs, history and
// Referer headers, so it is not accepted there, only from the form body
// or the header.
func TestCSRFNotFromQuery(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	c := s.client(t)
	c.login("alice", "correct horse")
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/logout?_csrf="+url.QueryEscape(c.csrf), strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	expectStatus(t, c.do(req), http.StatusForbidden)
	res := c.post("/logout?_csrf="+url.QueryEscape(c.csrf), url.Values{"_csrf": {""}})
	expectStatus(t, res, http.StatusForbidden)
	expectStatus(t, c.get("/containers"), http.StatusOK) // still signed in
	expectStatus(t, c.post("/logout", nil), http.StatusSeeOther)
}

func TestCSRFHeaderAccepted(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	c := s.client(t)
	c.login("alice", "correct horse")
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/logout", nil)
	req.Header.Set("X-CSRF-Token", c.csrf)
	req.Header.Set("HX-Request", "true")
	res := c.do(req)
	expectStatus(t, res, http.StatusNoContent)
	if res.Header.Get("HX-Redirect") != "/login" {
		t.Fatalf("HTMX logout should HX-Redirect to /login, got %q", res.Header.Get("HX-Redirect"))
	}
	expectStatus(t, c.get("/containers"), http.StatusSeeOther)
}

func TestPasswordChangeRevokesSessions(t *testing.T) {
	s := newTestServer(t)
	u := s.withUser(t, "alice", "correct horse")
	a, b := s.client(t), s.client(t)
	a.login("alice", "correct horse")
	b.login("alice", "correct horse")
	if err := s.DB.SetPassword(context.Background(), u.ID, "new battery staple"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, a.get("/containers"), http.StatusSeeOther)
	expectStatus(t, b.get("/containers"), http.StatusSeeOther)
	a.login("alice", "new battery staple")
}

func TestUnauthenticatedHTMXGetsRedirectHeader(t *testing.T) {
	s := newTestServer(t)
	c := s.client(t)
	res := c.get("/containers", "HX-Request", "true")
	expectStatus(t, res, http.StatusUnauthorized)
	if got := res.Header.Get("HX-Redirect"); !strings.HasPrefix(got, "/login") {
		t.Fatalf("HX-Redirect = %q, want /login", got)
	}
	res = c.get("/templates?tag=x")
	expectStatus(t, res, http.StatusSeeOther)
	if got := res.Header.Get("Location"); got != "/login?next=%2Ftemplates%3Ftag%3Dx" {
		t.Fatalf("plain redirect = %q", got)
	}
}

func TestLoginNextStaysOnSite(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	for _, tc := range []struct{ next, want string }{
		{"/templates", "/templates"},
		{"/containers?node=n1&status=running", "/containers?node=n1&status=running"},
		{"/templates/%2F%2Fevil.example", "/templates/%2F%2Fevil.example"}, // encoded: a path here
		{"//evil.example/", "/containers"},
		{"///evil.example/", "/containers"},
		{"https://evil.example", "/containers"},
		{"javascript:alert(1)", "/containers"},
		{"/\\evil.example", "/containers"},
		{"/\\/evil.example", "/containers"},
		{"\\\\evil.example", "/containers"},
		{"/templates\\..\\x", "/containers"},
		{"/\t/evil.example/x", "/containers"},
		{"/\t\t/evil.example", "/containers"},
		{"\t//evil.example", "/containers"},
		{"/\n/evil.example", "/containers"},
		{"/\r/evil.example", "/containers"},
		{"/\x00/evil.example", "/containers"},
		{"/\x7f/evil.example", "/containers"},
		{"/\u0085/evil.example", "/containers"},
		{"/ /evil.example", "/containers"},
		{"", "/containers"},
	} {
		c := s.client(t)
		c.get("/login")
		// url.Values sends a TAB as %09, a backslash as %5C.
		res := c.post("/login", url.Values{"username": {"alice"}, "password": {"correct horse"}, "next": {tc.next}})
		if got := res.Header.Get("Location"); got != tc.want {
			t.Errorf("next=%q redirected to %q, want %q", tc.next, got, tc.want)
		}
	}
	// The sign-in page does not carry a bad next into its form either.
	c := s.client(t)
	for raw, want := range map[string]string{
		"%2F%09%2Fevil.example%2Fx": "",
		"/%09/evil.example":         "",
		"%2F%5Cevil.example":        "",
		"%2Ftemplates%3Ftag%3Dx":    "/templates?tag=x",
	} {
		res := c.get("/login?next=" + raw)
		got, _ := res.Doc.Find(`input[name="next"]`).Attr("value")
		if got != want {
			t.Errorf("GET /login?next=%s: form carries %q, want %q", raw, got, want)
		}
	}
}

func TestPagesFullOrFragment(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	c := s.client(t)
	c.login("alice", "correct horse")

	full := c.get("/containers")
	if full.Doc.Find("nav.nav").Length() != 1 || full.Doc.Find(`meta[name="csrf-token"]`).Length() != 1 {
		t.Fatal("full page lacks navigation or CSRF meta tag")
	}
	if !strings.Contains(full.Header.Get("Vary"), "HX-Request") {
		t.Fatalf("Vary = %q", full.Header.Get("Vary"))
	}
	frag := c.get("/containers", "HX-Request", "true")
	expectStatus(t, frag, http.StatusOK)
	if strings.Contains(frag.Body, "<html") || frag.Doc.Find("nav.nav").Length() != 0 {
		t.Fatal("HTMX request got the whole layout")
	}
	if frag.Doc.Find(`[data-testid="no-nodes-banner"]`).Length() != 1 {
		t.Fatalf("fragment lacks the page body: %s", frag.Body)
	}
	boosted := c.get("/containers", "HX-Request", "true", "HX-Boosted", "true")
	if !strings.Contains(boosted.Body, "<html") {
		t.Fatal("boosted request should get the full page")
	}
}

func TestHealthzAndAssets(t *testing.T) {
	s := newTestServer(t)
	c := s.client(t)
	res := c.get("/healthz")
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.Body, `"version":"test"`) {
		t.Fatalf("healthz body = %s", res.Body)
	}
	page := c.get("/setup")
	src, ok := page.Doc.Find(`script[src*="htmx-2"]`).Attr("src")
	if !ok {
		t.Fatal("page does not load htmx")
	}
	res = c.get(src)
	expectStatus(t, res, http.StatusOK)
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Fatalf("hashed asset Cache-Control = %q", cc)
	}
	if !strings.Contains(res.Body, "htmx") {
		t.Fatal("htmx asset empty")
	}
	expectStatus(t, c.get("/static/abc/nope.js"), http.StatusNotFound)
}

func TestSessionCookieFlags(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		s := newTestServer(t)
		s.withUser(t, "alice", "correct horse")
		srv := s.Server
		if overTLS {
			srv = httptest.NewUnstartedServer(s.Config.Handler)
			srv.StartTLS()
			t.Cleanup(srv.Close)
		}
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		c := &client{t: t, srv: &testServer{Server: srv, DB: s.DB, clock: s.clock}, http: hc}
		c.get("/login")
		res := c.post("/login", url.Values{"username": {"alice"}, "password": {"correct horse"}})
		expectStatus(t, res, http.StatusSeeOther)
		var found bool
		for _, ck := range res.Cookies() {
			if ck.Name != "corral_session" {
				continue
			}
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie HttpOnly=%v SameSite=%v", ck.HttpOnly, ck.SameSite)
			}
			if ck.Secure != overTLS {
				t.Errorf("over TLS=%v the cookie Secure=%v", overTLS, ck.Secure)
			}
		}
		if !found {
			t.Fatal("no session cookie set on login")
		}
	}
}
