package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
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
	Template(ctx context.Context, userID, id string) (store.Template, error)
	Templates(ctx context.Context, userID string, f store.TemplateFilter) ([]store.Template, error)
	TemplateTags(ctx context.Context, userID string) ([]string, error)
	CreateTemplate(ctx context.Context, userID string, t store.Template) (store.Template, error)
	UpdateTemplate(ctx context.Context, userID string, t store.Template) (store.Template, error)
	DeleteTemplate(ctx context.Context, userID, id string) error
	ShareTemplate(ctx context.Context, userID, id string, shared bool) (store.Template, error)
	CopyTemplate(ctx context.Context, userID, id string) (store.Template, error)
	ExportTemplate(ctx context.Context, userID, id string) (filename string, data []byte, err error)
	ImportTemplate(ctx context.Context, userID string, data []byte) (store.Template, error)

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
	ImportTemplatesDir(ctx context.Context, userID string) (tmplfs.Report, error)
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
	if isHTMX(c) && c.Request().Header.Get("HX-Target") == views.TemplateResultsID {
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
		v.Tags = append(v.Tags, views.TagOption{Name: t, Selected: containsString(f.Tags, t)})
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
	return h.render(c, http.StatusOK, h.page(c, t.Name, "templates"), views.TemplateDetailPage(templateDetail(csrfToken(c), t, u.ID)))
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

// templateImportFile creates a template from an uploaded export file.
func (h *Handler) templateImportFile(c echo.Context) error {
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxTemplateFile+64<<10)
	fh, err := c.FormFile("file")
	if err != nil {
		return h.importFailed(c, "Choose a template file (.json) exported from Corral, of at most 8 MiB.")
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTemplateFile+1))
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	if len(data) > maxTemplateFile {
		return h.importFailed(c, "The template file is larger than 8 MiB.")
	}
	u, _ := currentUser(c)
	t, err := h.Templates.ImportTemplate(c.Request().Context(), u.ID, data)
	var verr *store.ValidationError
	switch {
	case errors.As(err, &verr):
		return h.importFailed(c, validationLines(verr)...)
	case errors.Is(err, store.ErrInvalid):
		return h.importFailed(c, err.Error())
	case err != nil:
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "template.import", UserID: u.ID, Username: u.Username, Target: t.Name, Detail: "template " + t.ID + " from a file"})
	setFlash(c, "ok", fmt.Sprintf("Template %q imported.", t.Name))
	return seeOther(c, "/templates/"+t.ID)
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
// what happened, template by template.
func (h *Handler) templateImportDir(c echo.Context) error {
	imp, ok := h.dirImporter()
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "No templates directory is configured (start corral with --templates DIR).")
	}
	u, _ := currentUser(c)
	r, err := imp.ImportTemplatesDir(c.Request().Context(), u.ID)
	if err != nil {
		return &userError{status: http.StatusInternalServerError, msg: "Could not read the templates directory", err: err}
	}
	h.Logger.Info("templates imported", "dir", imp.TemplatesDir(), "user", u.Username, "imported", len(r.Imported), "failed", len(r.Errors))
	for _, im := range r.Imported {
		h.audit(c, store.AuditEntry{Kind: "template.import", UserID: u.ID, Username: u.Username, Target: im.Name, Detail: "from " + imp.TemplatesDir()})
	}
	sum := views.ImportSummary{}
	for _, im := range r.Imported {
		verb := "updated"
		if im.Created {
			verb = "created"
		}
		sum.Lines = append(sum.Lines, fmt.Sprintf("%s %s: %d scripts, %d files, %d packages", im.Name, verb, im.Scripts, im.Files, im.Packages))
	}
	sum.Lines = append(sum.Lines, r.Warnings...)
	if len(r.Imported) == 0 && len(r.Errors) == 0 {
		sum.Lines = append(sum.Lines, "No templates found: each template is a directory holding a template.conf.")
	}
	for _, e := range r.Errors {
		sum.Errors = append(sum.Errors, e.Error())
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

// validationLines lists a validation error's messages, by field name.
func validationLines(v *store.ValidationError) []string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + ": " + v.Fields[k]
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
