package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

// UserAdmin is what administrators' account management and invite links
// need from the store.
type UserAdmin interface {
	Accounts(ctx context.Context) ([]store.Account, error)
	UserByID(ctx context.Context, id string) (store.User, error)
	CreateInvitedUser(ctx context.Context, username, role string) (store.User, string, error)
	SetUserDisabled(ctx context.Context, userID string, disabled bool) error
	SetUserRole(ctx context.Context, userID, role string) error
	ResetPassword(ctx context.Context, userID string) (string, error)
	DeleteUser(ctx context.Context, userID string, withNodes bool) (store.Removed, error)
	Invite(ctx context.Context, token string) (store.Invite, error)
	RedeemInvite(ctx context.Context, token, password string) (store.User, error)
}

// GatewaySessions cuts a user's open SSH gateway connections.
type GatewaySessions interface {
	DisconnectUser(userID string) int
}

// UseGateway lets account changes end the SSH sessions of an account that
// is disabled, reset or deleted. The gateway is built after the handlers
// (it lists containers through them), so it is attached here; call it
// before serving.
func (h *Handler) UseGateway(g GatewaySessions) { h.gateway = g }

// signOutSSH closes the account's gateway connections, if the gateway runs.
func (h *Handler) signOutSSH(userID string) {
	if h.gateway != nil {
		h.gateway.DisconnectUser(userID)
	}
}

const usersPath = "/settings/users"

// registerUserRoutes mounts the administrators' pages. Each route checks
// the role itself (requireAdmin), so a member gets the same 404 as for a
// page that does not exist.
func (h *Handler) registerUserRoutes(g *echo.Group) {
	g.GET(usersPath, h.userList, h.requireAdmin)
	g.POST(usersPath, h.userCreate, h.requireAdmin)
	g.POST(usersPath+"/:id/disable", h.userSetDisabled(true), h.requireAdmin)
	g.POST(usersPath+"/:id/enable", h.userSetDisabled(false), h.requireAdmin)
	g.POST(usersPath+"/:id/reset", h.userReset, h.requireAdmin)
	g.POST(usersPath+"/:id/role", h.userSetRole, h.requireAdmin)
	g.POST(usersPath+"/:id/delete", h.userDelete, h.requireAdmin)
}

// requireAdmin answers 404 to anyone but an enabled administrator.
func (h *Handler) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, ok := currentUser(c); ok && u.IsAdmin() {
			return next(c)
		}
		return echo.ErrNotFound
	}
}

func (h *Handler) userList(c echo.Context) error {
	return h.usersPage(c, http.StatusOK, views.NewUserForm{}, nil)
}

func (h *Handler) usersPage(c echo.Context, status int, form views.NewUserForm, link *views.InviteLink) error {
	me, _ := currentUser(c)
	accounts, err := h.Users.Accounts(c.Request().Context())
	if err != nil {
		return err
	}
	m := views.UsersModel{CSRF: csrfToken(c), Form: form, Link: link}
	for _, a := range accounts {
		m.Rows = append(m.Rows, views.UserRow{
			ID: a.ID, Username: a.Username, Admin: a.IsAdmin(), Created: a.Created.Local(),
			LastSignIn: a.LastSignIn.Local(), Disabled: a.Disabled, Pending: a.Pending, Nodes: a.Nodes,
			Self: a.ID == me.ID,
		})
	}
	return h.render(c, status, h.page(c, "Users", "settings"), views.UsersPage(m))
}

// userCreate adds an account and shows its invite link, once, in this
// answer: the link is not stored, so it cannot travel through a redirect.
func (h *Handler) userCreate(c echo.Context) error {
	me, _ := currentUser(c)
	form := views.NewUserForm{Username: strings.TrimSpace(c.FormValue("username")), Admin: c.FormValue("role") == store.RoleAdmin}
	role := store.RoleMember
	if form.Admin {
		role = store.RoleAdmin
	}
	u, token, err := h.Users.CreateInvitedUser(c.Request().Context(), form.Username, role)
	switch {
	case errors.Is(err, store.ErrInvalid):
		form.Error = ruleText(err)
		return h.usersPage(c, http.StatusUnprocessableEntity, form, nil)
	case errors.Is(err, store.ErrConflict):
		form.Error = fmt.Sprintf("There is already an account named %q.", form.Username)
		return h.usersPage(c, http.StatusUnprocessableEntity, form, nil)
	case err != nil:
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "account.create", UserID: me.ID, Username: me.Username, SubjectID: u.ID, Target: u.Username, Detail: "role " + u.Role + ", invite link made"})
	return h.usersPage(c, http.StatusOK, views.NewUserForm{}, h.inviteLink(c, u.Username, token, false))
}

// inviteLink is the absolute link a person opens, on the address the
// administrator is using.
func (h *Handler) inviteLink(c echo.Context, username, token string, reset bool) *views.InviteLink {
	scheme := "http"
	if h.Cookies.Secure(c.Request()) {
		scheme = "https"
	}
	return &views.InviteLink{
		Username: username, Reset: reset, Expires: h.Now().Add(store.InviteTTL).Local(),
		URL: scheme + "://" + c.Request().Host + "/invite/" + token,
	}
}

// targetUser is the account named by the :id of an admin route.
func (h *Handler) targetUser(c echo.Context) (store.User, store.User, error) {
	me, _ := currentUser(c)
	u, err := h.Users.UserByID(c.Request().Context(), c.Param("id"))
	return me, u, err
}

// userRefused sends the administrator back to the list with why.
func userRefused(c echo.Context, msg string) error {
	setFlash(c, "bad", msg)
	return seeOther(c, usersPath)
}

const lastAdminMessage = "Corral needs at least one enabled administrator: make another account an administrator first."

func (h *Handler) userSetDisabled(disabled bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		me, u, err := h.targetUser(c)
		if err != nil {
			return err
		}
		if disabled && u.ID == me.ID {
			return userRefused(c, "You cannot disable your own account. Another administrator can.")
		}
		err = h.Users.SetUserDisabled(c.Request().Context(), u.ID, disabled)
		switch {
		case errors.Is(err, store.ErrLastAdmin):
			return userRefused(c, lastAdminMessage)
		case err != nil:
			return err
		}
		kind, msg := "account.enable", u.Username+" can sign in again."
		if disabled {
			h.signOutSSH(u.ID)
			kind, msg = "account.disable", u.Username+" is disabled and signed out everywhere."
		}
		h.audit(c, store.AuditEntry{Kind: kind, UserID: me.ID, Username: me.Username, SubjectID: u.ID, Target: u.Username})
		setFlash(c, "ok", msg)
		return seeOther(c, usersPath)
	}
}

func (h *Handler) userReset(c echo.Context) error {
	me, u, err := h.targetUser(c)
	if err != nil {
		return err
	}
	token, err := h.Users.ResetPassword(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	h.signOutSSH(u.ID)
	h.audit(c, store.AuditEntry{Kind: "account.reset", UserID: me.ID, Username: me.Username, SubjectID: u.ID, Target: u.Username, Detail: "signed out everywhere, new link made"})
	if u.ID == me.ID {
		// Their own sessions, this one included, just ended.
		setFlash(c, "info", "Your password was reset and you are signed out. Use the link you were given.")
		return seeOther(c, "/login")
	}
	return h.usersPage(c, http.StatusOK, views.NewUserForm{}, h.inviteLink(c, u.Username, token, !u.Pending))
}

func (h *Handler) userSetRole(c echo.Context) error {
	me, u, err := h.targetUser(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	err = h.Users.SetUserRole(c.Request().Context(), u.ID, role)
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		return userRefused(c, lastAdminMessage)
	case errors.Is(err, store.ErrInvalid):
		return userRefused(c, "Choose administrator or member.")
	case err != nil:
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "account.role", UserID: me.ID, Username: me.Username, SubjectID: u.ID, Target: u.Username, Detail: "role " + role})
	if u.ID == me.ID && role != store.RoleAdmin {
		setFlash(c, "ok", "You are a member now; another administrator manages accounts.")
		return seeOther(c, "/settings/account")
	}
	word := "a member"
	if role == store.RoleAdmin {
		word = "an administrator"
	}
	setFlash(c, "ok", u.Username+" is "+word+" now.")
	return seeOther(c, usersPath)
}

func (h *Handler) userDelete(c echo.Context) error {
	me, u, err := h.targetUser(c)
	if err != nil {
		return err
	}
	if u.ID == me.ID {
		return userRefused(c, "You cannot delete your own account. Another administrator can.")
	}
	gone, err := h.Users.DeleteUser(c.Request().Context(), u.ID, c.FormValue("remove_nodes") == "1")
	switch {
	case errors.Is(err, store.ErrHasNodes):
		return userRefused(c, u.Username+" still has Proxmox nodes in Corral. Tick “Also remove its nodes” to delete the account with them; nothing on Proxmox is touched.")
	case errors.Is(err, store.ErrLastAdmin):
		return userRefused(c, lastAdminMessage)
	case errors.Is(err, store.ErrJobRunning):
		return userRefused(c, "Not deleted: a container is being created for "+u.Username+". Try again when it has finished.")
	case err != nil:
		return err
	}
	h.signOutSSH(u.ID)
	detail := fmt.Sprintf("removed %d node(s), %d container record(s), %d template(s), %d job(s) from Corral", gone.Nodes, gone.Containers, gone.Templates, gone.Jobs)
	h.audit(c, store.AuditEntry{Kind: "account.delete", UserID: me.ID, Username: me.Username, SubjectID: u.ID, Target: u.Username, Detail: detail})
	setFlash(c, "ok", "Account "+u.Username+" deleted; "+detail+". Nothing on Proxmox was touched.")
	return seeOther(c, usersPath)
}
