package handlers

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"corral/views"
)

// render writes body as an HTMX fragment or inside the full layout, renders
// into a buffer first so a template error becomes a clean 500, and always
// sets Vary so caches keep the two forms apart.
func (h *Handler) render(c echo.Context, status int, page views.Page, body templ.Component) error {
	c.Response().Header().Add("Vary", hxRequest)
	comp := body
	if !isHTMX(c) {
		comp = views.Layout(page, body)
	}
	ctx := c.Request().Context()
	if u, ok := currentUser(c); ok {
		ctx = views.WithViewer(ctx, views.Viewer{Admin: u.IsAdmin()})
	}
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page builds the view model every full page needs.
func (h *Handler) page(c echo.Context, title, active string) views.Page {
	p := views.Page{Title: title, Active: active, Version: h.Version, CSRF: csrfToken(c), Flash: takeFlash(c)}
	if u, ok := currentUser(c); ok {
		p.Username = u.Username
	}
	return p
}

// seeOther redirects after a successful form post: HX-Redirect for HTMX, 303 otherwise.
func seeOther(c echo.Context, to string) error {
	if c.Request().Header.Get(hxRequest) == "true" {
		c.Response().Header().Set(hxRedirect, to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
