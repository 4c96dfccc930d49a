package handlers

import "github.com/labstack/echo/v4"

// TemplateStore is what the template pages need. (Placeholder: the templates
// feature replaces this file.)
type TemplateStore interface{}

func (h *Handler) registerTemplateRoutes(g *echo.Group) {
	g.GET("/templates", h.placeholder("Templates", "templates",
		"Templates describe how containers are built: packages, files and scripts."))
}
