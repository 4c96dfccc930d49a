package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"corral/views"
)

// placeholder serves an area whose feature is not built yet, saying so plainly.
func (h *Handler) placeholder(title, area, what string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return h.render(c, http.StatusOK, h.page(c, title, area), views.Placeholder(title, what))
	}
}
