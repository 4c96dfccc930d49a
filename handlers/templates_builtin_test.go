package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"corral/handlers/formtest"
	"corral/store"
)

// TestTemplates_ResetBuiltinCopy: a copy of a built-in says so, and once
// changed offers a reset (confirmed on a page of its own) back to the
// built-in. Only the owner may; a built-in explains it cannot change.
func TestTemplates_ResetBuiltinCopy(t *testing.T) {
	s, c := signedIn(t)
	ctx := context.Background()
	uid := userNamed(t, s, "alice").ID
	res := c.get("/templates/builtin-docker-host")
	if got := res.Doc.Find(`[data-testid="template-readonly"]`).Text(); !strings.Contains(got, "reset to the built-in") {
		t.Errorf("built-in page says %q", got)
	}
	loc := location(t, c.post("/templates/builtin-docker-host/copy", nil))
	id := strings.TrimPrefix(loc, "/templates/")
	res = c.get(loc)
	if got := res.Doc.Find(`[data-testid="template-builtin-copy"]`).Text(); !strings.Contains(got, "unchanged") || res.Doc.Find(`[data-testid="template-reset"]`).Length() != 0 {
		t.Errorf("fresh copy: %q", got)
	}

	cp, _ := s.DB.Template(ctx, uid, id)
	cp.Cores, cp.Scripts = 6, nil
	if _, err := s.DB.UpdateTemplate(ctx, uid, cp); err != nil {
		t.Fatal(err)
	}
	res = c.get(loc)
	reset := res.Doc.Find(`[data-testid="template-reset"]`).AttrOr("href", "")
	if reset != loc+"/reset" {
		t.Fatalf("reset link %q", reset)
	}
	confirm := c.get(reset)
	expectStatus(t, confirm, http.StatusOK)
	if got, _ := s.DB.Template(ctx, uid, id); got.Cores != 6 {
		t.Fatal("GET of the confirm page reset the template")
	}
	if got := confirm.Doc.Find(`[data-testid="confirm-delete-submit"]`).Text(); got != "Reset" {
		t.Errorf("confirm button %q", got)
	}
	if got := location(t, c.postForm(confirm.Doc.Find(`[data-testid="confirm-delete"] form`), "")); got != loc {
		t.Errorf("reset redirects to %s", got)
	}
	if got, _ := s.DB.Template(ctx, uid, id); got.Cores != 2 || len(got.Scripts) != 2 {
		t.Errorf("after reset %+v", got)
	}

	// bob cannot reset alice's copy, even when she shares it.
	if _, err := s.DB.ShareTemplate(ctx, uid, id, true); err != nil {
		t.Fatal(err)
	}
	s.withUser(t, "bob", "bob-password-1")
	bob := s.client(t)
	bob.login("bob", "bob-password-1")
	expectStatus(t, bob.get("/templates/"+id+"/reset"), http.StatusNotFound)
	expectStatus(t, bob.post("/templates/"+id+"/reset", url.Values{}), http.StatusNotFound)
	// A template that is no copy has no reset.
	own := mustCreate(t, s, store.Template{Name: "Own", Features: store.Features{Unprivileged: true}})
	expectStatus(t, c.post("/templates/"+own.ID+"/reset", nil), http.StatusNotFound)
}

// TestTemplates_NewDefaultsNesting: a new template starts unprivileged
// with nesting, as Proxmox creates containers.
func TestTemplates_NewDefaultsNesting(t *testing.T) {
	_, c := signedIn(t)
	f := formtest.Values(c.get("/templates/new").Doc.Find(`[data-testid="template-form"]`))
	if f.Get("unprivileged") == "" || f.Get("nesting") == "" || f.Get("keyctl") != "" {
		t.Errorf("new template features: %v", f)
	}
}
