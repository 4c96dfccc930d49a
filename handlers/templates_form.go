package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

// The template form posts to itself. Its "action" button says what to do:
// save, or change the form without saving (add/remove/move a row, copy
// bucket packages). Non-saving actions answer with the changed form, so they
// work with plain HTML; htmx just swaps the form in place.

// maxFormRows bounds the script and file rows read from one request.
const maxFormRows = 200

func (h *Handler) templateNew(c echo.Context) error {
	// Unprivileged with nesting, as Proxmox creates containers.
	f := views.TemplateForm{New: true, Unprivileged: true, Nesting: true, Packages: packageFields(nil)}
	return h.showTemplateForm(c, http.StatusOK, f)
}

func (h *Handler) templateEdit(c echo.Context) error {
	_, t, err := h.ownTemplate(c)
	if err != nil {
		return err
	}
	return h.showTemplateForm(c, http.StatusOK, templateForm(t))
}

func (h *Handler) templateNewSubmit(c echo.Context) error {
	return h.submitTemplateForm(c, views.TemplateForm{New: true})
}

func (h *Handler) templateEditSubmit(c echo.Context) error {
	// Load first: a missing template, or one that is not the user's, is a
	// 404, not a form error.
	_, t, err := h.ownTemplate(c)
	if err != nil {
		return err
	}
	return h.submitTemplateForm(c, views.TemplateForm{ID: t.ID, Title: t.Name})
}

// showTemplateForm renders the form with the bucket list; htmx requests
// get only the form, which replaces itself.
func (h *Handler) showTemplateForm(c echo.Context, status int, f views.TemplateForm) error {
	u, _ := currentUser(c)
	buckets, err := h.Templates.PackageBuckets(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	checked := map[string]bool{}
	for _, id := range c.Request().PostForm["bucket"] {
		checked[id] = true
	}
	f.Buckets = nil
	for _, b := range buckets {
		f.Buckets = append(f.Buckets, views.BucketOption{ID: b.ID, Name: b.Name, Description: b.Description, Count: len(b.Packages), Checked: checked[b.ID]})
	}
	f.CSRF = csrfToken(c)
	f.Action = "/templates/new"
	title := "New template"
	if !f.New {
		f.Action = "/templates/" + f.ID + "/edit"
		title = "Edit " + f.Title
	}
	if isHTMX(c) {
		return h.render(c, status, views.Page{}, views.TemplateFormBody(f))
	}
	return h.render(c, status, h.page(c, title, "templates"), views.TemplateFormPage(f))
}

func (h *Handler) submitTemplateForm(c echo.Context, base views.TemplateForm) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return &userError{status: http.StatusBadRequest, msg: "The form could not be read", err: err}
	}
	f := readTemplateForm(form)
	f.New, f.ID, f.Title = base.New, base.ID, base.Title

	action := form.Get("action")
	if action != "" && action != "save" {
		if action == "copy-buckets" {
			if err := h.copyBuckets(c, &f, form["bucket"]); err != nil {
				return err
			}
		} else if !applyRowAction(&f, action) {
			return &userError{status: http.StatusBadRequest, msg: "Unknown form action " + strconv.Quote(action)}
		}
		return h.showTemplateForm(c, http.StatusOK, f)
	}

	if err := h.copyBuckets(c, &f, form["bucket"]); err != nil {
		return err
	}
	t, errs := templateFromForm(f)
	t.Normalize()
	var verr *store.ValidationError
	if errors.As(t.Validate(), &verr) {
		for k, msg := range verr.Fields {
			if errs[k] == "" {
				errs[k] = msg
			}
		}
	}
	if len(errs) > 0 {
		f.Errors = errs
		return h.showTemplateForm(c, formStatus(c), f)
	}

	u, _ := currentUser(c)
	var saved store.Template
	if f.New {
		saved, err = h.Templates.CreateTemplate(ctx, u.ID, t)
	} else {
		t.ID = f.ID
		saved, err = h.Templates.UpdateTemplate(ctx, u.ID, t)
	}
	if errors.As(err, &verr) {
		f.Errors = verr.Fields
		return h.showTemplateForm(c, formStatus(c), f)
	}
	if err != nil {
		return err
	}
	verb, kind := "saved", "template.update"
	if f.New {
		verb, kind = "created", "template.create"
	}
	h.audit(c, store.AuditEntry{Kind: kind, UserID: u.ID, Username: u.Username, Target: saved.Name, Detail: "template " + saved.ID})
	setFlash(c, "ok", fmt.Sprintf("Template %q %s.", saved.Name, verb))
	return seeOther(c, "/templates/"+saved.ID)
}

// copyBuckets merges the packages of the ticked buckets, the user's own,
// into the form's package lists (a copy: later bucket edits do not reach
// the template).
func (h *Handler) copyBuckets(c echo.Context, f *views.TemplateForm, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	u, _ := currentUser(c)
	pkgs, _ := formPackages(f)
	before := len(pkgs)
	for _, id := range ids {
		b, err := h.Templates.PackageBucket(c.Request().Context(), u.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile, or not the user's: nothing to copy
		}
		if err != nil {
			return err
		}
		pkgs = store.MergePackages(pkgs, b.Packages...)
	}
	// Keep lines that did not parse, so the user can still fix them.
	texts := map[string]string{}
	for _, p := range f.Packages {
		texts[p.Manager] = p.Text
	}
	f.Packages = packageFields(pkgs)
	for i, p := range f.Packages {
		if _, bad := store.ParsePackageList(store.PackageManager(p.Manager), texts[p.Manager]); len(bad) > 0 {
			f.Packages[i].Text = texts[p.Manager]
		}
	}
	f.Notice = fmt.Sprintf("Copied %d new packages from the ticked buckets.", len(pkgs)-before)
	return nil
}

var rowKeyRE = regexp.MustCompile(`^(scripts|files)\.([0-9]{1,4})\.([a-z_]+)$`)

// readTemplateForm reads the posted fields as typed.
func readTemplateForm(form url.Values) views.TemplateForm {
	f := views.TemplateForm{
		Name: form.Get("name"), Description: form.Get("description"), Tags: form.Get("tags"),
		OSTemplate: form.Get("os_template"), Cores: form.Get("cores"), Memory: form.Get("memory"),
		Swap: form.Get("swap"), Disk: form.Get("disk"), Storage: form.Get("storage"), Bridge: form.Get("bridge"),
		Unprivileged: form.Get("unprivileged") != "", Nesting: form.Get("nesting") != "",
		Keyctl: form.Get("keyctl") != "", Fuse: form.Get("fuse") != "",
	}
	nScripts, nFiles := 0, 0
	for k := range form {
		m := rowKeyRE.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[2])
		if i >= maxFormRows {
			continue
		}
		if m[1] == "scripts" {
			nScripts = max(nScripts, i+1)
		} else {
			nFiles = max(nFiles, i+1)
		}
	}
	for i := range nScripts {
		key := func(k string) string { return "scripts." + strconv.Itoa(i) + "." + k }
		f.Scripts = append(f.Scripts, views.ScriptField{
			Name: form.Get(key("name")), Content: form.Get(key("content")), Enabled: form.Get(key("enabled")) != "",
		})
	}
	for i := range nFiles {
		key := func(k string) string { return "files." + strconv.Itoa(i) + "." + k }
		f.Files = append(f.Files, views.FileField{
			Name: form.Get(key("name")), TargetDir: form.Get(key("target_dir")), Policy: form.Get(key("policy")),
			Mode: form.Get(key("mode")), Owner: form.Get(key("owner")), Content: form.Get(key("content")),
		})
	}
	for _, m := range store.PackageManagers {
		f.Packages = append(f.Packages, views.PackageField{
			Manager: string(m), Label: managerLabels[m], Hint: managerHints[m], Text: form.Get("packages." + string(m)),
		})
	}
	return f
}

// applyRowAction adds, removes or moves a row; it reports whether action
// was one it knows. It sets f.Focus to where the user's eyes are after the
// change, so the answer (a full page without JavaScript) keeps their place.
func applyRowAction(f *views.TemplateForm, action string) bool {
	verb, arg, _ := strings.Cut(action, ":")
	i, err := strconv.Atoi(arg)
	inScripts := err == nil && i >= 0 && i < len(f.Scripts)
	inFiles := err == nil && i >= 0 && i < len(f.Files)
	switch {
	case verb == "add-script":
		f.Scripts = append(f.Scripts, views.ScriptField{Name: nextScriptName(f.Scripts), Enabled: true})
		f.Focus = views.RowKey("scripts", len(f.Scripts)-1, "name")
	case verb == "add-file":
		f.Files = append(f.Files, views.FileField{Policy: string(store.PolicyReplace)})
		f.Focus = views.RowKey("files", len(f.Files)-1, "name")
	case verb == "script-remove" && inScripts:
		f.Scripts = append(f.Scripts[:i], f.Scripts[i+1:]...)
		f.Focus = "add-script"
		if i < len(f.Scripts) {
			f.Focus = views.RowKey("scripts", i, "remove")
		}
	case verb == "script-up" && inScripts:
		if i > 0 {
			f.Scripts[i-1], f.Scripts[i] = f.Scripts[i], f.Scripts[i-1]
			i--
		}
		f.Focus = views.RowKey("scripts", i, "up")
		if i == 0 {
			f.Focus = views.RowKey("scripts", i, "down")
		}
	case verb == "script-down" && inScripts:
		if i < len(f.Scripts)-1 {
			f.Scripts[i], f.Scripts[i+1] = f.Scripts[i+1], f.Scripts[i]
			i++
		}
		f.Focus = views.RowKey("scripts", i, "down")
		if i == len(f.Scripts)-1 {
			f.Focus = views.RowKey("scripts", i, "up")
		}
	case verb == "file-remove" && inFiles:
		f.Files = append(f.Files[:i], f.Files[i+1:]...)
		f.Focus = "add-file"
		if i < len(f.Files) {
			f.Focus = views.RowKey("files", i, "remove")
		}
	default:
		return false
	}
	return true
}

// nextScriptName suggests a name that sorts after the existing scripts.
func nextScriptName(scripts []views.ScriptField) string {
	return fmt.Sprintf("%02d-script.sh", min(10*(len(scripts)+1), 99))
}

// templateFromForm converts the typed form to a template, with messages for
// what cannot even be converted (numbers, package lines).
func templateFromForm(f views.TemplateForm) (store.Template, map[string]string) {
	errs := map[string]string{}
	num := func(key, label, s string) int {
		s = strings.TrimSpace(s)
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			errs[key] = label + " must be a whole number (or empty for the Proxmox default)"
		}
		return n
	}
	t := store.Template{
		Name: f.Name, Description: f.Description, Tags: strings.FieldsFunc(f.Tags, func(r rune) bool { return r == ';' || r == ',' }),
		OSTemplate: f.OSTemplate, Storage: f.Storage, Bridge: f.Bridge,
		Cores:    num("cores", "CPU cores", f.Cores),
		Memory:   num("memory", "Memory", f.Memory),
		Disk:     num("disk", "Disk", f.Disk),
		Features: store.Features{Unprivileged: f.Unprivileged, Nesting: f.Nesting, Keyctl: f.Keyctl, Fuse: f.Fuse},
	}
	if strings.TrimSpace(f.Swap) != "" {
		swap := num("swap", "Swap", f.Swap)
		t.Swap = &swap
	}
	for _, s := range f.Scripts {
		t.Scripts = append(t.Scripts, store.Script{Name: s.Name, Content: s.Content, Enabled: s.Enabled})
	}
	for _, fl := range f.Files {
		t.Files = append(t.Files, store.File{
			Name: fl.Name, TargetDir: fl.TargetDir, Policy: store.FilePolicy(fl.Policy),
			Mode: fl.Mode, Owner: fl.Owner, Content: fl.Content,
		})
	}
	pkgs, problems := formPackages(&f)
	for m, p := range problems {
		errs["packages."+m] = strings.Join(p, "; ")
	}
	t.Packages = pkgs
	return t, errs
}

// formPackages parses the per-manager package lists.
func formPackages(f *views.TemplateForm) ([]store.Package, map[string][]string) {
	var pkgs []store.Package
	problems := map[string][]string{}
	for _, p := range f.Packages {
		got, bad := store.ParsePackageList(store.PackageManager(p.Manager), p.Text)
		pkgs = store.MergePackages(pkgs, got...)
		if len(bad) > 0 {
			problems[p.Manager] = bad
		}
	}
	return pkgs, problems
}
