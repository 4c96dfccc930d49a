package handlers

import (
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"
)

const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "_csrf"
)

// checkCSRF refuses every state-changing request that does not echo the
// caller's token, before any handler runs, so a forged request changes nothing.
func (h *Handler) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want := csrfToken(c)
		// Header or form body only, never the URL: a token in a URL ends up
		// in logs, browser history and Referer headers.
		got := c.Request().Header.Get(csrfHeader)
		if got == "" {
			got = c.Request().PostFormValue(csrfField)
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden,
				"This form has expired or did not come from Corral. Reload the page and try again.")
		}
		return next(c)
	}
}
