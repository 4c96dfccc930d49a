package handlers_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/handlers"
	"corral/handlers/formtest"
	"corral/store"
	"corral/store/tmplfs"
)

// postForm sends a form the page shows, as a browser without JavaScript
// would when button (name=value, or "") is pressed, in the form's encoding.
func (c *client) postForm(form *goquery.Selection, button string) *response {
	c.t.Helper()
	if form.Length() == 0 {
		c.t.Fatal("no such form on the page")
	}
	v := formtest.Values(form)
	if name, value, ok := strings.Cut(button, "="); ok {
		v.Set(name, value)
	}
	action := form.AttrOr("action", "")
	if form.AttrOr("enctype", "") != "multipart/form-data" {
		return c.post(action, v)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vals := range v {
		for _, val := range vals {
			_ = w.WriteField(k, val)
		}
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+action, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// TestTemplates_ImportConflict: importing a file named like one of your
// templates asks, and both answers work without JavaScript: import under
// another name (a taken one is refused next to the field), or replace.
func TestTemplates_ImportConflict(t *testing.T) {
	s, c := signedIn(t)
	ctx := context.Background()
	uid := userNamed(t, s, "alice").ID
	mine := mustCreate(t, s, store.Template{Name: "Web", Cores: 1, Features: store.Features{Unprivileged: true}})
	other := mustCreate(t, s, store.Template{Name: "Other", Features: store.Features{Unprivileged: true}})
	file, err := store.EncodeTemplateFile(store.Template{Name: "web", Cores: 3, Tags: []string{"from-file"}})
	if err != nil {
		t.Fatal(err)
	}

	c.get("/templates")
	res := c.postFile("/templates/import", "file", "web.json", file)
	expectStatus(t, res, http.StatusConflict)
	ask := res.Doc.Find(`[data-testid="import-file-conflict"]`)
	if got := ask.Find(`[data-testid="import-new-name"]`).AttrOr("value", ""); got != "web (imported)" {
		t.Errorf("suggested name %q", got)
	}
	if href := ask.Find(`a[href^="/templates/"]`).AttrOr("href", ""); href != "/templates/"+mine.ID {
		t.Errorf("link to the existing template %q", href)
	}
	if got, _ := s.DB.Template(ctx, uid, mine.ID); got.Cores != 1 {
		t.Fatal("asking changed the template")
	}

	// A name that is taken too is refused next to the field; the file stays.
	ask.Find(`[data-testid="import-new-name"]`).SetAttr("value", "other")
	res = c.postForm(ask, "on_conflict=rename")
	expectStatus(t, res, http.StatusConflict)
	ask = res.Doc.Find(`[data-testid="import-file-conflict"]`)
	if msg := wizardFieldErr(res, "new_name"); msg != `A template named "other" already exists` {
		t.Errorf("taken name message %q", msg)
	}

	// Under a free name: a new template beside the old one.
	ask.Find(`[data-testid="import-new-name"]`).SetAttr("value", "Web from file")
	loc := location(t, c.postForm(ask, "on_conflict=rename"))
	added, err := s.DB.Template(ctx, uid, strings.TrimPrefix(loc, "/templates/"))
	if err != nil || added.Name != "Web from file" || added.Cores != 3 || added.ID == mine.ID || added.ID == other.ID {
		t.Fatalf("renamed import %+v %v", added, err)
	}

	// Replace: same id, the file's recipe.
	res = c.postFile("/templates/import", "file", "web.json", file)
	expectStatus(t, res, http.StatusConflict)
	loc = location(t, c.postForm(res.Doc.Find(`[data-testid="import-file-conflict"]`), "on_conflict=overwrite"))
	if loc != "/templates/"+mine.ID {
		t.Errorf("replace redirects to %s", loc)
	}
	if got, _ := s.DB.Template(ctx, uid, mine.ID); got.Cores != 3 || !got.HasTag("from-file") {
		t.Errorf("replaced template %+v", got)
	}
	if n := len(ownTemplates(t, s, uid, store.TemplateFilter{})); n != 3 {
		t.Errorf("alice has %d templates, want 3", n)
	}
}

// TestTemplates_ImportDirConflict: the directory import asks about names
// you already use, one choice per template, defaulting to keep both.
func TestTemplates_ImportDirConflict(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "web", "template.conf"), []byte("TEMPLATE_CPU=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, c := signedIn(t, func(d *handlers.Deps) {
		d.Templates = tmplfs.Library{DB: d.Templates.(*store.DB), Dir: root}
	})
	ctx := context.Background()
	uid := userNamed(t, s, "alice").ID
	mine := mustCreate(t, s, store.Template{Name: "web", Cores: 1, Features: store.Features{Unprivileged: true}})

	c.get("/templates")
	res := c.post("/templates/import-dir", nil)
	expectStatus(t, res, http.StatusOK)
	ask := res.Doc.Find(`[data-testid="import-conflicts"]`)
	row := ask.Find(`[data-testid="import-conflict"][data-dir="web"]`)
	if row.Length() != 1 {
		t.Fatalf("no question about web:\n%s", res.Doc.Find("main").Text())
	}
	if _, on := row.Find(`[data-testid="conflict-rename"]`).Attr("checked"); !on {
		t.Error("keeping both is not the default for a template made in Corral")
	}
	if got := row.Find(`[data-testid="conflict-name"]`).AttrOr("value", ""); got != "web (imported)" {
		t.Errorf("suggested name %q", got)
	}
	if got, _ := s.DB.Template(ctx, uid, mine.ID); got.Cores != 1 {
		t.Fatal("asking changed the template")
	}

	// Apply as suggested: both exist, and importing again is quiet.
	res = c.postForm(ask, "")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="import-conflicts"]`).Length() != 0 {
		t.Error("still asking after the answer")
	}
	if sum := res.Doc.Find(`[data-testid="import-summary"]`).Text(); !strings.Contains(sum, "web (imported) created") {
		t.Errorf("summary %q", sum)
	}
	res = c.post("/templates/import-dir", nil)
	if sum := res.Doc.Find(`[data-testid="import-summary"]`).Text(); !strings.Contains(sum, "web (imported) unchanged") || res.Doc.Find(`[data-testid="import-conflicts"]`).Length() != 0 {
		t.Errorf("second import: %q", sum)
	}
	if got, _ := s.DB.Template(ctx, uid, mine.ID); got.Cores != 1 {
		t.Error("the user's web changed")
	}
}
