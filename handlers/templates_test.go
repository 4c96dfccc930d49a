package handlers_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/handlers"
	"corral/store"
	"corral/store/tmplfs"
)

// signedIn starts a server with one signed-in user.
func signedIn(t *testing.T, opts ...testDeps) (*testServer, *client) {
	t.Helper()
	s := newTestServer(t, opts...)
	s.withUser(t, "alice", "correct horse")
	c := s.client(t)
	c.login("alice", "correct horse")
	return s, c
}

// userNamed is the account called name.
func userNamed(t *testing.T, s *testServer, name string) store.User {
	t.Helper()
	u, err := s.DB.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// mustCreate stores a template of alice's, the user signedIn signs in.
func mustCreate(t *testing.T, s *testServer, tmpl store.Template) store.Template {
	t.Helper()
	out, err := s.DB.CreateTemplate(context.Background(), userNamed(t, s, "alice").ID, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ownTemplates lists the user's own templates, without the built-ins and
// what others share.
func ownTemplates(t *testing.T, s *testServer, userID string, f store.TemplateFilter) []store.Template {
	t.Helper()
	all, err := s.DB.Templates(context.Background(), userID, f)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Template
	for _, tm := range all {
		if tm.Owner == userID {
			out = append(out, tm)
		}
	}
	return out
}

// ownCards are the cards of the viewer's own templates (no origin badge).
func ownCards(doc *goquery.Document) *goquery.Selection {
	return doc.Find(`[data-testid="template-card"]`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Find(`[data-testid="template-origin"]`).Length() == 0
	})
}

// cardNames names the cards of the viewer's own templates.
func cardNames(doc *goquery.Document) []string {
	var names []string
	ownCards(doc).Each(func(_ int, s *goquery.Selection) {
		names = append(names, s.AttrOr("data-name", ""))
	})
	return names
}

// originOf maps each card's name to its origin badge ("" for own ones).
func originOf(doc *goquery.Document) map[string]string {
	out := map[string]string{}
	doc.Find(`[data-testid="template-card"]`).Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("data-name", "")
		if o := s.Find(`[data-testid="template-origin"]`).Text(); o != "" || out[name] == "" {
			out[name] = o
		}
	})
	return out
}

// fieldErrors maps data-field to message for every error shown in the form.
func fieldErrors(doc *goquery.Document) map[string]string {
	out := map[string]string{}
	doc.Find(`[data-testid="field-error"]`).Each(func(_ int, s *goquery.Selection) {
		out[s.AttrOr("data-field", "")] = strings.TrimSpace(s.Text())
	})
	return out
}

func location(t *testing.T, res *response) string {
	t.Helper()
	expectStatus(t, res, http.StatusSeeOther)
	return res.Header.Get("Location")
}

func TestTemplates_List(t *testing.T) {
	s, c := signedIn(t)
	mustCreate(t, s, store.Template{Name: "Static web", Tags: []string{"web", "nginx"}, Cores: 1, Memory: 512, Disk: 8})
	mustCreate(t, s, store.Template{Name: "Webapp builder", Tags: []string{"webapp"}})
	mustCreate(t, s, store.Template{Name: "Docker host", Tags: []string{"docker", "web"}, Memory: 2048,
		Scripts: []store.Script{{Name: "a.sh", Content: "x"}, {Name: "b.sh", Content: "y"}}})

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"Docker host", "Static web", "Webapp builder"}},
		{"?q=WEB", []string{"Static web", "Webapp builder"}},
		{"?tag=web", []string{"Docker host", "Static web"}},
		{"?tag=web&tag=nginx", []string{"Static web"}},
		{"?tags=web,docker", []string{"Docker host"}},
		{"?q=host&tag=nginx", nil},
	}
	for _, tt := range tests {
		t.Run("filter"+tt.query, func(t *testing.T) {
			res := c.get("/templates" + tt.query)
			expectStatus(t, res, http.StatusOK)
			if got := cardNames(res.Doc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("cards %q, want %q", got, tt.want)
			}
			if len(tt.want) == 0 && res.Doc.Find(`[data-testid="template-empty"]`).Length() != 1 {
				t.Error("no empty-result message")
			}
			// The built-ins are listed for everyone, marked as such.
			if tt.query == "" {
				origins := originOf(res.Doc)
				for _, name := range []string{"Debian base", "Static web server"} {
					if origins[name] != "built-in" {
						t.Errorf("built-in %s listed as %q", name, origins[name])
					}
				}
			}
		})
	}

	res := c.get("/templates?tag=web&tag=nginx")
	if res.Doc.Find(`[data-testid="tag-web"]`).AttrOr("checked", "no") == "no" || res.Doc.Find(`[data-testid="tag-docker"]`).Length() != 1 {
		t.Error("tag pills do not show the selection")
	}
	if res.Doc.Find(`[data-testid="tag-docker"]`).AttrOr("checked", "no") != "no" {
		t.Error("unselected tag shown as selected")
	}
	if res.Doc.Find(`[data-testid="template-filter-clear"]`).Length() != 1 {
		t.Error("no clear link while filtering")
	}
	all := c.get("/templates")
	card := ownCards(all.Doc).Filter(`[data-name="Docker host"]`)
	if got := strings.Join(strings.Fields(card.Find(`[data-testid="template-counts"]`).Text()), " "); got != "2 scripts · 0 files · 0 packages" {
		t.Errorf("counts = %q", got)
	}
	if got := card.Find(`[data-testid="template-resources"]`).Text(); got != "default cores · 2.0 GiB RAM · default disk" {
		t.Errorf("resources = %q", got)
	}
	if all.Doc.Find(`[data-testid="import-dir"]`).Length() != 0 {
		t.Error("import-from-directory button shown without a configured directory")
	}

	t.Run("HTMXFragment", func(t *testing.T) {
		res := c.get("/templates?q=docker", "HX-Request", "true", "HX-Target", "template-results")
		expectStatus(t, res, http.StatusOK)
		if strings.Contains(res.Body, "<html") || res.Doc.Find(`#template-results`).Length() != 1 {
			t.Fatalf("want only the results fragment, got %s", res.Body)
		}
		if got := cardNames(res.Doc); !reflect.DeepEqual(got, []string{"Docker host"}) {
			t.Errorf("cards %q", got)
		}
	})
	t.Run("SignedOut", func(t *testing.T) {
		res := s.client(t).get("/templates")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("signed out: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

// validForm is a complete, valid template form.
func validForm(name string) url.Values {
	return url.Values{
		"action": {"save"}, "name": {name}, "description": {"A test"}, "tags": {"web; Test"},
		"os_template": {"debian-12-standard"}, "cores": {"2"}, "memory": {"1024"}, "swap": {"0"}, "disk": {"8"},
		"storage": {"local-lvm"}, "bridge": {"vmbr0"}, "unprivileged": {"on"}, "nesting": {"on"},
		"scripts.0.name": {"10-first.sh"}, "scripts.0.content": {"echo one"}, "scripts.0.enabled": {"on"},
		"scripts.1.name": {"20-second.sh"}, "scripts.1.content": {"echo two"},
		"files.0.name": {"motd"}, "files.0.target_dir": {"/etc/"}, "files.0.policy": {"backup"},
		"files.0.mode": {"0644"}, "files.0.owner": {"root:root"}, "files.0.content": {"hello"},
		"packages.apt": {"curl # comment\nwget"}, "packages.npm": {"pnpm"}, "packages.pip": {""},
		"packages.custom": {"bun|command -v bun|curl -fsSL https://bun.sh/install | bash"},
	}
}

func TestTemplates_Create(t *testing.T) {
	s, c := signedIn(t)
	res := c.get("/templates/new")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="input-unprivileged"]`).AttrOr("checked", "no") == "no" {
		t.Error("unprivileged is not on by default")
	}
	if !strings.Contains(res.Body, "Docker inside LXC needs both nesting and keyctl") {
		t.Error("the form does not explain Docker's needs")
	}
	for _, policy := range []string{"Overwrite the file if it differs", "keep a file the user changed", "move it to NAME.backup-DATE"} {
		if !strings.Contains(res.Body, policy) {
			t.Errorf("policy meaning %q not explained", policy)
		}
	}

	loc := location(t, c.post("/templates/new", validForm("My web")))
	alice := userNamed(t, s, "alice")
	got := ownTemplates(t, s, alice.ID, store.TemplateFilter{})
	if len(got) != 1 {
		t.Fatalf("templates = %v", got)
	}
	tm := got[0]
	if loc != "/templates/"+tm.ID {
		t.Errorf("redirect to %s", loc)
	}
	swap := 0
	want := store.Template{
		ID: tm.ID, Owner: alice.ID, OwnerName: "alice", Name: "My web", Description: "A test", Tags: []string{"web", "test"}, Source: store.SourceCustom,
		OSTemplate: "debian-12-standard", Cores: 2, Memory: 1024, Swap: &swap, Disk: 8, Storage: "local-lvm", Bridge: "vmbr0",
		Features: store.Features{Unprivileged: true, Nesting: true},
		Scripts:  []store.Script{{Name: "10-first.sh", Content: "echo one", Enabled: true}, {Name: "20-second.sh", Content: "echo two"}},
		Files:    []store.File{{Name: "motd", TargetDir: "/etc", Policy: store.PolicyBackup, Mode: "0644", Owner: "root:root", Content: "hello"}},
		Packages: []store.Package{
			{Manager: store.ManagerApt, Name: "curl"}, {Manager: store.ManagerApt, Name: "wget"}, {Manager: store.ManagerNpm, Name: "pnpm"},
			{Manager: store.ManagerCustom, Name: "bun", Check: "command -v bun", Install: "curl -fsSL https://bun.sh/install | bash"},
		},
		Created: tm.Created, Updated: tm.Updated,
	}
	if !reflect.DeepEqual(tm, want) {
		t.Errorf("stored\n%+v\nwant\n%+v", tm, want)
	}

	detail := c.get(loc)
	expectStatus(t, detail, http.StatusOK)
	if !strings.Contains(detail.Doc.Find(`[data-testid="flash"]`).Text(), "created") {
		t.Error("no flash after create")
	}
	var scripts []string
	detail.Doc.Find(`[data-testid="script-name"]`).Each(func(_ int, s *goquery.Selection) { scripts = append(scripts, s.Text()) })
	if !reflect.DeepEqual(scripts, []string{"10-first.sh", "20-second.sh"}) {
		t.Errorf("detail scripts %q", scripts)
	}
	if got := detail.Doc.Find(`[data-testid="file-target"]`).Text(); got != "/etc/motd" {
		t.Errorf("file target %q", got)
	}
	if got := detail.Doc.Find(`[data-testid="packages-custom"]`).Text(); !strings.Contains(got, "bun") {
		t.Errorf("custom packages %q", got)
	}

	t.Run("HTMXSaveRedirects", func(t *testing.T) {
		res := c.post("/templates/new", validForm("Via htmx"), "HX-Request", "true")
		expectStatus(t, res, http.StatusNoContent)
		if !strings.HasPrefix(res.Header.Get("HX-Redirect"), "/templates/") {
			t.Errorf("HX-Redirect = %q", res.Header.Get("HX-Redirect"))
		}
	})
	t.Run("NoCSRF", func(t *testing.T) {
		form := validForm("Forged")
		form.Set("_csrf", "wrong")
		expectStatus(t, c.post("/templates/new", form), http.StatusForbidden)
	})
}

func TestTemplates_Validation(t *testing.T) {
	s, c := signedIn(t)
	mustCreate(t, s, store.Template{Name: "Taken"})
	c.get("/templates/new")

	tests := []struct {
		field, value, errField, msg string
	}{
		{"name", "", "name", "Name is required"},
		{"name", "taken", "name", `A template named "taken" already exists`},
		{"name", strings.Repeat("n", 101), "name", "Name must be 100 characters or less"},
		{"name", "a/b", "name", `Name must not contain / or \ and must not be . or ..`},
		{"description", strings.Repeat("d", 501), "description", "Description must be 500 characters or less"},
		{"tags", "ok;two words", "tags", `Tag "two words": use letters, digits, '.', '_', '+' or '-' (at most 32 characters), separated by ';'`},
		{"os_template", "debian 12", "os_template", "Use a short name like debian-12-standard or a volid like local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"},
		{"cores", "two", "cores", "CPU cores must be a whole number (or empty for the Proxmox default)"},
		{"cores", "9000", "cores", "CPU cores must be between 1 and 8192 (leave empty for the Proxmox default)"},
		{"memory", "8", "memory", "Memory must be between 16 and 1048576 MiB (leave empty for the Proxmox default)"},
		{"swap", "-1", "swap", "Swap must be between 0 and 1048576 MiB"},
		{"disk", "1.5", "disk", "Disk must be a whole number (or empty for the Proxmox default)"},
		{"disk", "200000", "disk", "Disk must be between 1 and 131072 GiB (leave empty for the Proxmox default)"},
		{"storage", "Local LVM", "storage", "Storage must be a Proxmox storage id like local-lvm (lower-case letters, digits, '-', '_', '.')"},
		{"bridge", "br 0", "bridge", "Bridge must be an interface name like vmbr0 (at most 15 characters)"},
		{"scripts.1.name", "", "scripts.1.name", "Script name is required"},
		{"scripts.1.name", "../evil.sh", "scripts.1.name", "Script name must be safe as a file name: letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. 10-install-docker.sh)"},
		{"scripts.1.name", "10-first.sh", "scripts.1.name", "Another script is already called 10-first.sh"},
		{"scripts.0.content", "  ", "scripts.0.content", "Script content is required"},
		{"files.0.name", "", "files.0.name", "File name is required"},
		{"files.0.name", "nginx/nginx.conf", "files.0.name", "File name must not contain a path separator; put the directory in Target directory"},
		{"files.0.target_dir", "", "files.0.target_dir", "Target directory is required"},
		{"files.0.target_dir", "etc", "files.0.target_dir", "Target directory must be absolute (start with /)"},
		{"files.0.target_dir", "/etc/../root", "files.0.target_dir", "Target directory must not contain .."},
		{"files.0.policy", "sometimes", "files.0.policy", "Policy must be replace, default or backup"},
		{"files.0.mode", "rwx", "files.0.mode", "Mode must be octal like 0644 or 0755"},
		{"files.0.owner", "Root User", "files.0.owner", "Owner must be user or user:group (names or numeric ids)"},
		{"packages.apt", "curl\n-o", "packages.apt", `line 2: Package "-o" must not start with '-'`},
		{"packages.custom", "just-a-name", "packages.custom", "line 1: write custom packages as name|check command|install command"},
	}
	for _, tt := range tests {
		t.Run(tt.errField+"="+tt.value, func(t *testing.T) {
			form := validForm("Fresh")
			form.Set(tt.field, tt.value)
			res := c.post("/templates/new", form)
			expectStatus(t, res, http.StatusUnprocessableEntity)
			errs := fieldErrors(res.Doc)
			if errs[tt.errField] != tt.msg {
				t.Errorf("message next to %s = %q, want %q (all: %q)", tt.errField, errs[tt.errField], tt.msg, errs)
			}
			if res.Doc.Find(`[data-testid="form-error"]`).Length() != 1 {
				t.Error("no summary alert")
			}
			// What the user typed is still there.
			sel := `[name="` + tt.field + `"]`
			el := res.Doc.Find(sel)
			got := el.AttrOr("value", el.Text())
			if goquery.NodeName(el) == "select" {
				got = el.Find("option[selected]").AttrOr("value", "")
			}
			if goquery.NodeName(el) != "select" && got != tt.value {
				t.Errorf("field %s shows %q, want %q", tt.field, got, tt.value)
			}
			if goquery.NodeName(el) != "select" && el.AttrOr("aria-invalid", "") != "true" {
				t.Errorf("field %s not marked invalid", tt.field)
			}
		})
	}
	if list := ownTemplates(t, s, userNamed(t, s, "alice").ID, store.TemplateFilter{}); len(list) != 1 {
		t.Errorf("invalid forms stored templates: %d", len(list))
	}

	t.Run("HTMXGetsFormWith200", func(t *testing.T) {
		form := validForm("")
		res := c.post("/templates/new", form, "HX-Request", "true")
		expectStatus(t, res, http.StatusOK)
		if strings.Contains(res.Body, "<html") || fieldErrors(res.Doc)["name"] != "Name is required" {
			t.Errorf("htmx answer: %s", res.Body)
		}
	})
}

func scriptNames(doc *goquery.Document) []string {
	var out []string
	doc.Find(`[data-testid="script-name-input"]`).Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("value", "")) })
	return out
}

func TestTemplates_FormRows(t *testing.T) {
	s, c := signedIn(t)
	c.get("/templates/new")
	form := validForm("Rows")
	form.Set("scripts.2.name", "30-third.sh")
	form.Set("scripts.2.content", "echo three")

	step := func(action string, headers ...string) *response {
		t.Helper()
		form.Set("action", action)
		res := c.post("/templates/new", form, headers...)
		expectStatus(t, res, http.StatusOK)
		// Carry the returned form's values into the next step, as a browser would.
		next := url.Values{"_csrf": {c.csrf}}
		res.Doc.Find(`#template-form input, #template-form textarea, #template-form select`).Each(func(_ int, s *goquery.Selection) {
			name, ok := s.Attr("name")
			if !ok || name == "action" || name == "_csrf" {
				return
			}
			switch {
			case s.AttrOr("type", "") == "checkbox":
				if _, on := s.Attr("checked"); on {
					next.Add(name, "on")
				}
			case goquery.NodeName(s) == "textarea":
				next.Set(name, s.Text())
			case goquery.NodeName(s) == "select":
				next.Set(name, s.Find("option[selected]").AttrOr("value", ""))
			default:
				next.Set(name, s.AttrOr("value", ""))
			}
		})
		form = next
		return res
	}

	res := step("script-down:0")
	if got := scriptNames(res.Doc); !reflect.DeepEqual(got, []string{"20-second.sh", "10-first.sh", "30-third.sh"}) {
		t.Fatalf("after down: %q", got)
	}
	if !strings.Contains(res.Body, "<html") {
		t.Error("plain request did not get the full page")
	}
	res = step("script-up:2", "HX-Request", "true")
	if got := scriptNames(res.Doc); !reflect.DeepEqual(got, []string{"20-second.sh", "30-third.sh", "10-first.sh"}) {
		t.Fatalf("after up: %q", got)
	}
	if strings.Contains(res.Body, "<html") || res.Doc.Find(`form#template-form`).Length() != 1 {
		t.Error("htmx request did not get just the form")
	}
	if res.Doc.Find(`[data-testid="script-up"]`).First().AttrOr("disabled", "no") == "no" {
		t.Error("first script can move up")
	}
	res = step("script-remove:1")
	if got := scriptNames(res.Doc); !reflect.DeepEqual(got, []string{"20-second.sh", "10-first.sh"}) {
		t.Fatalf("after remove: %q", got)
	}
	res = step("add-script")
	if got := scriptNames(res.Doc); len(got) != 3 || got[2] != "30-script.sh" {
		t.Fatalf("after add: %q", got)
	}
	res = step("add-file")
	if n := res.Doc.Find(`[data-testid="file-row"]`).Length(); n != 2 {
		t.Fatalf("%d file rows after add", n)
	}
	res = step("file-remove:0")
	if n := res.Doc.Find(`[data-testid="file-row"]`).Length(); n != 1 || res.Doc.Find(`[name="files.0.name"]`).AttrOr("value", "x") != "" {
		t.Fatalf("file-remove removed the wrong row")
	}
	form.Set("files.0.name", "index.html")
	form.Set("files.0.target_dir", "/var/www")
	form.Set("scripts.2.content", "echo new")
	form.Set("action", "save")
	location(t, c.post("/templates/new", form))
	list := ownTemplates(t, s, userNamed(t, s, "alice").ID, store.TemplateFilter{})
	if len(list) != 1 {
		t.Fatalf("%d templates", len(list))
	}
	var names []string
	for _, sc := range list[0].Scripts {
		names = append(names, sc.Name)
	}
	if !reflect.DeepEqual(names, []string{"20-second.sh", "10-first.sh", "30-script.sh"}) || list[0].Files[0].Policy != store.PolicyReplace {
		t.Errorf("saved scripts %q, files %+v", names, list[0].Files)
	}
	// Nothing was saved by the non-saving steps.
	expectStatus(t, c.post("/templates/new", url.Values{"action": {"explode"}}), http.StatusBadRequest)
}

func TestTemplates_EditBucketsDelete(t *testing.T) {
	s, c := signedIn(t)
	ctx := context.Background()
	uid := userNamed(t, s, "alice").ID
	tm := mustCreate(t, s, store.Template{Name: "Editable", Tags: []string{"a"}, Packages: []store.Package{{Manager: store.ManagerApt, Name: "vim"}}})
	b, _ := s.DB.CreatePackageBucket(ctx, uid, "base", "")
	if _, err := s.DB.ImportBucketPackages(ctx, uid, b.ID, store.ManagerApt, "curl\nvim"); err != nil {
		t.Fatal(err)
	}

	res := c.get("/templates/" + tm.ID + "/edit")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[name="name"]`).AttrOr("value", "") != "Editable" || res.Doc.Find(`[name="tags"]`).AttrOr("value", "") != "a" {
		t.Error("edit form not filled in")
	}

	form := url.Values{"name": {"Edited"}, "tags": {"a;b"}, "packages.apt": {"vim"}, "bucket": {b.ID}, "action": {"copy-buckets"}}
	res = c.post("/templates/"+tm.ID+"/edit", form)
	expectStatus(t, res, http.StatusOK)
	if got := res.Doc.Find(`[name="packages.apt"]`).Text(); got != "vim\ncurl\n" {
		t.Errorf("after copy-buckets apt = %q", got)
	}
	form.Set("action", "save")
	if loc := location(t, c.post("/templates/"+tm.ID+"/edit", form)); loc != "/templates/"+tm.ID {
		t.Errorf("redirect %s", loc)
	}
	got, _ := s.DB.Template(ctx, uid, tm.ID)
	if got.Name != "Edited" || !reflect.DeepEqual(got.Tags, []string{"a", "b"}) || len(got.Packages) != 2 {
		t.Errorf("after edit %+v", got)
	}
	// The copy does not follow later bucket edits.
	_ = s.DB.RemoveBucketPackage(ctx, uid, b.ID, store.ManagerApt, "curl")
	if again, _ := s.DB.Template(ctx, uid, tm.ID); len(again.Packages) != 2 {
		t.Error("bucket edit changed the template")
	}

	expectStatus(t, c.get("/templates/nope/edit"), http.StatusNotFound)
	expectStatus(t, c.post("/templates/nope/edit", url.Values{"action": {"save"}, "name": {"x"}}), http.StatusNotFound)
	expectStatus(t, c.get("/templates/nope"), http.StatusNotFound)

	confirm := c.get("/templates/" + tm.ID + "/delete")
	expectStatus(t, confirm, http.StatusOK)
	if action := confirm.Doc.Find(`[data-testid="confirm-delete"] form`).AttrOr("action", ""); action != "/templates/"+tm.ID+"/delete" {
		t.Errorf("confirm form posts to %q", action)
	}
	if _, err := s.DB.Template(ctx, uid, tm.ID); err != nil {
		t.Fatal("GET of the confirm page deleted the template")
	}
	if loc := location(t, c.post("/templates/"+tm.ID+"/delete", nil)); loc != "/templates" {
		t.Errorf("redirect %s", loc)
	}
	if _, err := s.DB.Template(ctx, uid, tm.ID); err == nil {
		t.Error("template still there")
	}
	expectStatus(t, c.post("/templates/"+tm.ID+"/delete", nil), http.StatusNotFound)
}

func (c *client) postFile(path, field, filename string, data []byte) *response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", c.csrf)
	fw, _ := w.CreateFormFile(field, filename)
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func TestTemplates_ExportImport(t *testing.T) {
	s, c := signedIn(t)
	ctx := context.Background()
	uid := userNamed(t, s, "alice").ID
	// A built-in exports like any template; importing it makes alice's own.
	list, _ := s.DB.Templates(ctx, uid, store.TemplateFilter{Tags: []string{"docker"}})
	if len(list) != 1 || list[0].Source != store.SourceBuiltin {
		t.Fatalf("docker templates %+v", list)
	}
	builtin := list[0]
	res := c.get("/templates/" + builtin.ID + "/export")
	expectStatus(t, res, http.StatusOK)
	c.get("/templates")
	loc := location(t, c.postFile("/templates/import", "file", "x.json", []byte(res.Body)))
	orig, err := s.DB.Template(ctx, uid, strings.TrimPrefix(loc, "/templates/"))
	if err != nil || !orig.EditableBy(uid) || orig.Name != "Docker host" {
		t.Fatalf("imported built-in %+v %v", orig, err)
	}

	res = c.get("/templates/" + orig.ID + "/export")
	expectStatus(t, res, http.StatusOK)
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="docker-host.corral-template.json"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	data := []byte(res.Body)

	c.get("/templates")
	// A name alice has already is not replaced: the page asks (see
	// TestTemplates_ImportConflict).
	res = c.postFile("/templates/import", "file", "x.json", data)
	expectStatus(t, res, http.StatusConflict)
	if got := res.Doc.Find(`[data-testid="import-file-conflict"] h2`).Text(); got != "You already have a template named “Docker host”" {
		t.Errorf("conflict question %q", got)
	}
	res = c.postFile("/templates/import", "file", "x.json", []byte("not json"))
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := res.Doc.Find(`[data-testid="import-error"]`).Text(); !strings.Contains(got, "not a Corral template file") {
		t.Errorf("garbage message %q", got)
	}

	if err := s.DB.DeleteTemplate(ctx, uid, orig.ID); err != nil {
		t.Fatal(err)
	}
	loc = location(t, c.postFile("/templates/import", "file", "docker.json", data))
	back, err := s.DB.Template(ctx, uid, strings.TrimPrefix(loc, "/templates/"))
	if err != nil {
		t.Fatal(err)
	}
	want := orig
	want.ID, want.Source, want.Created, want.Updated = back.ID, store.SourceCustom, back.Created, back.Updated
	if !reflect.DeepEqual(back, want) {
		t.Errorf("round trip\n%+v\nwant\n%+v", back, want)
	}
}

func TestTemplates_ImportDir(t *testing.T) {
	t.Run("NotConfigured", func(t *testing.T) {
		_, c := signedIn(t)
		c.get("/templates")
		expectStatus(t, c.post("/templates/import-dir", nil), http.StatusNotFound)
	})
	_, c := signedIn(t, func(d *handlers.Deps) {
		d.Templates = tmplfs.Library{DB: d.Templates.(*store.DB), Dir: "../store/tmplfs/testdata/templates"}
	})
	res := c.get("/templates")
	if res.Doc.Find(`[data-testid="import-dir"]`).Length() != 1 {
		t.Fatal("no import button with a configured directory")
	}
	for range 2 { // the second run finds the same templates unchanged
		res = c.post("/templates/import-dir", nil)
		expectStatus(t, res, http.StatusOK)
	}
	sum := res.Doc.Find(`[data-testid="import-summary"]`).Text()
	for _, want := range []string{"web3-dev unchanged: 5 scripts, 4 files, 13 packages", "static-site unchanged"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary %q lacks %q", sum, want)
		}
	}
	if got := res.Doc.Find(`[data-testid="import-error"]`).Text(); !strings.Contains(got, "broken") {
		t.Errorf("errors %q", got)
	}
	if got := cardNames(res.Doc); !reflect.DeepEqual(got, []string{"static-site", "web3-dev"}) {
		t.Errorf("cards %q", got)
	}
}

func TestBuckets(t *testing.T) {
	s, c := signedIn(t)
	ctx := context.Background()
	res := c.get("/templates/buckets")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="buckets-empty"]`).Length() != 1 {
		t.Error("no empty state")
	}

	uid := userNamed(t, s, "alice").ID
	loc := location(t, c.post("/templates/buckets", url.Values{"name": {"base"}, "description": {"everyday"}}))
	list, _ := s.DB.PackageBuckets(ctx, uid)
	if len(list) != 1 || loc != "/templates/buckets#bucket-"+list[0].ID {
		t.Fatalf("buckets %+v, redirect %s", list, loc)
	}
	id := list[0].ID

	for _, tc := range []struct{ name, desc, field, msg string }{
		{"", "", "name", "Name is required"},
		{"BASE", "", "name", `A bucket named "BASE" already exists`},
		{strings.Repeat("x", 51), "", "name", "Name must be 50 characters or less"},
		{"ok", strings.Repeat("d", 201), "description", "Description must be 200 characters or less"},
	} {
		res := c.post("/templates/buckets", url.Values{"name": {tc.name}, "description": {tc.desc}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		form := res.Doc.Find(`[data-testid="bucket-create-form"]`)
		if got := form.Find(`[data-field="` + tc.field + `"]`).Text(); got != tc.msg {
			t.Errorf("create %q/%q: %s message %q, want %q", tc.name, tc.desc, tc.field, got, tc.msg)
		}
	}

	res = c.post("/templates/buckets/"+id+"/import", url.Values{"manager": {"apt"}, "packages": {"# Base tools\ncurl\nwget  # fetcher\n\ncurl\njq\n-bad\n"}})
	next := location(t, res)
	page := c.get(next)
	flash := page.Doc.Find(`[data-testid="flash"]`).Text()
	for _, want := range []string{"Added 3 packages to base.", "Skipped 1 duplicate already there: curl.", `line 7: Package "-bad" must not start with '-'`} {
		if !strings.Contains(flash, want) {
			t.Errorf("flash %q lacks %q", flash, want)
		}
	}
	if n := page.Doc.Find(`[data-testid="bucket-package"]`).Length(); n != 3 {
		t.Errorf("%d packages shown", n)
	}

	res = c.post("/templates/buckets/"+id+"/import", url.Values{"manager": {"apt"}, "packages": {"# nothing\n"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := res.Doc.Find(`[data-testid="bucket"] [data-field="packages"]`).Text(); !strings.HasPrefix(got, "No valid package names found") {
		t.Errorf("empty paste message %q", got)
	}
	if got := res.Doc.Find(`[data-testid="bucket-paste"]`).Text(); got != "# nothing\n" {
		t.Errorf("paste not kept: %q", got)
	}
	res = c.post("/templates/buckets/"+id+"/import", url.Values{"manager": {"brew"}, "packages": {"x"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)

	location(t, c.post("/templates/buckets/"+id+"/remove", url.Values{"manager": {"apt"}, "name": {"wget"}}))
	b, _ := s.DB.PackageBucket(ctx, uid, id)
	if len(b.Packages) != 2 {
		t.Errorf("after remove %+v", b.Packages)
	}
	expectStatus(t, c.post("/templates/buckets/"+id+"/remove", url.Values{"manager": {"apt"}, "name": {"wget"}}), http.StatusNotFound)

	location(t, c.post("/templates/buckets/"+id, url.Values{"name": {"Base tools"}, "description": {"renamed"}}))
	if b, _ := s.DB.PackageBucket(ctx, uid, id); b.Name != "Base tools" {
		t.Errorf("rename: %+v", b)
	}
	s.DB.CreatePackageBucket(ctx, uid, "other", "")
	res = c.post("/templates/buckets/"+id, url.Values{"name": {"OTHER"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := res.Doc.Find(`[data-testid="bucket-rename-form"] [data-field="name"]`).Text(); got != `A bucket named "OTHER" already exists` {
		t.Errorf("rename conflict message %q", got)
	}

	confirm := c.get("/templates/buckets/" + id + "/delete")
	expectStatus(t, confirm, http.StatusOK)
	if !strings.Contains(confirm.Body, "Delete the bucket &#34;Base tools&#34; and its 2 packages?") {
		t.Errorf("confirm page: %s", confirm.Doc.Find(`[data-testid="confirm-delete"]`).Text())
	}
	location(t, c.post("/templates/buckets/"+id+"/delete", nil))
	if _, err := s.DB.PackageBucket(ctx, uid, id); err == nil {
		t.Error("bucket still there")
	}
}

// TestTemplates_BuiltinsShareCopy: the built-ins are read-only for
// everyone and copy into the user's own templates; the owner shares and
// unshares a template of theirs from its page.
func TestTemplates_BuiltinsShareCopy(t *testing.T) {
	s, c := signedIn(t)
	ctx := context.Background()
	uid := userNamed(t, s, "alice").ID
	const builtin = "/templates/builtin-docker-host"
	res := c.get(builtin)
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="template-edit"], [data-testid="template-delete"], [data-testid="template-share-form"]`).Length() != 0 {
		t.Error("a built-in offers to be changed")
	}
	if !strings.Contains(res.Doc.Find(`[data-testid="template-readonly"]`).Text(), "nobody can change it") {
		t.Error("no read-only note on a built-in")
	}
	for _, path := range []string{"/edit", "/delete"} {
		expectStatus(t, c.get(builtin+path), http.StatusNotFound)
	}
	expectStatus(t, c.post(builtin+"/edit", validForm("Docker host")), http.StatusNotFound)
	expectStatus(t, c.post(builtin+"/delete", nil), http.StatusNotFound)
	expectStatus(t, c.post(builtin+"/share", url.Values{"shared": {"1"}}), http.StatusNotFound)

	// Like every state change, copy and share need the CSRF token.
	for _, path := range []string{builtin + "/copy", builtin + "/share"} {
		expectStatus(t, c.post(path, url.Values{"_csrf": {"forged"}}), http.StatusForbidden)
	}
	loc := location(t, c.post(builtin+"/copy", nil))
	mine, err := s.DB.Template(ctx, uid, strings.TrimPrefix(loc, "/templates/"))
	if err != nil || mine.Name != "Docker host" || !mine.EditableBy(uid) || mine.Source != store.SourceCustom || !mine.Features.Keyctl {
		t.Fatalf("copy of the built-in: %+v %v", mine, err)
	}
	res = c.get(loc)
	if !strings.Contains(res.Doc.Find(`[data-testid="flash"]`).Text(), `Copied "Docker host" to your templates`) ||
		res.Doc.Find(`[data-testid="template-edit"]`).Length() != 1 || res.Doc.Find(`[data-testid="template-share"]`).Length() != 1 {
		t.Errorf("own copy's page: %s", res.Doc.Find("main").Text())
	}
	// Duplicating one's own template gives "(copy)".
	dup := location(t, c.post(loc+"/copy", nil))
	if d, _ := s.DB.Template(ctx, uid, strings.TrimPrefix(dup, "/templates/")); d.Name != "Docker host (copy)" {
		t.Errorf("duplicate named %q", d.Name)
	}

	location(t, c.post(loc+"/share", url.Values{"shared": {"1"}}))
	if got, _ := s.DB.Template(ctx, uid, mine.ID); !got.Shared {
		t.Fatal("not shared")
	}
	res = c.get(loc)
	if res.Doc.Find(`[data-testid="template-unshare"]`).Length() != 1 || strings.TrimSpace(res.Doc.Find(`[data-testid="template-origin"]`).Text()) != "shared" {
		t.Error("a shared template's page does not say so")
	}
	location(t, c.post(loc+"/share", url.Values{"shared": {"0"}}))
	if got, _ := s.DB.Template(ctx, uid, mine.ID); got.Shared {
		t.Fatal("still shared")
	}
}

// TestBuckets_BadNameLine is bug 15: "bad pkg name!" pasted into a bucket
// was split into three packages, "name!" among them. The line is now
// refused whole, saying which word is wrong, and the good lines still land.
func TestBuckets_BadNameLine(t *testing.T) {
	s, c := signedIn(t)
	ctx := context.Background()
	uid := userNamed(t, s, "alice").ID
	b, err := s.DB.CreatePackageBucket(ctx, uid, "base", "")
	if err != nil {
		t.Fatal(err)
	}
	page := c.get(location(t, c.post("/templates/buckets/"+b.ID+"/import", url.Values{
		"manager": {"apt"}, "packages": {"bad pkg name!\ncurl\n"},
	})))
	got, _ := s.DB.PackageBucket(ctx, uid, b.ID)
	var names []string
	for _, p := range got.Packages {
		names = append(names, p.Name)
	}
	if !reflect.DeepEqual(names, []string{"curl"}) {
		t.Errorf("bucket holds %q, want only curl", names)
	}
	flash := page.Doc.Find(`[data-testid="flash"]`).Text()
	if !strings.Contains(flash, `line 1 "bad pkg name!": "name!" is not a valid apt package name`) {
		t.Errorf("flash %q does not explain line 1", flash)
	}

	// A paste with nothing valid keeps the text and says why.
	res := c.post("/templates/buckets/"+b.ID+"/import", url.Values{"manager": {"apt"}, "packages": {"name!"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if msg := res.Doc.Find(`[data-testid="bucket"] [data-field="packages"]`).Text(); !strings.Contains(msg, `"name!" is not a valid apt package name`) {
		t.Errorf("message %q", msg)
	}
}
