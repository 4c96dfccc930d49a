package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWizard_ReviewShowsDescription: the Review step shows the description
// of the chosen template as text: markup escaped, line breaks kept, control
// characters as their visible symbols, never raw.
func TestWizard_ReviewShowsDescription(t *testing.T) {
	e := newWizardEnv(t)
	tm := wizardTemplate("Notes", "debian-12-standard")
	tm.Description = "<script>alert(\"x\")</script> <b>bold</b>\x01\x1b[31m red\x07\nsecond line\x7f"
	tm, err := e.DB.CreateTemplate(context.Background(), e.user.ID, tm)
	if err != nil {
		t.Fatal(err)
	}
	res := e.walkToConfigure(t, tm.ID)
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "notes1"); v.Set("step", "review") })
	expectStatus(t, res, http.StatusOK)
	wizardAt(t, res, "review")

	desc := res.Doc.Find(`[data-testid="review-description"]`)
	want := "<script>alert(\"x\")</script> <b>bold</b>␁␛[31m red␇\nsecond line␡"
	if got := desc.Text(); got != want {
		t.Errorf("review shows the description %q, want %q", got, want)
	}
	if n := desc.Children().Length(); n != 0 {
		t.Errorf("the description became %d elements", n)
	}
	if strings.Contains(res.Body, "<script>alert") || !strings.Contains(res.Body, "&lt;script&gt;alert(") {
		t.Error("the description's markup is not escaped")
	}
	if strings.ContainsAny(res.Body, "\x01\x07\x1b\x7f") {
		t.Error("the page carries raw control characters")
	}

	// From scratch there is no description to show.
	res = e.walkToConfigure(t, "scratch")
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "scratch1"); v.Set("step", "review") })
	wizardAt(t, res, "review")
	if res.Doc.Find(`[data-testid="review-description"]`).Length() != 0 {
		t.Error("a container from scratch shows a description")
	}
}
