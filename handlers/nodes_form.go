package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/ssh"

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

// apply validates the input onto base (the stored node when editing, a
// fresh one when adding) and returns the candidate and field errors. Empty
// secrets keep base's.
func (in nodeInput) apply(base store.Node, editing bool) (store.Node, map[string]string) {
	errs := map[string]string{}
	n := base
	n.Name, n.Host, n.TokenID, n.SSHUser = in.Name, in.Host, in.TokenID, in.SSHUser
	if n.Name == "" || len(n.Name) > 64 {
		errs["name"] = "Give the node a name of 1 to 64 characters."
	}
	if !validHost(n.Host) {
		errs["host"] = "Enter a host name or IP address, without https:// or a port."
	}
	n.Port = parsePort(in.Port, 8006, "port", errs)
	n.SSHPort = parsePort(in.SSHPort, 22, "ssh_port", errs)
	if user, name, ok := strings.Cut(n.TokenID, "!"); !ok || !strings.Contains(user, "@") || name == "" || strings.ContainsAny(n.TokenID, " =") {
		errs["token_id"] = "Write the token ID as user@realm!name, for example corral@pve!corral."
	}
	if in.TokenSecret != "" {
		n.TokenSecret = in.TokenSecret
	} else if !editing || base.TokenSecret == "" {
		errs["token_secret"] = "Enter the token secret."
	}
	if n.SSHUser == "" {
		n.SSHUser = "root"
	}
	switch {
	case in.SSHPassword != "" && in.SSHKey != "":
		errs["ssh_key"] = "Give either an SSH password or a private key, not both."
	case in.SSHKey != "":
		if _, err := ssh.ParsePrivateKey([]byte(in.SSHKey)); err != nil {
			errs["ssh_key"] = "This private key cannot be read: paste the whole key, BEGIN and END lines included, without a passphrase."
		}
		n.SSHKey, n.SSHPassword = in.SSHKey, ""
	case in.SSHPassword != "":
		n.SSHPassword, n.SSHKey = in.SSHPassword, ""
	case !editing || (base.SSHPassword == "" && base.SSHKey == ""):
		errs["ssh_password"] = "Enter the SSH password of the node (or a private key below)."
	}
	return n, errs
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

// connectionChanged reports whether the candidate must be tested again:
// another address or login, or a new secret.
func connectionChanged(old, n store.Node, in nodeInput) bool {
	return old.Host != n.Host || old.Port != n.Port || old.TokenID != n.TokenID ||
		old.SSHUser != n.SSHUser || old.SSHPort != n.SSHPort ||
		in.TokenSecret != "" || in.SSHPassword != "" || in.SSHKey != ""
}

// formFor fills the form view from typed input, never with a secret.
func formFor(c echo.Context, in nodeInput, stored store.Node, editing bool) views.NodeForm {
	f := views.NodeForm{
		CSRF: csrfToken(c), Action: "/settings/nodes", Editing: editing, ID: stored.ID,
		Name: in.Name, Host: in.Host, Port: in.Port, TokenID: in.TokenID, SSHUser: in.SSHUser, SSHPort: in.SSHPort,
		HasTokenSecret: stored.TokenSecret != "", HasSSHPassword: stored.SSHPassword != "", HasSSHKey: stored.SSHKey != "",
	}
	if editing {
		f.Action = "/settings/nodes/" + stored.ID
	}
	return f
}

func (h *Handler) newNodeForm(c echo.Context) views.NodeForm {
	return formFor(c, nodeInput{Port: "8006", SSHUser: "root", SSHPort: "22"}, store.Node{}, false)
}

func inputOf(n store.Node) nodeInput {
	return nodeInput{
		Name: n.Name, Host: n.Host, Port: strconv.Itoa(n.Port), TokenID: n.TokenID,
		SSHUser: n.SSHUser, SSHPort: strconv.Itoa(n.SSHPort),
	}
}

// nodeAdd tests a new node and, when everything works, shows what it found
// for the user to trust. Nothing is stored yet.
func (h *Handler) nodeAdd(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	in := readNodeInput(c)
	cand, errs := in.apply(store.Node{UserID: u.ID}, false)
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	if nameTaken(nodes, "", cand.Name) {
		errs["name"] = fmt.Sprintf("You already have a node named %q.", cand.Name)
	}
	form := formFor(c, in, store.Node{}, false)
	if len(errs) > 0 {
		form.Errors = errs
		return h.nodeListPage(c, formStatus(c), form, nil)
	}
	pending, prob, err := h.probeCandidate(ctx, cand, store.Node{}, "add")
	if err != nil {
		return err
	}
	if prob != nil {
		form.Problem = prob
		return h.nodeListPage(c, formStatus(c), form, nil)
	}
	return h.showConfirm(c, u.ID, pending, nodes)
}

// probeCandidate runs the prober; a *ProbeError becomes a problem to show.
func (h *Handler) probeCandidate(ctx context.Context, cand, old store.Node, mode string) (PendingNode, *views.NodeProblem, error) {
	p, err := h.prober()
	if err != nil {
		return PendingNode{}, nil, err
	}
	probe, err := p.Probe(ctx, cand)
	var pe *ProbeError
	if errors.As(err, &pe) {
		return PendingNode{}, &views.NodeProblem{Title: pe.Title, Message: pe.Message, Hint: pe.Hint, Commands: pe.Commands}, nil
	}
	if err != nil {
		return PendingNode{}, nil, err
	}
	probe.Apply(&cand)
	return PendingNode{Node: cand, Probe: probe, Old: old, Mode: mode}, nil, nil
}

// showConfirm holds the pending node and renders what the user must check.
func (h *Handler) showConfirm(c echo.Context, userID string, pn PendingNode, nodes []store.Node) error {
	p, err := h.prober()
	if err != nil {
		return err
	}
	id := p.Hold(h.Now(), userID, pn)
	n, pr := pn.Node, pn.Probe
	v := views.NodeConfirm{
		CSRF: csrfToken(c), PendingID: id, Mode: pn.Mode, Name: n.Name,
		Addr: addrOf(n), SSHAddr: sshAddrOf(n), SSHUser: n.SSHUser, TokenID: n.TokenID,
		Version: pr.Version, ClusterName: pr.ClusterName, PVENodeName: pr.PVENodeName,
		TLS: views.CertFacts{
			Fingerprint: pr.TLS.Fingerprint, Subject: pr.TLS.Subject, Issuer: pr.TLS.Issuer,
			NotBefore: pr.TLS.NotBefore, NotAfter: pr.TLS.NotAfter,
		},
		SSH:     views.HostKeyFacts{KeyType: pr.SSH.KeyType, Fingerprint: pr.SSH.Fingerprint},
		Missing: pr.Missing, Commands: pveumCommands(n.TokenID, pr.Missing),
	}
	if pn.Mode != "add" {
		v.TLS.Old, v.TLS.Changed = pn.Old.TLSFingerprint, !strings.EqualFold(pn.Old.TLSFingerprint, pr.TLS.Fingerprint)
		v.SSH.Old = sshKeyFingerprint(pn.Old.SSHHostKey)
		v.SSH.Changed = v.SSH.Old != pr.SSH.Fingerprint
	}
	for _, o := range nodes {
		if o.ID == pn.Old.ID || pr.ClusterKey == "" || o.ClusterKey != pr.ClusterKey {
			continue
		}
		if pr.ClusterName != "" {
			v.Peers = append(v.Peers, o.Name)
		}
		if o.PVENodeName != "" && o.PVENodeName == pr.PVENodeName {
			v.Duplicate = o.Name
		}
	}
	return h.render(c, http.StatusOK, h.page(c, "Trust "+n.Name, "settings"), views.NodeConfirmPage(v))
}

// nodeConfirm stores a probed node the user has checked, pinned to exactly
// the fingerprints the confirm page showed.
func (h *Handler) nodeConfirm(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	p, err := h.prober()
	if err != nil {
		return err
	}
	pn, ok := p.Take(h.Now(), u.ID, c.FormValue("pending"))
	if !ok {
		setFlash(c, "warn", "That connection test has expired (after 10 minutes) or was already used: please test the node again.")
		return seeOther(c, "/settings/nodes")
	}
	var saved store.Node
	if pn.Mode == "add" {
		if saved, err = h.Nodes.CreateNode(ctx, pn.Node); err != nil {
			return err
		}
		h.audit(c, store.AuditEntry{Kind: "node.add", UserID: u.ID, Username: u.Username, Target: saved.Name,
			Detail: fmt.Sprintf("node %s at %s, tls %s, ssh %s", saved.ID, addrOf(saved), saved.TLSFingerprint, pn.Probe.SSH.Fingerprint)})
		msg := fmt.Sprintf("Node %s added.", saved.Name)
		if saved.IsDefault {
			msg = fmt.Sprintf("Node %s added; it is your default node.", saved.Name)
		}
		setFlash(c, "ok", msg)
		return seeOther(c, "/settings/nodes")
	}
	if saved, err = h.Nodes.UpdateNode(ctx, u.ID, pn.Node); err != nil {
		return err
	}
	h.auditNodeChange(c, u, pn.Old, saved, pn.Mode)
	setFlash(c, "ok", fmt.Sprintf("Node %s saved with its new keys pinned.", saved.Name))
	return seeOther(c, "/settings/nodes")
}

// auditNodeChange records an edit, and a re-trust when a pin changed.
func (h *Handler) auditNodeChange(c echo.Context, u store.User, old, saved store.Node, mode string) {
	kind := "node.update"
	if mode == "retrust" {
		kind = "node.retrust"
	}
	detail := fmt.Sprintf("node %s at %s", saved.ID, addrOf(saved))
	if !strings.EqualFold(old.TLSFingerprint, saved.TLSFingerprint) {
		detail += fmt.Sprintf(", tls %s -> %s", old.TLSFingerprint, saved.TLSFingerprint)
	}
	if old.SSHHostKey != saved.SSHHostKey {
		detail += fmt.Sprintf(", ssh %s -> %s", sshKeyFingerprint(old.SSHHostKey), sshKeyFingerprint(saved.SSHHostKey))
	}
	h.audit(c, store.AuditEntry{Kind: kind, UserID: u.ID, Username: u.Username, Target: saved.Name, Detail: detail})
}

func (h *Handler) nodeEdit(c echo.Context) error {
	u, _ := currentUser(c)
	n, err := h.Nodes.Node(c.Request().Context(), u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, h.page(c, "Edit "+n.Name, "settings"), views.NodeEditPage(formFor(c, inputOf(n), n, true)))
}

// nodeEditSubmit saves an edit. A changed address, login or secret is
// tested first; changed keys must be trusted explicitly on the confirm page.
func (h *Handler) nodeEditSubmit(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	old, err := h.Nodes.Node(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	in := readNodeInput(c)
	cand, errs := in.apply(old, true)
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	if nameTaken(nodes, old.ID, cand.Name) {
		errs["name"] = fmt.Sprintf("You already have a node named %q.", cand.Name)
	}
	form := formFor(c, in, old, true)
	page := h.page(c, "Edit "+old.Name, "settings")
	if len(errs) > 0 {
		form.Errors, form.Name = errs, in.Name
		return h.render(c, formStatus(c), page, views.NodeEditPage(form))
	}
	if !connectionChanged(old, cand, in) {
		saved, err := h.Nodes.UpdateNode(ctx, u.ID, cand)
		if err != nil {
			return err
		}
		h.auditNodeChange(c, u, old, saved, "edit")
		setFlash(c, "ok", fmt.Sprintf("Node %s saved.", saved.Name))
		return seeOther(c, "/settings/nodes")
	}
	pn, prob, err := h.probeCandidate(ctx, cand, old, "edit")
	if err != nil {
		return err
	}
	if prob != nil {
		form.Problem = prob
		return h.render(c, formStatus(c), page, views.NodeEditPage(form))
	}
	if strings.EqualFold(pn.Node.TLSFingerprint, old.TLSFingerprint) && pn.Node.SSHHostKey == old.SSHHostKey {
		// Same keys as pinned: nothing new to trust.
		saved, err := h.Nodes.UpdateNode(ctx, u.ID, pn.Node)
		if err != nil {
			return err
		}
		h.auditNodeChange(c, u, old, saved, "edit")
		setFlash(c, "ok", fmt.Sprintf("Node %s tested and saved.", saved.Name))
		return seeOther(c, "/settings/nodes")
	}
	return h.showConfirm(c, u.ID, pn, nodes)
}

// nodeRetrust probes a stored node afresh and shows its old and new keys
// side by side; trusting them is an explicit POST to /settings/nodes/confirm.
func (h *Handler) nodeRetrust(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	old, err := h.Nodes.Node(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	pn, prob, err := h.probeCandidate(ctx, old, old, "retrust")
	if err != nil {
		return err
	}
	if prob != nil {
		return h.nodeListPage(c, http.StatusOK, h.newNodeForm(c), prob)
	}
	if strings.EqualFold(pn.Node.TLSFingerprint, old.TLSFingerprint) && pn.Node.SSHHostKey == old.SSHHostKey {
		setFlash(c, "ok", fmt.Sprintf("%s presents the keys Corral pinned: nothing to re-trust.", old.Name))
		return seeOther(c, "/settings/nodes")
	}
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	return h.showConfirm(c, u.ID, pn, nodes)
}

func nameTaken(nodes []store.Node, selfID, name string) bool {
	for _, n := range nodes {
		if n.ID != selfID && strings.EqualFold(n.Name, name) {
			return true
		}
	}
	return false
}
