package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/ssh"

	"corral/exec/nodeprobe"
	"corral/store"
	"corral/views"
)

// nodeInput is the add/edit form as typed. Secrets stay here, server-side.
type nodeInput struct {
	Name, Host, Port, TokenID, TokenSecret string
	SSHUser, SSHPort, SSHPassword, SSHKey  string
}

func readNodeInput(c echo.Context) nodeInput {
	f := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	return nodeInput{
		Name: f("name"), Host: f("host"), Port: f("port"),
		TokenID: f("token_id"), TokenSecret: f("token_secret"),
		SSHUser: f("ssh_user"), SSHPort: f("ssh_port"),
		// Passwords may legitimately start or end with spaces.
		SSHPassword: c.FormValue("ssh_password"), SSHKey: f("ssh_key"),
	}
}

// Messages for a kept secret the form asks for again.
const (
	tokenSecretAgain = "You changed the host or API port: enter the token secret again. Corral sends a secret only to the address it was entered for."
	sshSecretAgain   = "You changed the host or SSH port: enter the SSH password (or key) again. Corral sends a secret only to the address it was entered for."
)

// apply validates the input onto base (the stored node when editing, a
// fresh one when adding) and returns the candidate, the secrets typed in
// this flow, and field errors. A secret left empty comes from held (typed
// in an earlier try of this flow), else from base, but either only while
// the address it was entered for is unchanged: changing the host or a port
// asks for it again, so a secret never follows a mistyped address.
func (in nodeInput) apply(base store.Node, held PendingNode, editing bool) (store.Node, NodeSecrets, map[string]string) {
	errs := map[string]string{}
	n := base
	n.Name, n.Host, n.TokenID, n.SSHUser = in.Name, in.Host, in.TokenID, in.SSHUser
	if n.Name == "" || len(n.Name) > 64 {
		errs["name"] = "Give the node a name of 1 to 64 characters."
	}
	if !nodeprobe.ValidHost(n.Host) {
		errs["host"] = "Enter a host name or IP address, without https:// or a port."
	}
	n.Port = parsePort(in.Port, 8006, "port", errs)
	n.SSHPort = parsePort(in.SSHPort, 22, "ssh_port", errs)
	if user, name, ok := strings.Cut(n.TokenID, "!"); !ok || !strings.Contains(user, "@") || name == "" || strings.ContainsAny(n.TokenID, " =") {
		errs["token_id"] = "Write the token ID as user@realm!name, for example corral@pve!corral."
	}
	if n.SSHUser == "" {
		n.SSHUser = "root"
	}
	var typed NodeSecrets
	in.applyTokenSecret(&n, &typed, base, held, editing, errs)
	in.applySSHSecret(&n, &typed, base, held, editing, errs)
	return n, typed, errs
}

// applyTokenSecret sets n's token secret: typed now, else held from an
// earlier try, else stored, the last two only while n's API address is the
// one they were entered for.
func (in nodeInput) applyTokenSecret(n *store.Node, typed *NodeSecrets, base store.Node, held PendingNode, editing bool, errs map[string]string) {
	apiMoved := func(o store.Node) bool { return n.Host != o.Host || n.Port != o.Port }
	heldToken, storedToken := held.Typed.TokenSecret != "", editing && base.TokenSecret != ""
	switch {
	case in.TokenSecret != "":
		typed.TokenSecret, n.TokenSecret = in.TokenSecret, in.TokenSecret
	case heldToken && !apiMoved(held.Node):
		typed.TokenSecret, n.TokenSecret = held.Typed.TokenSecret, held.Typed.TokenSecret
	case storedToken && !apiMoved(base):
		// the stored secret, to its own address
	case heldToken || storedToken:
		n.TokenSecret = ""
		errs["token_secret"] = tokenSecretAgain
	default:
		n.TokenSecret = ""
		errs["token_secret"] = "Enter the token secret."
	}
}

// applySSHSecret sets n's SSH password or key by the same rule, for n's
// SSH address; a key must parse, and password and key exclude each other.
func (in nodeInput) applySSHSecret(n *store.Node, typed *NodeSecrets, base store.Node, held PendingNode, editing bool, errs map[string]string) {
	sshMoved := func(o store.Node) bool { return n.Host != o.Host || n.SSHPort != o.SSHPort }
	heldSSH := held.Typed.SSHPassword != "" || held.Typed.SSHKey != ""
	storedSSH := editing && (base.SSHPassword != "" || base.SSHKey != "")
	pw, key := in.SSHPassword, in.SSHKey
	if pw == "" && key == "" && heldSSH && !sshMoved(held.Node) {
		pw, key = held.Typed.SSHPassword, held.Typed.SSHKey
	}
	switch {
	case pw != "" && key != "":
		errs["ssh_key"] = "Give either an SSH password or a private key, not both."
	case key != "":
		if _, err := ssh.ParsePrivateKey([]byte(key)); err != nil {
			errs["ssh_key"] = "This private key cannot be read: paste the whole key, BEGIN and END lines included, without a passphrase."
		} else {
			typed.SSHKey = key
		}
		n.SSHKey, n.SSHPassword = key, ""
	case pw != "":
		typed.SSHPassword = pw
		n.SSHPassword, n.SSHKey = pw, ""
	case storedSSH && !sshMoved(base):
		// the stored password or key, to its own address
	case heldSSH || storedSSH:
		n.SSHPassword, n.SSHKey = "", ""
		errs["ssh_password"] = sshSecretAgain
	default:
		n.SSHPassword, n.SSHKey = "", ""
		errs["ssh_password"] = "Enter the SSH password of the node (or a private key below)."
	}
}

func parsePort(s string, def int, field string, errs map[string]string) int {
	if s == "" {
		return def
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		errs[field] = "Enter a port between 1 and 65535."
		return def
	}
	return p
}

// connectionChanged reports whether the candidate must be tested before it
// is saved: another address, login, secret or trusted key. (A secret typed
// again is tested even when it equals the stored one.)
func connectionChanged(old, n store.Node) bool {
	return old.Host != n.Host || old.Port != n.Port || old.TokenID != n.TokenID || old.TokenSecret != n.TokenSecret ||
		old.SSHUser != n.SSHUser || old.SSHPort != n.SSHPort || old.SSHPassword != n.SSHPassword || old.SSHKey != n.SSHKey ||
		!strings.EqualFold(old.TLSFingerprint, n.TLSFingerprint) || old.TLSUseCA != n.TLSUseCA || old.SSHHostKey != n.SSHHostKey
}

// formFor fills the form view from typed input, never with a secret: for
// each secret only whether one is kept, typed in an earlier try or stored.
// stored is the record being edited (zero when adding), cand what the input
// made of it, typed the secrets the user typed in this flow.
func formFor(c echo.Context, in nodeInput, stored, cand store.Node, typed NodeSecrets, editing bool) views.NodeForm {
	kept := func(typedValue, candValue string) string {
		switch {
		case typedValue != "":
			return views.SecretHeld
		case candValue != "":
			return views.SecretStored
		}
		return views.SecretNone
	}
	f := views.NodeForm{
		CSRF: csrfToken(c), Action: "/settings/nodes", Editing: editing, ID: stored.ID,
		Name: in.Name, Host: in.Host, Port: in.Port, TokenID: in.TokenID, SSHUser: in.SSHUser, SSHPort: in.SSHPort,
		TokenSecretKept: kept(typed.TokenSecret, cand.TokenSecret),
		SSHPasswordKept: kept(typed.SSHPassword, cand.SSHPassword),
		SSHKeyKept:      kept(typed.SSHKey, cand.SSHKey),
		Privileges:      nodeprobe.PrivilegeLines(),
		SetupCommands:   nodeprobe.TokenSetupCommands(),
	}
	if editing {
		f.Action = "/settings/nodes/" + stored.ID
	}
	return f
}

func (h *Handler) newNodeForm(c echo.Context) views.NodeForm {
	return formFor(c, nodeInput{Port: "8006", SSHUser: "root", SSHPort: "22"}, store.Node{}, store.Node{}, NodeSecrets{}, false)
}

func inputOf(n store.Node) nodeInput {
	return nodeInput{
		Name: n.Name, Host: n.Host, Port: strconv.Itoa(n.Port), TokenID: n.TokenID,
		SSHUser: n.SSHUser, SSHPort: strconv.Itoa(n.SSHPort),
	}
}

// retryForm is the form again after a failed try, holding what the user
// typed (and the keys they confirmed) server-side under a new id, so the
// retry needs neither again. The page gets only the id.
func (h *Handler) retryForm(c echo.Context, userID string, in nodeInput, pn PendingNode) (views.NodeForm, error) {
	if _, err := h.prober(); err != nil {
		return views.NodeForm{}, err
	}
	f := formFor(c, in, pn.Old, pn.Node, pn.Typed, pn.Mode != "add")
	pn.Scan = nodeprobe.Scan{}
	f.Pending = h.Pending.Hold(h.Now(), userID, pn)
	return f, nil
}

// heldTry is what an earlier failed try of this form left for the retry:
// the typed secrets and confirmed keys, or nothing. It is taken once, and
// only by the same user, for the same form.
func (h *Handler) heldTry(c echo.Context, userID, mode, nodeID string) PendingNode {
	id := c.FormValue("pending")
	if id == "" || h.Prober == nil {
		return PendingNode{}
	}
	pn, ok := h.Pending.Take(h.Now(), userID, id)
	if !ok || pn.Mode != mode || pn.Old.ID != nodeID {
		return PendingNode{}
	}
	return pn
}

// nodeAdd checks the form and starts the two-phase test of a new node.
// Nothing is stored until the authenticated checks pass.
func (h *Handler) nodeAdd(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	in := readNodeInput(c)
	held := h.heldTry(c, u.ID, "add", "")
	cand, typed, errs := in.apply(store.Node{UserID: u.ID}, held, false)
	cand.TLSFingerprint, cand.SSHHostKey = held.Node.TLSFingerprint, held.Node.SSHHostKey
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	if nameTaken(nodes, "", cand.Name) {
		errs["name"] = fmt.Sprintf("You already have a node named %q.", cand.Name)
	}
	pn := PendingNode{Node: cand, Typed: typed, Mode: "add"}
	if len(errs) > 0 {
		form, err := h.retryForm(c, u.ID, in, pn)
		if err != nil {
			return err
		}
		form.Errors = errs
		return h.nodeListPage(c, formStatus(c), form, nil)
	}
	return h.testNode(c, u, pn)
}

func (h *Handler) nodeEdit(c echo.Context) error {
	u, _ := currentUser(c)
	n, err := h.Nodes.Node(c.Request().Context(), u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	form := formFor(c, inputOf(n), n, n, NodeSecrets{}, true)
	return h.render(c, http.StatusOK, h.page(c, "Edit "+n.Name, "settings"), views.NodeEditPage(form))
}

// nodeEditSubmit saves an edit. A changed address, login or secret is
// tested first, in two phases like an add.
func (h *Handler) nodeEditSubmit(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	old, err := h.Nodes.Node(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	in := readNodeInput(c)
	held := h.heldTry(c, u.ID, "edit", old.ID)
	cand, typed, errs := in.apply(old, held, true)
	if held.Mode != "" {
		// keys the user confirmed in an earlier try of this edit
		cand.TLSFingerprint, cand.TLSUseCA, cand.SSHHostKey = held.Node.TLSFingerprint, held.Node.TLSUseCA, held.Node.SSHHostKey
	}
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	if nameTaken(nodes, old.ID, cand.Name) {
		errs["name"] = fmt.Sprintf("You already have a node named %q.", cand.Name)
	}
	pn := PendingNode{Node: cand, Typed: typed, Old: old, Mode: "edit"}
	if len(errs) > 0 {
		form, err := h.retryForm(c, u.ID, in, pn)
		if err != nil {
			return err
		}
		form.Errors = errs
		return h.render(c, formStatus(c), h.page(c, "Edit "+old.Name, "settings"), views.NodeEditPage(form))
	}
	if !connectionChanged(old, cand) && typed == (NodeSecrets{}) {
		saved, err := h.Nodes.UpdateNode(ctx, u.ID, cand)
		if err != nil {
			return err
		}
		h.auditNodeChange(c, u, old, saved, "edit")
		setFlash(c, "ok", fmt.Sprintf("Node %s saved.", saved.Name))
		return seeOther(c, "/settings/nodes")
	}
	return h.testNode(c, u, pn)
}

func nameTaken(nodes []store.Node, selfID, name string) bool {
	for _, n := range nodes {
		if n.ID != selfID && strings.EqualFold(n.Name, name) {
			return true
		}
	}
	return false
}
