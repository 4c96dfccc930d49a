package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// cookieClient walks sign-up, sign-out and sign-in by hand, so Secure
// cookies travel back over plain HTTP (as they would from a TLS proxy) and
// every Set-Cookie of every response is kept.
type cookieClient struct {
	t       *testing.T
	base    string
	header  http.Header // sent with every request, e.g. X-Forwarded-Proto
	cookies map[string]string
	set     []string // every Set-Cookie line seen
}

func (c *cookieClient) do(method, path string, form url.Values) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.set = append(c.set, res.Header.Values("Set-Cookie")...)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return res
}

// csrf loads a page and returns its CSRF token.
func (c *cookieClient) csrf(path string) string {
	c.t.Helper()
	res := c.do(http.MethodGet, path, nil)
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	tok, ok := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	if res.StatusCode != http.StatusOK || !ok {
		c.t.Fatalf("GET %s = %d, csrf token found: %v", path, res.StatusCode, ok)
	}
	return tok
}

func (c *cookieClient) post(path string, form url.Values, want int) {
	c.t.Helper()
	res := c.do(http.MethodPost, path, form)
	res.Body.Close()
	if res.StatusCode != want {
		c.t.Fatalf("POST %s = %d, want %d", path, res.StatusCode, want)
	}
}

// TestCookiesSecure: behind a TLS proxy the session, CSRF and flash
// cookies are Secure when told (--cookie-secure) or when a trusted proxy
// says so (X-Forwarded-Proto: https with --trust-proxy), and not when an
// untrusted client claims it.
func TestCookiesSecure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		flags  []string
		proto  string
		secure bool
	}{
		{"plain HTTP", nil, "", false},
		{"--cookie-secure", []string{"--cookie-secure"}, "", true},
		{"trusted proxy says https", []string{"--trust-proxy"}, "https", true},
		{"trusted proxy says http", []string{"--trust-proxy"}, "http", false},
		{"untrusted header is ignored", nil, "https", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--addr", "127.0.0.1:0", "--ssh-addr", "", "--data", t.TempDir()}, tc.flags...)
			l, _, stop := startServeConfig(t, serveConfig(t, args, nil))
			defer stop()
			c := &cookieClient{t: t, base: "http://" + l.HTTP, header: http.Header{}, cookies: map[string]string{}}
			if tc.proto != "" {
				c.header.Set("X-Forwarded-Proto", tc.proto)
			}
			pw := "correct horse battery"
			c.post("/setup", url.Values{"_csrf": {c.csrf("/setup")}, "username": {"alice"}, "password": {pw}, "confirm": {pw}}, http.StatusSeeOther)
			c.post("/logout", url.Values{"_csrf": {c.csrf("/settings/nodes")}}, http.StatusSeeOther)
			c.post("/login", url.Values{"_csrf": {c.csrf("/login")}, "username": {"alice"}, "password": {pw}}, http.StatusSeeOther)

			seen := map[string]bool{}
			for _, line := range c.set {
				ck, err := http.ParseSetCookie(line)
				if err != nil {
					t.Fatalf("Set-Cookie %q: %v", line, err)
				}
				seen[ck.Name] = true
				if ck.Secure != tc.secure {
					t.Errorf("Set-Cookie %q: Secure = %v, want %v", line, ck.Secure, tc.secure)
				}
			}
			for _, name := range []string{"corral_csrf", "corral_session", "corral_flash"} {
				if !seen[name] {
					t.Errorf("no %s cookie was set; saw %q", name, c.set)
				}
			}
		})
	}
}
