package handlers_test

import (
	"net/http"
	"testing"
)

// TestDocs_TemplateFormat: the import box links the page that documents
// the filesystem template format, which Corral serves itself.
func TestDocs_TemplateFormat(t *testing.T) {
	s, c := signedIn(t)
	href := c.get("/templates").Doc.Find(`[data-testid="import-box"] [data-testid="template-format-link"]`).AttrOr("href", "")
	if href != "/docs/templates" {
		t.Fatalf("format link %q", href)
	}
	res := c.get(href)
	expectStatus(t, res, http.StatusOK)
	doc := res.Doc.Find(`[data-testid="doc"]`)
	if got := doc.Find("h1").Text(); got != "The template directory format" {
		t.Errorf("heading %q", got)
	}
	if doc.Find(`h2#templateconf`).Length() != 1 || doc.Find("table").Length() < 3 {
		t.Errorf("page body:\n%s", doc.Text())
	}
	expectStatus(t, c.get("/docs/nope"), http.StatusNotFound)
	// Like every page, it needs a sign-in.
	anon := s.client(t)
	if res := anon.get(href); res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		t.Errorf("signed out: status %d", res.StatusCode)
	}
}
