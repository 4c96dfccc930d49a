package handlers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

// AccountSelf is what a user's own account page needs from the store.
type AccountSelf interface {
	ChangePassword(ctx context.Context, userID, current, next, keepSession string) error
	UserSessions(ctx context.Context, userID, current string) ([]store.SessionInfo, error)
	RevokeSession(ctx context.Context, userID, id string) error
	RevokeOtherSessions(ctx context.Context, userID, keep string) (int, error)
}

const accountPath = "/settings/account"

func (h *Handler) registerAccountRoutes(g *echo.Group) {
	g.GET(accountPath, h.accountShow)
	g.POST(accountPath+"/password", h.accountPassword)
	g.POST(accountPath+"/sessions/revoke-others", h.accountRevokeOthers)
	g.POST(accountPath+"/sessions/:id/revoke", h.accountRevoke)
}

func (h *Handler) accountShow(c echo.Context) error {
	return h.accountPage(c, http.StatusOK, views.PasswordForm{})
}

func (h *Handler) accountPage(c echo.Context, status int, pw views.PasswordForm) error {
	u, _ := currentUser(c)
	list, err := h.Account.UserSessions(c.Request().Context(), u.ID, currentSession(c).ID)
	if err != nil {
		return err
	}
	host := c.Request().Host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		host = hn
	}
	m := views.AccountModel{
		CSRF: csrfToken(c), Username: u.Username, Admin: u.IsAdmin(), Created: u.Created.Local(), Password: pw,
		GatewayFingerprint: h.SSHGateway.Fingerprint, GatewayPort: h.SSHGateway.Port, Host: host,
	}
	for _, s := range list {
		m.Sessions = append(m.Sessions, views.SessionRow{
			ID: s.ID, Browser: describeAgent(s.Agent), Agent: s.Agent, Remote: s.Remote,
			Created: s.Created.Local(), LastSeen: s.LastSeen.Local(), Current: s.Current,
		})
	}
	return h.render(c, status, h.page(c, "Account", "settings"), views.AccountPage(m))
}

// passwordForm is the change-password form; Validate reports every
// field's problem at once.
type passwordForm struct{ current, next, confirm string }

func (f passwordForm) Validate() map[string]string {
	errs := map[string]string{}
	if f.current == "" {
		errs["current"] = "Enter your current password."
	}
	if err := store.ValidatePassword(f.next); err != nil {
		errs["password"] = ruleText(err)
	}
	if f.confirm != f.next {
		errs["confirm"] = "The two passwords differ."
	}
	return errs
}

func (h *Handler) accountPassword(c echo.Context) error {
	u, _ := currentUser(c)
	f := passwordForm{current: c.FormValue("current"), next: c.FormValue("password"), confirm: c.FormValue("confirm")}
	if errs := f.Validate(); len(errs) > 0 {
		return h.accountPage(c, formStatus(c), views.PasswordForm{Errors: errs})
	}
	// The current password is a password guess like any sign-in: it
	// shares the login limiter, so a borrowed session cannot brute-force it.
	key := "user:" + strings.ToLower(u.Username)
	try, ok, _ := h.Limiter.Reserve(c.Request().Context(), key)
	if !ok {
		return h.accountPage(c, http.StatusTooManyRequests, views.PasswordForm{Errors: map[string]string{"current": "Too many wrong passwords. Wait a minute, then try again."}})
	}
	err := h.Account.ChangePassword(c.Request().Context(), u.ID, f.current, f.next, currentSession(c).ID)
	switch {
	case errors.Is(err, store.ErrBadCredentials):
		try.Fail()
		h.audit(c, store.AuditEntry{Kind: "account.password.failed", UserID: u.ID, Username: u.Username, Detail: "wrong current password"})
		return h.accountPage(c, formStatus(c), views.PasswordForm{Errors: map[string]string{"current": "That is not your current password."}})
	case err != nil:
		try.Release()
		return err
	}
	try.Release()
	h.Limiter.Reset(key)
	h.audit(c, store.AuditEntry{Kind: "account.password", UserID: u.ID, Username: u.Username, Detail: "changed; other sessions signed out"})
	setFlash(c, "ok", "Password changed. Your other sessions were signed out.")
	return seeOther(c, accountPath)
}

func (h *Handler) accountRevoke(c echo.Context) error {
	u, _ := currentUser(c)
	id := c.Param("id")
	mine, err := h.Account.UserSessions(c.Request().Context(), u.ID, currentSession(c).ID)
	if err != nil {
		return err
	}
	current := false
	for _, s := range mine {
		current = current || (s.ID == id && s.Current)
	}
	if err := h.Account.RevokeSession(c.Request().Context(), u.ID, id); err != nil {
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "account.session.revoke", UserID: u.ID, Username: u.Username})
	if current {
		setFlash(c, "info", "You are signed out.")
		return seeOther(c, "/login")
	}
	setFlash(c, "ok", "That session is signed out.")
	return seeOther(c, accountPath+"#sessions")
}

func (h *Handler) accountRevokeOthers(c echo.Context) error {
	u, _ := currentUser(c)
	n, err := h.Account.RevokeOtherSessions(c.Request().Context(), u.ID, currentSession(c).ID)
	if err != nil {
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "account.session.revoke_others", UserID: u.ID, Username: u.Username, Detail: pluralize(n, "session")})
	setFlash(c, "ok", "Signed out "+pluralize(n, "other session")+".")
	return seeOther(c, accountPath+"#sessions")
}

// describeAgent turns a User-Agent into a few words such as "Firefox on
// Linux"; the full string stays in a tooltip.
func describeAgent(ua string) string {
	if ua == "" {
		return "Unknown browser"
	}
	product, _, _ := strings.Cut(ua, "/")
	browser := firstMatch(ua, product,
		"Edg/", "Edge", "OPR/", "Opera", "Firefox/", "Firefox", "Chromium/", "Chromium",
		"HeadlessChrome/", "Headless Chrome", "Chrome/", "Chrome", "Safari/", "Safari",
		"curl/", "curl", "Wget/", "Wget")
	system := firstMatch(ua, "",
		"Android", "Android", "iPhone", "iPhone", "iPad", "iPad", "CrOS", "ChromeOS",
		"Mac OS X", "macOS", "Windows", "Windows", "Linux", "Linux")
	if system == "" {
		return browser
	}
	return browser + " on " + system
}

// firstMatch returns the name after the first needle ua contains, from
// pairs of needle and name, or def.
func firstMatch(ua, def string, pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.Contains(ua, pairs[i]) {
			return pairs[i+1]
		}
	}
	return def
}
