package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/store/tmplfs"
	"corral/views"
)

// TemplateStore is what the template and package bucket pages need;
// *store.DB satisfies it. Every method takes the signed-in user: templates
// and buckets belong to one account. A user reads their own templates, the
// built-ins and templates others share, and changes only their own; anything
// else answers store.ErrNotFound.
type TemplateStore interface {
	TemplateLibrary
	PackageBucketStore
}

// TemplateLibrary keeps a user's templates, with the built-ins and shared ones.
type TemplateLibrary interface {
	Template(ctx context.Context, userID, id string) (store.Template, error)
	Templates(ctx context.Context, userID string, f store.TemplateFilter) ([]store.Template, error)
	TemplateTags(ctx context.Context, userID string) ([]string, error)
	CreateTemplate(ctx context.Context, userID string, t store.Template) (store.Template, error)
	UpdateTemplate(ctx context.Context, userID string, t store.Template) (store.Template, error)
	DeleteTemplate(ctx context.Context, userID, id string) error
	ShareTemplate(ctx context.Context, userID, id string, shared bool) (store.Template, error)
	CopyTemplate(ctx context.Context, userID, id string) (store.Template, error)
	ExportTemplate(ctx context.Context, userID, id string) (filename string, data []byte, err error)
	UpsertTemplateByName(ctx context.Context, userID string, t store.Template) (store.Template, bool, error)
	FreeTemplateName(ctx context.Context, userID, name, word string) (string, error)
	ResetTemplate(ctx context.Context, userID, id string) (store.Template, error)
}

// PackageBucketStore keeps a user's named package lists.
type PackageBucketStore interface {
	PackageBuckets(ctx context.Context, userID string) ([]store.PackageBucket, error)
	PackageBucket(ctx context.Context, userID, id string) (store.PackageBucket, error)
	CreatePackageBucket(ctx context.Context, userID, name, description string) (store.PackageBucket, error)
	RenamePackageBucket(ctx context.Context, userID, id, name, description string) (store.PackageBucket, error)
	DeletePackageBucket(ctx context.Context, userID, id string) error
	ImportBucketPackages(ctx context.Context, userID, id string, m store.PackageManager, text string) (store.BulkResult, error)
	RemoveBucketPackage(ctx context.Context, userID, id string, m store.PackageManager, name string) error
}

// TemplateDirImporter is optionally implemented by the TemplateStore when a
// templates directory is configured (--templates); tmplfs.Library does. It
// adds the "Import from directory" button, which imports into the signed-in
// user's templates.
type TemplateDirImporter interface {
	TemplatesDir() string
	ImportTemplatesDir(ctx context.Context, userID string, opt tmplfs.Options) (tmplfs.Report, error)
}

// maxTemplateFile bounds an uploaded template file.
const maxTemplateFile = 8 << 20

func (h *Handler) registerTemplateRoutes(g *echo.Group) {
	g.GET("/templates", h.templateList)
	g.POST("/templates/import", h.templateImportFile)
	g.POST("/templates/import-dir", h.templateImportDir)
	g.GET("/templates/new", h.templateNew)
	g.POST("/templates/new", h.templateNewSubmit)
	g.GET("/templates/:id", h.templateDetail)
	g.GET("/templates/:id/edit", h.templateEdit)
	g.POST("/templates/:id/edit", h.templateEditSubmit)
	g.GET("/templates/:id/export", h.templateExport)
	g.GET("/templates/:id/delete", h.templateDeleteConfirm)
	g.POST("/templates/:id/delete", h.templateDelete)
	g.POST("/templates/:id/copy", h.templateCopy)
	g.GET("/templates/:id/reset", h.templateResetConfirm)
	g.POST("/templates/:id/reset", h.templateReset)
	g.POST("/templates/:id/share", h.templateShare)
	h.registerBucketRoutes(g)
}

// visibleTemplate loads a template the signed-in user may read: their own,
// a built-in, or one shared with them.
func (h *Handler) visibleTemplate(c echo.Context) (store.User, store.Template, error) {
	u, _ := currentUser(c)
	t, err := h.Templates.Template(c.Request().Context(), u.ID, c.Param("id"))
	return u, t, err
}

// ownTemplate loads a template the signed-in user may change. A built-in or
// another account's template, shared or not, is not found: only the owner
// edits, deletes or shares.
func (h *Handler) ownTemplate(c echo.Context) (store.User, store.Template, error) {
	u, t, err := h.visibleTemplate(c)
	if err == nil && !t.EditableBy(u.ID) {
		err = fmt.Errorf("template %s is not %s's to change: %w", t.ID, u.Username, store.ErrNotFound)
	}
	return u, t, err
}

// dirImporter returns the directory importer, if one is configured.
func (h *Handler) dirImporter() (TemplateDirImporter, bool) {
	imp, ok := h.Templates.(TemplateDirImporter)
	if !ok || imp.TemplatesDir() == "" {
		return nil, false
	}
	return imp, true
}

// templateFilter reads ?q= and the tags, given as repeated ?tag= (what the
// filter form sends) or as ?tags=a,b.
func templateFilter(c echo.Context) store.TemplateFilter {
	q := c.QueryParams()
	tags := q["tag"]
	for _, s := range q["tags"] {
		tags = append(tags, strings.Split(s, ",")...)
	}
	return store.TemplateFilter{Query: strings.TrimSpace(q.Get("q")), Tags: store.NormalizeTags(tags)}
}

func (h *Handler) templateList(c echo.Context) error {
	v, err := h.templateListView(c, templateFilter(c))
	if err != nil {
		return err
	}
	if isHTMX(c) && c.Request().Header.Get(hxTarget) == views.TemplateResultsID {
		return h.render(c, http.StatusOK, views.Page{}, views.TemplateResults(v))
	}
	return h.render(c, http.StatusOK, h.page(c, "Templates", "templates"), views.TemplatesPage(v))
}

// templateListView builds the list page for filter f.
func (h *Handler) templateListView(c echo.Context, f store.TemplateFilter) (views.TemplateList, error) {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	list, err := h.Templates.Templates(ctx, u.ID, f)
	if err != nil {
		return views.TemplateList{}, err
	}
	tags, err := h.Templates.TemplateTags(ctx, u.ID)
	if err != nil {
		return views.TemplateList{}, err
	}
	v := views.TemplateList{CSRF: csrfToken(c), Query: f.Query, Filtered: f.Query != "" || len(f.Tags) > 0}
	for _, t := range tags {
		v.Tags = append(v.Tags, views.TagOption{Name: t, Selected: slices.Contains(f.Tags, t)})
	}
	for _, t := range list {
		v.Cards = append(v.Cards, templateCard(t, u.ID))
	}
	if imp, ok := h.dirImporter(); ok {
		v.ImportDir = imp.TemplatesDir()
	}
	return v, nil
}

func (h *Handler) templateDetail(c echo.Context) error {
	u, t, err := h.visibleTemplate(c)
	if err != nil {
		return err
	}
	var builtin store.Template
	if t.CopiedFrom != "" {
		if b, err := h.Templates.Template(c.Request().Context(), u.ID, t.CopiedFrom); err == nil {
			builtin = b
		}
	}
	return h.render(c, http.StatusOK, h.page(c, t.Name, "templates"), views.TemplateDetailPage(templateDetail(csrfToken(c), t, builtin, u.ID)))
}

// templateResetConfirm asks before a copy of a built-in is reset to it.
func (h *Handler) templateResetConfirm(c echo.Context) error {
	u, t, err := h.ownTemplate(c)
	if err != nil {
		return err
	}
	if t.CopiedFrom == "" {
		return fmt.Errorf("template %s is no copy of a built-in: %w", t.ID, store.ErrNotFound)
	}
	b, err := h.Templates.Template(c.Request().Context(), u.ID, t.CopiedFrom)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, h.page(c, "Reset "+t.Name, "templates"), views.ConfirmDeletePage(views.ConfirmDelete{
		CSRF:     csrfToken(c),
		Title:    "Reset to the built-in",
		Question: fmt.Sprintf("Replace everything in %q with the built-in %q as this Corral ships it?", t.Name, b.Name),
		Detail:   "Your changes to its resources, packages, files and scripts are lost; its name and sharing stay. Export it first to keep a copy. Containers already created from it do not change.",
		Action:   "/templates/" + t.ID + "/reset",
		Cancel:   "/templates/" + t.ID,
		Button:   "Reset",
	}))
}

// templateReset resets a copy of a built-in to the built-in's current
// recipe.
func (h *Handler) templateReset(c echo.Context) error {
	u, t, err := h.ownTemplate(c)
	if err != nil {
		return err
	}
	if t.CopiedFrom == "" {
		return fmt.Errorf("template %s is no copy of a built-in: %w", t.ID, store.ErrNotFound)
	}
	if _, err := h.Templates.ResetTemplate(c.Request().Context(), u.ID, t.ID); err != nil {
		return err
	}
	setFlash(c, "ok", fmt.Sprintf("Template %q reset to the built-in.", t.Name))
	return seeOther(c, "/templates/"+t.ID)
}

func (h *Handler) templateExport(c echo.Context) error {
	u, _ := currentUser(c)
	name, data, err := h.Templates.ExportTemplate(c.Request().Context(), u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	return c.Blob(http.StatusOK, "application/json", data)
}

func (h *Handler) templateDeleteConfirm(c echo.Context) error {
	_, t, err := h.ownTemplate(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, h.page(c, "Delete "+t.Name, "templates"), views.ConfirmDeletePage(views.ConfirmDelete{
		CSRF:     csrfToken(c),
		Title:    "Delete template",
		Question: fmt.Sprintf("Delete the template %q?", t.Name),
		Detail:   "Containers already created from it keep running unchanged. This cannot be undone; export it first to keep a copy.",
		Action:   "/templates/" + t.ID + "/delete",
		Cancel:   "/templates/" + t.ID,
	}))
}

func (h *Handler) templateDelete(c echo.Context) error {
	u, t, err := h.ownTemplate(c)
	if err != nil {
		return err
	}
	if err := h.Templates.DeleteTemplate(c.Request().Context(), u.ID, t.ID); err != nil {
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "template.delete", UserID: u.ID, Username: u.Username, Target: t.Name, Detail: "template " + t.ID})
	setFlash(c, "ok", fmt.Sprintf("Template %q deleted.", t.Name))
	return seeOther(c, "/templates")
}

// templateCopy makes the signed-in user their own editable copy of a
// template they may read: a built-in, a shared one, or one of theirs.
func (h *Handler) templateCopy(c echo.Context) error {
	u, t, err := h.visibleTemplate(c)
	if err != nil {
		return err
	}
	cp, err := h.Templates.CopyTemplate(c.Request().Context(), u.ID, t.ID)
	if err != nil {
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "template.copy", UserID: u.ID, Username: u.Username, Target: cp.Name,
		Detail: fmt.Sprintf("template %s copied from %q (%s)", cp.ID, t.Name, t.ID)})
	setFlash(c, "ok", fmt.Sprintf("Copied %q to your templates as %q. This copy is yours to edit.", t.Name, cp.Name))
	return seeOther(c, "/templates/"+cp.ID)
}

// templateShare shares one of the user's templates with every account
// (shared=1) or makes it private again (shared=0).
func (h *Handler) templateShare(c echo.Context) error {
	u, t, err := h.ownTemplate(c)
	if err != nil {
		return err
	}
	shared := c.FormValue("shared") == "1"
	if _, err := h.Templates.ShareTemplate(c.Request().Context(), u.ID, t.ID, shared); err != nil {
		return err
	}
	kind := "template.unshare"
	if shared {
		kind = "template.share"
	}
	h.audit(c, store.AuditEntry{Kind: kind, UserID: u.ID, Username: u.Username, Target: t.Name, Detail: "template " + t.ID})
	msg := fmt.Sprintf("Template %q is private again: only you see it. Copies others made stay theirs.", t.Name)
	if shared {
		msg = fmt.Sprintf("Template %q is shared: everyone on this Corral can see and copy it; only you can change it.", t.Name)
	}
	setFlash(c, "ok", msg)
	return seeOther(c, "/templates/"+t.ID)
}

// templateImportFile creates a template from an uploaded export file. When
// the user already has a template of its name, the page asks: replace it,
// or import under another name. That answer posts the file's text back
// (field "data") with on_conflict=overwrite or rename and new_name, so it
// needs neither JavaScript nor a second upload.
func (h *Handler) templateImportFile(c echo.Context) error {
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxTemplateFile+64<<10)
	data, problem, err := uploadedTemplate(c)
	if err != nil {
		return err
	}
	if problem != "" {
		return h.importFailed(c, problem)
	}
	t, err := store.DecodeTemplateFile(data)
	if err != nil {
		return h.importFailed(c, err.Error())
	}
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	choice := c.FormValue("on_conflict")
	verb := "imported"
	var saved store.Template
	switch choice {
	case tmplfs.Overwrite:
		saved, _, err = h.Templates.UpsertTemplateByName(ctx, u.ID, t)
		verb = "replaced by the imported file"
	case tmplfs.Rename:
		t.Name = strings.TrimSpace(c.FormValue("new_name"))
		saved, err = h.Templates.CreateTemplate(ctx, u.ID, t)
	default:
		saved, err = h.Templates.CreateTemplate(ctx, u.ID, t)
	}
	var verr *store.ValidationError
	switch {
	case errors.As(err, &verr) && verr.Conflict:
		problem := ""
		if choice == tmplfs.Rename {
			problem = verr.Fields["name"]
		}
		return h.importConflict(c, t.Name, data, problem)
	case errors.As(err, &verr):
		return h.importFailed(c, verr.Lines()...)
	case err != nil:
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "template.import", UserID: u.ID, Username: u.Username, Target: saved.Name, Detail: "template " + saved.ID + " from a file"})
	setFlash(c, "ok", fmt.Sprintf("Template %q %s.", saved.Name, verb))
	return seeOther(c, "/templates/"+saved.ID)
}

// uploadedTemplate reads the template file: the text posted back from the
// conflict question, or else the uploaded file. problem explains a missing
// or oversized one.
func uploadedTemplate(c echo.Context) (data []byte, problem string, err error) {
	if text := c.FormValue("data"); text != "" {
		return []byte(text), "", nil
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "Choose a template file (.json) exported from Corral, of at most 8 MiB.", nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxTemplateFile+1))
	if err != nil {
		return nil, "", fmt.Errorf("read upload: %w", err)
	}
	if len(data) > maxTemplateFile {
		return nil, "The template file is larger than 8 MiB.", nil
	}
	return data, "", nil
}

// importConflict asks what to do with an imported file named like one of
// the user's templates.
func (h *Handler) importConflict(c echo.Context, name string, data []byte, problem string) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	v, err := h.templateListView(c, store.TemplateFilter{})
	if err != nil {
		return err
	}
	fc := &views.FileConflict{Name: name, Data: string(data), Problem: problem, NewName: name}
	if existing, err := h.ownTemplateNamed(ctx, u.ID, name); err == nil && existing != nil {
		fc.ExistingID, fc.Name = existing.ID, existing.Name
	}
	if fc.NewName, err = h.Templates.FreeTemplateName(ctx, u.ID, name, "imported"); err != nil {
		return err
	}
	if problem != "" {
		fc.NewName = c.FormValue("new_name")
	}
	v.FileConflict = fc
	return h.render(c, http.StatusConflict, h.page(c, "Templates", "templates"), views.TemplatesPage(v))
}

// ownTemplateNamed finds the user's own template called name in any letter
// case, or nil.
func (h *Handler) ownTemplateNamed(ctx context.Context, userID, name string) (*store.Template, error) {
	list, err := h.Templates.Templates(ctx, userID, store.TemplateFilter{Query: name})
	if err != nil {
		return nil, err
	}
	for _, t := range list {
		if t.Owner == userID && strings.EqualFold(t.Name, name) {
			return &t, nil
		}
	}
	return nil, nil
}

// importFailed shows the list page with what went wrong.
func (h *Handler) importFailed(c echo.Context, problems ...string) error {
	v, err := h.templateListView(c, store.TemplateFilter{})
	if err != nil {
		return err
	}
	v.Import = &views.ImportSummary{Errors: problems}
	return h.render(c, formStatus(c), h.page(c, "Templates", "templates"), views.TemplatesPage(v))
}

// templateImportDir imports the configured templates directory and shows
// what happened, template by template. Templates named like one the user
// already has wait for an answer (fields choice.DIR and rename.DIR), which
// the next post of this form carries.
func (h *Handler) templateImportDir(c echo.Context) error {
	imp, ok := h.dirImporter()
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "No templates directory is configured (start corral with --templates DIR).")
	}
	form, err := c.FormParams()
	if err != nil {
		return &userError{status: http.StatusBadRequest, msg: "The form could not be read", err: err}
	}
	opt := tmplfs.Options{Choices: map[string]tmplfs.Choice{}}
	for k := range form {
		dir, ok := strings.CutPrefix(k, "choice.")
		switch action := form.Get(k); {
		case !ok:
		case action == tmplfs.Overwrite || action == tmplfs.Rename || action == tmplfs.Skip:
			opt.Choices[dir] = tmplfs.Choice{Action: action, Name: form.Get("rename." + dir)}
		}
	}
	u, _ := currentUser(c)
	r, err := imp.ImportTemplatesDir(c.Request().Context(), u.ID, opt)
	if err != nil {
		return &userError{status: http.StatusInternalServerError, msg: "Could not read the templates directory", err: err}
	}
	h.Logger.Info("templates imported", "dir", imp.TemplatesDir(), "user", u.Username,
		"imported", len(r.Imported), "failed", len(r.Errors), "conflicts", len(r.Conflicts))
	for _, im := range r.Imported {
		h.audit(c, store.AuditEntry{Kind: "template.import", UserID: u.ID, Username: u.Username, Target: im.Name, Detail: "from " + imp.TemplatesDir()})
	}
	sum := views.ImportSummary{}
	for _, im := range r.Imported {
		sum.Lines = append(sum.Lines, fmt.Sprintf("%s %s: %d scripts, %d files, %d packages", im.Name, im.Verb(), im.Scripts, im.Files, im.Packages))
	}
	for _, dir := range r.Skipped {
		sum.Lines = append(sum.Lines, dir+" skipped, as you chose.")
	}
	sum.Lines = append(sum.Lines, r.Warnings...)
	if len(r.Imported) == 0 && len(r.Errors) == 0 && len(r.Conflicts) == 0 && len(r.Skipped) == 0 {
		sum.Lines = append(sum.Lines, "No templates found: each template is a directory holding a template.conf.")
	}
	for _, e := range r.Errors {
		sum.Errors = append(sum.Errors, e.Error())
	}
	for _, cf := range r.Conflicts {
		sum.DirConflicts = append(sum.DirConflicts, views.DirConflict{
			Dir: cf.Dir, Name: cf.Name, ExistingID: cf.ExistingID, FromHere: cf.FromHere,
			NewName: cmp.Or(opt.Choices[cf.Dir].Name, cf.Suggest), Problem: cf.Problem,
		})
	}
	v, err := h.templateListView(c, store.TemplateFilter{})
	if err != nil {
		return err
	}
	v.Import = &sum
	return h.render(c, http.StatusOK, h.page(c, "Templates", "templates"), views.TemplatesPage(v))
}

// formStatus is the status of a form shown again with errors: 422, except
// for htmx, which (version 2) swaps only 2xx responses by default.
func formStatus(c echo.Context) int {
	if isHTMX(c) {
		return http.StatusOK
	}
	return http.StatusUnprocessableEntity
}
