package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"corral/views"
)

// registerPlaceholderRoutes serves the areas whose features are not built
// yet, saying so plainly; each is replaced when its feature lands.
func (h *Handler) registerPlaceholderRoutes(g *echo.Group) {
	g.GET("/containers", h.placeholder("Containers", "containers",
		"The containers dashboard will list every container on all your Proxmox nodes."))
	g.GET("/settings/nodes", h.placeholder("Proxmox nodes", "settings",
		"Here you will add your Proxmox nodes (API token and SSH access)."))
}

func (h *Handler) placeholder(title, area, what string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return h.render(c, http.StatusOK, h.page(c, title, area), views.Placeholder(title, what))
	}
}
