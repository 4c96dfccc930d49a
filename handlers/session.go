package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"corral/store"
)

const (
	sessionCookie = "corral_session"
	anonCookie    = "corral_csrf" // CSRF token for pages before sign-in (double submit)

	ctxSession = "corral.session"
	ctxUser    = "corral.user"
	ctxCSRF    = "corral.csrf"

	valUserID = "uid"
	valCSRF   = "csrf"
)

// loadSession finds the caller's session and user, and the CSRF token the
// request must echo. Signed-in requests use the token kept in the server-side
// session; anonymous ones a random token in a cookie of its own, so the login
// and setup forms are protected without writing a session per visitor.
func (h *Handler) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		sess, err := h.Sessions.Get(r, sessionCookie)
		if err != nil || sess == nil {
			sess, _ = h.Sessions.New(r, sessionCookie)
		}
		c.Set(ctxSession, sess)
		if uid, _ := sess.Values[valUserID].(string); uid != "" {
			u, err := h.Accounts.UserByID(r.Context(), uid)
			switch {
			case err == nil && !u.Disabled: // disabling ends sessions; this is the backstop
				c.Set(ctxUser, u)
				tok, _ := sess.Values[valCSRF].(string)
				c.Set(ctxCSRF, tok)
				h.sessionSeen(c, sess.ID)
				return next(c)
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		tok := ""
		if ck, err := c.Cookie(anonCookie); err == nil && len(ck.Value) >= 32 {
			tok = ck.Value
		} else {
			tok = randomToken()
			c.SetCookie(&http.Cookie{Name: anonCookie, Value: tok, Path: "/", HttpOnly: true,
				SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		}
		c.Set(ctxCSRF, tok)
		return next(c)
	}
}

// sessionSeen keeps the session's address, browser and last use current
// for the account page; the store writes at most once a minute.
func (h *Handler) sessionSeen(c echo.Context, id string) {
	if err := h.Sessions.Seen(c.Request().Context(), id, c.RealIP(), c.Request().UserAgent()); err != nil {
		h.Logger.Warn("note session use", "err", err)
	}
}

// requireUser sends anonymous callers to the login page (HTMX gets HX-Redirect).
func (h *Handler) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := currentUser(c); ok {
			return next(c)
		}
		to := "/login"
		if p := c.Request().URL.RequestURI(); c.Request().Method == http.MethodGet && p != "/" {
			to += "?next=" + url.QueryEscape(p)
		}
		if c.Request().Header.Get(hxRequest) == "true" {
			c.Response().Header().Set(hxRedirect, to)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, to)
	}
}

// currentUser returns the signed-in user, if any.
func currentUser(c echo.Context) (store.User, bool) {
	u, ok := c.Get(ctxUser).(store.User)
	return u, ok
}

func currentSession(c echo.Context) *sessions.Session {
	s, _ := c.Get(ctxSession).(*sessions.Session)
	return s
}

func csrfToken(c echo.Context) string {
	s, _ := c.Get(ctxCSRF).(string)
	return s
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
