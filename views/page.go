// Package views holds Corral's templ components. Components take plain view
// models and never do I/O; handlers decide what to show.
package views

import "strings"

// Page is what every full page needs from the request: who is signed in, the
// CSRF token, and which area of the navigation is active.
type Page struct {
	Title    string
	Username string // empty when signed out
	CSRF     string
	Active   string // "containers", "templates", "settings"
	Version  string
	Flash    *Flash // a message carried across a redirect, shown once
	// Extra names static files only this page needs (stylesheets and
	// scripts, e.g. the console's terminal), loaded after the common ones.
	Extra []string
}

// Flash is a one-off message for the top of a page.
type Flash struct {
	Level   string // ok, warn, bad, info
	Message string
}

// SignedIn reports whether the page belongs to a signed-in user.
func (p Page) SignedIn() bool { return p.Username != "" }

func (p Page) fullTitle() string {
	if p.Title == "" {
		return "Corral"
	}
	return p.Title + " · Corral"
}

func (p Page) csrfHeaders() string {
	// json-escaped by construction: tokens are base64url.
	return `{"X-CSRF-Token": "` + p.CSRF + `"}`
}

func current(active, area string) string {
	if active == area {
		return "page"
	}
	return "false"
}

func isStylesheet(name string) bool { return strings.HasSuffix(name, ".css") }
