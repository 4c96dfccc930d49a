package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"corral/exec/access"
	"corral/exec/nodeprobe"
	"corral/handlers"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

// testServer is Corral's HTTP side over a real listener and a real bbolt
// file, with a clock the test controls.
type testServer struct {
	*httptest.Server
	DB    *store.DB
	H     *handlers.Handler
	clock *simtest.Clock
}

// testDeps lets a test add collaborators before the server starts.
type testDeps func(*handlers.Deps)

func newTestServer(t *testing.T, opts ...testDeps) *testServer {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "corral.db"), store.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := simtest.NewClock(time.Now())
	d := handlers.Deps{
		Accounts:   db,
		Sessions:   db.Sessions("corral_session", time.Hour),
		Audit:      db,
		Templates:  db,
		Nodes:      db,
		Containers: db,
		SSHKeys:    db,
		Proxmox:    clusters.NewClients(slog.New(slog.DiscardHandler)),
		Prober:     nodeprobe.New(slog.New(slog.DiscardHandler)),
		Limiter:    access.NewLoginLimiter(5, time.Minute, clk.Now),
		Version:    "test",
		Now:        clk.Now,
	}
	for _, o := range opts {
		o(&d)
	}
	h := handlers.New(d)
	e := echo.New()
	h.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, DB: db, H: h, clock: clk}
}

// withUser creates an account directly in the store.
func (s *testServer) withUser(t *testing.T, name, pass string) store.User {
	t.Helper()
	u, err := s.DB.CreateUser(context.Background(), name, pass)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// client is a browser-like HTTP client: cookies, no automatic redirects, and
// the CSRF token of the last page it saw.
type client struct {
	t    *testing.T
	srv  *testServer
	http *http.Client
	csrf string
}

func (s *testServer) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, srv: s, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is a read response with its parsed document.
type response struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if tok, ok := doc.Find(`meta[name="csrf-token"]`).Attr("content"); ok && tok != "" {
		c.csrf = tok
	}
	return &response{Response: res, Body: string(b), Doc: doc}
}

func (c *client) get(path string, headers ...string) *response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.srv.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// post sends a form with the current CSRF token (unless the form sets _csrf).
func (c *client) post(path string, form url.Values, headers ...string) *response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// login signs in through the real form and fails the test if it does not work.
func (c *client) login(name, pass string) {
	c.t.Helper()
	c.get("/login")
	res := c.post("/login", url.Values{"username": {name}, "password": {pass}})
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login as %s: status %d: %s", name, res.StatusCode, res.Body)
	}
	c.get("/containers") // pick up the signed-in CSRF token
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func expectStatus(t *testing.T, res *response, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, res.Body)
	}
}
