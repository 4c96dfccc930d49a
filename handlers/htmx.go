package handlers

import (
	"encoding/json"

	"github.com/labstack/echo/v4"
)

// HTMX request and response header names, in one place.
const (
	hxRequest        = "HX-Request"
	hxBoosted        = "HX-Boosted"
	hxHistoryRestore = "HX-History-Restore-Request"
	hxRedirect       = "HX-Redirect"
	hxTrigger        = "HX-Trigger"
	hxPushURL        = "HX-Push-Url"
	hxTarget         = "HX-Target"
)

// isHTMX reports whether the request wants a fragment rather than a page.
func isHTMX(c echo.Context) bool {
	h := c.Request().Header
	return h.Get(hxRequest) == "true" && h.Get(hxBoosted) != "true" && h.Get(hxHistoryRestore) != "true"
}

// toast asks the page (through HX-Trigger) to show a short message.
func toast(c echo.Context, level, message string) {
	b, _ := json.Marshal(map[string]any{"toast": map[string]string{"level": level, "message": message}})
	c.Response().Header().Set(hxTrigger, string(b))
}
