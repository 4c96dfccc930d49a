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

// SSHKeyStore keeps the public keys users register for the SSH gateway,
// each user's under their own id.
type SSHKeyStore interface {
	AddSSHKey(ctx context.Context, userID, label, authorizedKey string) (store.SSHKey, error)
	SSHKeys(ctx context.Context, userID string) ([]store.SSHKey, error)
	DeleteSSHKey(ctx context.Context, userID, fingerprint string) error
}

// SSHGatewayInfo tells the SSH keys page how users reach the gateway.
type SSHGatewayInfo struct {
	Fingerprint string // SHA256:... of the gateway's host key; empty when the gateway is off
	Port        string
}

func (h *Handler) registerSSHKeyRoutes(g *echo.Group) {
	g.GET("/settings/ssh-keys", h.sshKeyList)
	g.POST("/settings/ssh-keys", h.sshKeyAdd)
	g.POST("/settings/ssh-keys/delete", h.sshKeyDelete)
}

func (h *Handler) sshKeyPage(c echo.Context, status int, form views.SSHKeyForm) error {
	u, _ := currentUser(c)
	keys, err := h.SSHKeys.SSHKeys(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	host := c.Request().Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	rows := make([]views.SSHKeyRow, len(keys))
	for i, k := range keys {
		rows[i] = views.SSHKeyRow{Fingerprint: k.Fingerprint, Label: k.Label, Type: k.Type, Created: k.Created, LastUsed: k.LastUsed}
	}
	m := views.SSHKeysModel{
		CSRF: csrfToken(c), Username: u.Username, Host: host, Keys: rows, Form: form,
		GatewayFingerprint: h.SSHGateway.Fingerprint, GatewayPort: h.SSHGateway.Port,
	}
	return h.render(c, status, h.page(c, "SSH keys", "settings"), views.SSHKeys(m))
}

func (h *Handler) sshKeyList(c echo.Context) error {
	return h.sshKeyPage(c, http.StatusOK, views.SSHKeyForm{})
}

func (h *Handler) sshKeyAdd(c echo.Context) error {
	u, _ := currentUser(c)
	form := views.SSHKeyForm{Label: strings.TrimSpace(c.FormValue("label")), Key: strings.TrimSpace(c.FormValue("key"))}
	if form.Key == "" {
		form.Error = "Paste a public key, e.g. the contents of ~/.ssh/id_ed25519.pub."
		return h.sshKeyPage(c, formStatus(c), form)
	}
	if looksPrivate(form.Key) {
		// A secret must never travel back into the page, not even to the
		// person who pasted it.
		form.Key = ""
		form.Error = "That is a private key. Corral did not keep it and does not show it again. Paste the public key instead: the .pub file next to it, e.g. ~/.ssh/id_ed25519.pub."
		return h.sshKeyPage(c, formStatus(c), form)
	}
	k, err := h.SSHKeys.AddSSHKey(c.Request().Context(), u.ID, form.Label, form.Key)
	switch {
	case errors.Is(err, store.ErrConflict):
		form.Error = "You have already added this key."
		return h.sshKeyPage(c, formStatus(c), form)
	case errors.Is(err, store.ErrInvalid):
		form.Error = ruleText(err)
		return h.sshKeyPage(c, formStatus(c), form)
	case err != nil:
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "sshkey.add", UserID: u.ID, Username: u.Username, Target: k.Fingerprint, Detail: k.Label})
	setFlash(c, "ok", "Key “"+k.Label+"” added. You can now ssh to Corral with it.")
	return seeOther(c, "/settings/ssh-keys")
}

func (h *Handler) sshKeyDelete(c echo.Context) error {
	u, _ := currentUser(c)
	fp := c.FormValue("fingerprint")
	if err := h.SSHKeys.DeleteSSHKey(c.Request().Context(), u.ID, fp); err != nil {
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "sshkey.delete", UserID: u.ID, Username: u.Username, Target: fp})
	setFlash(c, "ok", "Key removed.")
	return seeOther(c, "/settings/ssh-keys")
}

// looksPrivate reports whether pasted text holds a private key (OpenSSH,
// PEM or PuTTY) rather than a public one.
func looksPrivate(s string) bool {
	return strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "PuTTY-User-Key-File")
}
