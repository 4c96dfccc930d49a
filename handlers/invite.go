package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

// The invite pages are open to anyone holding the link: the token is the
// credential. They carry the anonymous CSRF token like the login form.

const badInviteMessage = "This link does not work: it was used already, it is older than 24 hours, or it was replaced by a newer one. Ask an administrator for a new link."

// LogPath is a request path as logs may keep it: an invite link's token
// opens an account, so it is left out.
func LogPath(p string) string {
	if strings.HasPrefix(p, "/invite/") {
		return "/invite/(token)"
	}
	return p
}

func (h *Handler) registerInviteRoutes(g *echo.Group) {
	g.GET("/invite/:token", h.inviteShow)
	g.POST("/invite/:token", h.inviteRedeem)
}

// liveInvite is the invite the :token names, or a 404 that says what to do.
func (h *Handler) liveInvite(c echo.Context) (store.Invite, error) {
	inv, err := h.Users.Invite(c.Request().Context(), c.Param("token"))
	if errors.Is(err, store.ErrNotFound) {
		return inv, echo.NewHTTPError(http.StatusNotFound, badInviteMessage)
	}
	return inv, err
}

func (h *Handler) inviteForm(c echo.Context, inv store.Invite) views.InviteForm {
	return views.InviteForm{CSRF: csrfToken(c), Token: c.Param("token"), Username: inv.Username, Reset: inv.Purpose == store.PurposeReset}
}

func (h *Handler) inviteShow(c echo.Context) error {
	inv, err := h.liveInvite(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, h.page(c, "Choose your password", ""), views.InvitePage(h.inviteForm(c, inv)))
}

// inviteRedeem sets the password, uses the link up and signs the person in.
func (h *Handler) inviteRedeem(c echo.Context) error {
	inv, err := h.liveInvite(c)
	if err != nil {
		return err
	}
	f := h.inviteForm(c, inv)
	errs := map[string]string{}
	pw := c.FormValue("password")
	if err := store.ValidatePassword(pw); err != nil {
		errs["password"] = ruleText(err)
	}
	if c.FormValue("confirm") != pw {
		errs["confirm"] = "The two passwords differ."
	}
	if len(errs) > 0 {
		f.Errors = errs
		return h.render(c, http.StatusUnprocessableEntity, h.page(c, "Choose your password", ""), views.InvitePage(f))
	}
	u, err := h.Users.RedeemInvite(c.Request().Context(), c.Param("token"), pw)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, badInviteMessage)
	case err != nil:
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "account.invite.used", UserID: u.ID, Username: u.Username, Detail: inv.Purpose + " link used, password set"})
	if err := h.signIn(c, u); err != nil {
		return err
	}
	setFlash(c, "ok", "Welcome, "+u.Username+". Your password is set. Add a Proxmox node to get started.")
	return seeOther(c, "/containers")
}
