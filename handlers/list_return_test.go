package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// refusedReturns are return values that must never leave /containers: other
// sites, scheme-relative and backslash tricks, other paths of Corral.
var refusedReturns = []string{
	"https://evil.example/",
	"https://evil.example/containers?q=web",
	"http:/containers",
	"//evil.example",
	"//evil.example/containers?q=web",
	"///evil.example",
	"/\\evil",
	"/\\/evil.example/",
	"\\\\evil.example",
	"\\/evil.example",
	"/%5Cevil.example",
	"/%2F%2Fevil.example",
	"javascript:alert(1)",
	"data:text/html,hi",
	" /containers?q=web",
	"/containers\r\nLocation: https://evil.example/",
	"/containers?q=web\\@evil.example",
	"/containers/../admin",
	"/containers/",
	"/containersX?q=web",
	"/containers/new",
	"/containers/abc/101?q=web",
	"/account",
	"/logout",
	"containers?q=web",
	"/containers#top",
	"/%63ontainers?q=web",
	"",
}

func TestListReturnRefusesOtherPlaces(t *testing.T) {
	for _, raw := range refusedReturns {
		if got := listReturn(raw); got != "/containers" {
			t.Errorf("listReturn(%q) = %q, want /containers", raw, got)
		}
	}
}

func TestListReturnKeepsListState(t *testing.T) {
	for raw, want := range map[string]string{
		"/containers": "/containers",
		"/containers?q=web&sort=name&dir=desc&page=3&view=table": "/containers?dir=desc&page=3&q=web&sort=name&view=table",
		"/containers?node=abc&status=stopped":                    "/containers?node=abc&status=stopped",
		// Only the list's own parameters survive, re-encoded.
		"/containers?q=%2F%2Fevil.example&next=https://evil.example/": "/containers?q=%2F%2Fevil.example",
		"/containers?sort=bogus&dir=desc&view=weird&page=-2":          "/containers",
	} {
		if got := listReturn(raw); got != want {
			t.Errorf("listReturn(%q) = %q, want %q", raw, got, want)
		}
	}
}

// FuzzListReturn: whatever comes in, what goes out is /containers with at
// most a query, so a redirect to it stays on this site and this page.
func FuzzListReturn(f *testing.F) {
	for _, s := range refusedReturns {
		f.Add(s)
	}
	f.Add("/containers?q=web&sort=name&dir=desc&page=3&view=table")
	f.Fuzz(func(t *testing.T, raw string) {
		got := listReturn(raw)
		if got != "/containers" && !strings.HasPrefix(got, "/containers?") {
			t.Fatalf("listReturn(%q) = %q", raw, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.Path != "/containers" || strings.ContainsAny(got, "\\\r\n#") {
			t.Fatalf("listReturn(%q) = %q leaves the list", raw, got)
		}
		if again := listReturn(got); again != got {
			t.Fatalf("listReturn(%q) = %q, but listReturn(%q) = %q", raw, got, got, again)
		}
	})
}
