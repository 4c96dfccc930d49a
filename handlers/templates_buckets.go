package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

func (h *Handler) registerBucketRoutes(g *echo.Group) {
	g.GET("/templates/buckets", h.bucketList)
	g.POST("/templates/buckets", h.bucketCreate)
	g.POST("/templates/buckets/:id", h.bucketRename)
	g.POST("/templates/buckets/:id/import", h.bucketImport)
	g.POST("/templates/buckets/:id/remove", h.bucketRemovePackage)
	g.GET("/templates/buckets/:id/delete", h.bucketDeleteConfirm)
	g.POST("/templates/buckets/:id/delete", h.bucketDelete)
}

const bucketsPath = "/templates/buckets"

func (h *Handler) bucketList(c echo.Context) error {
	return h.showBuckets(c, http.StatusOK, "", views.BucketForm{}, views.BucketForm{})
}

// showBuckets renders the page; failedID's forms show form (input and
// errors), and create shows the create form's.
func (h *Handler) showBuckets(c echo.Context, status int, failedID string, form, create views.BucketForm) error {
	u, _ := currentUser(c)
	buckets, err := h.Templates.PackageBuckets(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	v := views.BucketList{CSRF: csrfToken(c), Create: create}
	for _, m := range store.PackageManagers {
		v.Managers = append(v.Managers, string(m))
	}
	for _, b := range buckets {
		bv := views.BucketView{ID: b.ID, Name: b.Name, Description: b.Description,
			Form: views.BucketForm{Name: b.Name, Description: b.Description, Manager: string(store.ManagerApt)}}
		if b.ID == failedID {
			bv.Form = form
		}
		for _, p := range b.Packages {
			bp := views.BucketPackage{Manager: string(p.Manager), Name: p.Name}
			if p.Manager == store.ManagerCustom {
				bp.Detail = "check: " + p.Check + " — install: " + p.Install
			}
			bv.Packages = append(bv.Packages, bp)
		}
		v.Buckets = append(v.Buckets, bv)
	}
	return h.render(c, status, h.page(c, "Package buckets", "templates"), views.BucketsPage(v))
}

func (h *Handler) bucketCreate(c echo.Context) error {
	u, _ := currentUser(c)
	in := views.BucketForm{Name: c.FormValue("name"), Description: c.FormValue("description")}
	b, err := h.Templates.CreatePackageBucket(c.Request().Context(), u.ID, in.Name, in.Description)
	var verr *store.ValidationError
	if errors.As(err, &verr) {
		in.Errors = verr.Fields
		return h.showBuckets(c, formStatus(c), "", views.BucketForm{}, in)
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", fmt.Sprintf("Bucket %q created. Add packages to it below.", b.Name))
	return seeOther(c, bucketsPath+"#bucket-"+b.ID)
}

func (h *Handler) bucketRename(c echo.Context) error {
	u, _ := currentUser(c)
	id := c.Param("id")
	in := views.BucketForm{Name: c.FormValue("name"), Description: c.FormValue("description"), Manager: string(store.ManagerApt)}
	b, err := h.Templates.RenamePackageBucket(c.Request().Context(), u.ID, id, in.Name, in.Description)
	var verr *store.ValidationError
	if errors.As(err, &verr) {
		in.Errors = verr.Fields
		return h.showBuckets(c, formStatus(c), id, in, views.BucketForm{})
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", fmt.Sprintf("Bucket %q saved.", b.Name))
	return seeOther(c, bucketsPath+"#bucket-"+b.ID)
}

// bucketImport adds a pasted list (one package or many) to a bucket and
// says what was added, what was already there and which lines were wrong.
func (h *Handler) bucketImport(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	id := c.Param("id")
	b, err := h.Templates.PackageBucket(ctx, u.ID, id)
	if err != nil {
		return err
	}
	m := store.PackageManager(c.FormValue("manager"))
	paste := c.FormValue("packages")
	in := views.BucketForm{Name: b.Name, Description: b.Description, Manager: string(m), Paste: paste}
	if !slices.Contains(managerNames(), string(m)) {
		in.Errors = map[string]string{"packages": "Pick a package manager: apt, npm, pip or custom."}
		return h.showBuckets(c, formStatus(c), id, in, views.BucketForm{})
	}
	res, err := h.Templates.ImportBucketPackages(ctx, u.ID, id, m, paste)
	var verr *store.ValidationError
	if errors.As(err, &verr) {
		in.Errors = verr.Fields
		return h.showBuckets(c, formStatus(c), id, in, views.BucketForm{})
	}
	if err != nil {
		return err
	}
	level, msg := "ok", fmt.Sprintf("Added %s to %s.", pluralize(len(res.Added), "package"), b.Name)
	if len(res.Duplicates) > 0 {
		msg += fmt.Sprintf(" Skipped %s already there: %s.", pluralize(len(res.Duplicates), "duplicate"), shortList(res.Duplicates, 8))
	}
	if len(res.Problems) > 0 {
		level = "warn"
		msg += " Could not read " + shortList(res.Problems, 3) + "."
	}
	setFlash(c, level, msg)
	return seeOther(c, bucketsPath+"#bucket-"+id)
}

func (h *Handler) bucketRemovePackage(c echo.Context) error {
	u, _ := currentUser(c)
	id := c.Param("id")
	name := c.FormValue("name")
	err := h.Templates.RemoveBucketPackage(c.Request().Context(), u.ID, id, store.PackageManager(c.FormValue("manager")), name)
	if err != nil {
		return err
	}
	setFlash(c, "ok", fmt.Sprintf("Removed %s.", name))
	return seeOther(c, bucketsPath+"#bucket-"+id)
}

func (h *Handler) bucketDeleteConfirm(c echo.Context) error {
	u, _ := currentUser(c)
	b, err := h.Templates.PackageBucket(c.Request().Context(), u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, h.page(c, "Delete "+b.Name, "templates"), views.ConfirmDeletePage(views.ConfirmDelete{
		CSRF:     csrfToken(c),
		Title:    "Delete package bucket",
		Question: fmt.Sprintf("Delete the bucket %q and its %s?", b.Name, pluralize(len(b.Packages), "package")),
		Detail:   "Templates keep the packages they already copied from it. This cannot be undone.",
		Action:   bucketsPath + "/" + b.ID + "/delete",
		Cancel:   bucketsPath,
	}))
}

func (h *Handler) bucketDelete(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	b, err := h.Templates.PackageBucket(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.Templates.DeletePackageBucket(ctx, u.ID, b.ID); err != nil {
		return err
	}
	setFlash(c, "ok", fmt.Sprintf("Bucket %q deleted.", b.Name))
	return seeOther(c, bucketsPath)
}

func managerNames() []string {
	var out []string
	for _, m := range store.PackageManagers {
		out = append(out, string(m))
	}
	return out
}

func pluralize(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// shortList joins the first n items and says how many more there are, to
// keep flash messages short.
func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
