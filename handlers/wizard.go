package handlers

import "github.com/labstack/echo/v4"

// registerWizardRoutes mounts the creation wizard. (The creation feature
// replaces this file.)
func (h *Handler) registerWizardRoutes(g *echo.Group) {}
