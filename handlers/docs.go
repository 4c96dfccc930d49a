package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"corral/assets/docs"
	"corral/views"
)

func (h *Handler) registerDocsRoutes(g *echo.Group) {
	g.GET("/docs/:name", h.docShow)
}

// docBack is where each document's "back" link goes, and its label.
var docBack = map[string][2]string{
	"templates": {"/templates", "Templates"},
}

// docShow renders one of the embedded documents (assets/docs).
func (h *Handler) docShow(c echo.Context) error {
	name := c.Param("name")
	d, ok := docs.Get(name)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such page.")
	}
	back := docBack[name]
	v := views.Doc{Title: d.Title, HTML: d.HTML, BackURL: back[0], BackLabel: back[1]}
	return h.render(c, http.StatusOK, h.page(c, d.Title, "templates"), views.DocPage(v))
}
