package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

// elsewhere says where a visitor belongs instead of the sign-in page:
// the containers when signed in, setup while no account exists, else "".
func (h *Handler) elsewhere(c echo.Context) (string, error) {
	if _, ok := currentUser(c); ok {
		return "/containers", nil
	}
	n, err := h.Accounts.CountUsers(c.Request().Context())
	if err != nil || n > 0 {
		return "", err
	}
	return "/setup", nil
}

// home sends people where they can start: setup, sign-in, or containers.
func (h *Handler) home(c echo.Context) error {
	to, err := h.elsewhere(c)
	if err != nil {
		return err
	}
	if to == "" {
		to = "/login"
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// setupAvailable reports whether /setup may still create the first account.
func (h *Handler) setupAvailable(c echo.Context) error {
	n, err := h.Accounts.CountUsers(c.Request().Context())
	if err != nil {
		return err
	}
	if n > 0 {
		return echo.NewHTTPError(http.StatusNotFound, "Corral is already set up. Sign in instead.")
	}
	return nil
}

func (h *Handler) setupShow(c echo.Context) error {
	if err := h.setupAvailable(c); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, h.page(c, "Set up", ""), views.Setup(views.AuthForm{CSRF: csrfToken(c)}))
}

// setupForm is the first-run form; Validate reports every field's problem
// at once, so the form is corrected in one go.
type setupForm struct {
	username, password, confirm string
}

func (f setupForm) Validate() map[string]string {
	errs := map[string]string{}
	if err := store.ValidateUsername(f.username); err != nil {
		errs["username"] = ruleText(err)
	}
	if err := store.ValidatePassword(f.password); err != nil {
		errs["password"] = ruleText(err)
	}
	if f.confirm != f.password {
		errs["confirm"] = "The two passwords differ."
	}
	return errs
}

func (h *Handler) setupCreate(c echo.Context) error {
	if err := h.setupAvailable(c); err != nil {
		return err
	}
	form := setupForm{username: strings.TrimSpace(c.FormValue("username")), password: c.FormValue("password"), confirm: c.FormValue("confirm")}
	f := views.AuthForm{CSRF: csrfToken(c), Username: form.username}
	if errs := form.Validate(); len(errs) > 0 {
		f.Error, f.Errors = "Fix the fields marked below.", errs
		return h.render(c, http.StatusUnprocessableEntity, h.page(c, "Set up", ""), views.Setup(f))
	}
	u, err := h.Accounts.CreateFirstUser(c.Request().Context(), form.username, form.password)
	switch {
	case errors.Is(err, store.ErrSetupDone):
		return echo.NewHTTPError(http.StatusNotFound, "Corral is already set up. Sign in instead.")
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrConflict):
		f.Error = ruleText(err)
		return h.render(c, http.StatusUnprocessableEntity, h.page(c, "Set up", ""), views.Setup(f))
	case err != nil:
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "setup.account", UserID: u.ID, Username: u.Username})
	if err := h.signIn(c, u); err != nil {
		return err
	}
	setFlash(c, "ok", "Welcome, "+u.Username+". Add a Proxmox node to get started.")
	return seeOther(c, "/settings/nodes")
}

func (h *Handler) loginShow(c echo.Context) error {
	to, err := h.elsewhere(c)
	if err != nil {
		return err
	}
	if to != "" {
		return c.Redirect(http.StatusSeeOther, to)
	}
	f := views.AuthForm{CSRF: csrfToken(c), Next: safeNext(c.QueryParam("next"))}
	return h.render(c, http.StatusOK, h.page(c, "Sign in", ""), views.Login(f))
}

func (h *Handler) loginSubmit(c echo.Context) error {
	f := views.AuthForm{CSRF: csrfToken(c), Username: strings.TrimSpace(c.FormValue("username")), Next: safeNext(c.FormValue("next"))}
	keys := []string{"user:" + strings.ToLower(f.Username), "addr:" + c.RealIP()}
	try, ok, wait := h.Limiter.Reserve(c.Request().Context(), keys...)
	if !ok {
		secs := int(math.Ceil(wait.Seconds()))
		h.Logger.Warn("sign-in refused: too many failed attempts", "username", f.Username, "remote", c.RealIP(), "retry_after_s", secs)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		h.audit(c, store.AuditEntry{Kind: "login.limited", Username: f.Username})
		f.Error = fmt.Sprintf("Too many failed sign-ins. Wait %d seconds, then try again.", secs)
		return h.render(c, http.StatusTooManyRequests, h.page(c, "Sign in", ""), views.Login(f))
	}
	u, err := h.Accounts.Authenticate(c.Request().Context(), f.Username, c.FormValue("password"))
	if errors.Is(err, store.ErrBadCredentials) {
		try.Fail()
		h.audit(c, store.AuditEntry{Kind: "login.failed", Username: f.Username})
		f.Error = "Wrong username or password."
		return h.render(c, http.StatusUnauthorized, h.page(c, "Sign in", ""), views.Login(f))
	}
	if errors.Is(err, store.ErrDisabled) {
		// The password was right, so saying why tells a stranger nothing.
		try.Release()
		h.audit(c, store.AuditEntry{Kind: "login.disabled", Username: f.Username})
		f.Error = "This account is disabled. Ask a Corral administrator."
		return h.render(c, http.StatusForbidden, h.page(c, "Sign in", ""), views.Login(f))
	}
	try.Release()
	if err != nil {
		return err
	}
	h.Limiter.Reset(keys[0])
	h.audit(c, store.AuditEntry{Kind: "login.ok", UserID: u.ID, Username: u.Username})
	if err := h.signIn(c, u); err != nil {
		return err
	}
	to := f.Next
	if to == "" {
		to = "/containers"
	}
	return seeOther(c, to)
}

// signIn starts u's session and notes the sign-in on the account.
func (h *Handler) signIn(c echo.Context, u store.User) error {
	if err := h.startSession(c, u); err != nil {
		return err
	}
	if err := h.Accounts.RecordSignIn(c.Request().Context(), u.ID); err != nil {
		h.Logger.Warn("record sign-in", "user", u.Username, "err", err)
	}
	return nil
}

// startSession signs u in on a fresh session id (no fixation) with a new CSRF token.
func (h *Handler) startSession(c echo.Context, u store.User) error {
	sess := currentSession(c)
	for k := range sess.Values {
		delete(sess.Values, k)
	}
	sess.Values[valUserID] = u.ID
	sess.Values[valCSRF] = randomToken()
	if err := h.Sessions.Rotate(c.Request(), c.Response(), sess); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	h.sessionSeen(c, sess.ID)
	return nil
}

func (h *Handler) logout(c echo.Context) error {
	sess := currentSession(c)
	if u, ok := currentUser(c); ok {
		h.audit(c, store.AuditEntry{Kind: "logout", UserID: u.ID, Username: u.Username})
	}
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	setFlash(c, "info", "You are signed out.")
	return seeOther(c, "/login")
}

// safeNext keeps post-login redirects on this site: it accepts only a path
// with an optional query, such as "/containers?node=x", and "" otherwise.
// Browsers drop tabs and newlines anywhere in a URL and read "\" as "/", so
// "/\t/evil.example" or "/\\evil.example" would leave the site: no control
// character, space or backslash is accepted anywhere.
func safeNext(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || len(p) > 2048 {
		return ""
	}
	for _, r := range p {
		if r <= ' ' || r == '\\' || unicode.IsControl(r) {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	return p
}

// audit records e with the caller's address; a failure to audit is logged, not fatal.
func (h *Handler) audit(c echo.Context, e store.AuditEntry) {
	e.Remote = c.RealIP()
	if e.Time.IsZero() {
		e.Time = h.Now()
	}
	if err := h.Audit.Audit(c.Request().Context(), e); err != nil {
		h.Logger.Error("audit write failed", "kind", e.Kind, "err", err)
	}
}
