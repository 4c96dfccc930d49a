package handlers

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/views"
)

const flashCookie = "corral_flash"

// setFlash carries a one-off message across a redirect in a short cookie.
func setFlash(c echo.Context, level, message string) {
	v := base64.RawURLEncoding.EncodeToString([]byte(level + "|" + message))
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: v, Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request().TLS != nil})
}

// takeFlash reads and clears the flash message, if any.
func takeFlash(c echo.Context) *views.Flash {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	level, msg, ok := strings.Cut(string(raw), "|")
	switch level {
	case "ok", "warn", "bad", "info":
	default:
		return nil
	}
	if !ok || msg == "" {
		return nil
	}
	return &views.Flash{Level: level, Message: msg}
}
