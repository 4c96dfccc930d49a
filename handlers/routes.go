package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"corral/assets"
)

// Register mounts every route on e. The middleware order matters: the session
// must be loaded before CSRF can be checked, and CSRF is checked before any
// handler may change state.
func (h *Handler) Register(e *echo.Echo) {
	e.HTTPErrorHandler = h.errorHandler
	e.GET("/healthz", h.healthz)
	e.GET(assets.Prefix+"*", echo.WrapHandler(assets.Handler()))

	web := e.Group("", h.securityHeaders, h.secureCookies, h.loadSession, h.checkCSRF)
	web.GET("/", h.home)
	web.GET("/setup", h.setupShow)
	web.POST("/setup", h.setupCreate)
	web.GET("/login", h.loginShow)
	web.POST("/login", h.loginSubmit)
	h.registerInviteRoutes(web)

	app := web.Group("", h.requireUser)
	app.POST("/logout", h.logout)
	// One line per area; each area's file registers its own routes.
	h.registerNodeRoutes(app)
	h.registerContainerRoutes(app)
	h.registerConsoleRoutes(app)
	h.registerDayTwoRoutes(app)
	h.registerVMIDRoutes(app)
	h.registerWizardRoutes(app)
	h.registerJobRoutes(app)
	h.registerTemplateRoutes(app)
	h.registerSSHKeyRoutes(app)
	h.registerAccountRoutes(app)
	h.registerActivityRoutes(app)
	h.registerUserRoutes(app)
	h.registerDocsRoutes(app)
}

func (h *Handler) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": h.Version})
}

// securityHeaders keeps pages out of frames and other origins' reach.
func (h *Handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		hd.Set("Cache-Control", "no-store")
		return next(c)
	}
}
