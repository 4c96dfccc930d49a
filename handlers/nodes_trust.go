package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/exec/nodeprobe"
	"corral/store"
	"corral/views"
)

// Testing a node takes two phases, so that no secret, typed or stored, ever
// reaches a certificate or host key the user has not confirmed:
//
//  1. testNode scans the endpoints without credentials. Keys the node
//     already trusts go straight on; new ones are shown on the confirm page,
//     and the candidate waits server-side (PendingNode) under an id.
//  2. nodeConfirm pins exactly the keys shown, and finishNode runs the
//     authenticated checks over those pins: an endpoint presenting anything
//     else by then is refused before a secret is sent. Only a node that
//     passes is stored; one that fails comes back to the form, its secrets
//     held server-side for the retry.

// testNode runs phase 1 for a candidate and either finishes it (its keys
// are trusted already) or asks the user to confirm the keys it saw.
func (h *Handler) testNode(c echo.Context, u store.User, pn PendingNode) error {
	p, err := h.prober()
	if err != nil {
		return err
	}
	scan, err := p.Scan(c.Request().Context(), pn.Node)
	if prob, ok := asProblem(err); ok {
		return h.nodeFailed(c, u, pn, prob)
	}
	if err != nil {
		return err
	}
	if scan.Pinned(pn.Node) {
		return h.finishNode(c, u, pn)
	}
	pn.Scan = scan
	return h.showConfirm(c, u.ID, pn)
}

// asProblem turns a *nodeprobe.Error into the problem box of the form.
func asProblem(err error) (*views.NodeProblem, bool) {
	var pe *nodeprobe.Error
	if !errors.As(err, &pe) {
		return nil, false
	}
	return &views.NodeProblem{Title: pe.Title, Message: pe.Message, Hint: pe.Hint, Commands: pe.Commands}, true
}

// showConfirm holds the candidate and shows the keys it presented, next to
// the pinned ones when they changed.
func (h *Handler) showConfirm(c echo.Context, userID string, pn PendingNode) error {
	if _, err := h.prober(); err != nil {
		return err
	}
	id := h.Pending.Hold(h.Now(), userID, pn)
	n, sc := pn.Node, pn.Scan
	v := views.NodeConfirm{
		CSRF: csrfToken(c), PendingID: id, Mode: pn.Mode, Name: n.Name,
		Addr: nodeprobe.APIAddr(n), SSHAddr: nodeprobe.SSHAddr(n), SSHUser: n.SSHUser, TokenID: n.TokenID,
		TLS: views.CertFacts{
			Fingerprint: sc.TLS.Fingerprint, Subject: sc.TLS.Subject, Issuer: sc.TLS.Issuer,
			NotBefore: sc.TLS.NotBefore, NotAfter: sc.TLS.NotAfter,
		},
		SSH: views.HostKeyFacts{KeyType: sc.SSH.KeyType, Fingerprint: sc.SSH.Fingerprint},
	}
	if pn.Mode != "add" {
		v.TLS.Old, v.TLS.Changed = pn.Old.TLSFingerprint, !strings.EqualFold(pn.Old.TLSFingerprint, sc.TLS.Fingerprint)
		v.SSH.Old = nodeprobe.SSHKeyFingerprint(pn.Old.SSHHostKey)
		v.SSH.Changed = v.SSH.Old != sc.SSH.Fingerprint
	}
	return h.render(c, http.StatusOK, h.page(c, "Trust "+n.Name, "settings"), views.NodeConfirmPage(v))
}

// nodeConfirm pins exactly the keys the confirm page showed and runs the
// authenticated checks over them.
func (h *Handler) nodeConfirm(c echo.Context) error {
	u, _ := currentUser(c)
	if _, err := h.prober(); err != nil {
		return err
	}
	pn, ok := h.Pending.Take(h.Now(), u.ID, c.FormValue("pending"))
	if ok && pn.Mode == "members" {
		return h.finishMembers(c, u, pn)
	}
	if !ok || pn.Scan.Empty() {
		setFlash(c, "warn", "That connection test has expired (after 10 minutes) or was already used: please test the node again.")
		return seeOther(c, "/settings/nodes")
	}
	pn.Scan.Pin(&pn.Node)
	return h.finishNode(c, u, pn)
}

// finishNode runs phase 2 over the candidate's pinned keys and stores it
// when everything works.
func (h *Handler) finishNode(c echo.Context, u store.User, pn PendingNode) error {
	ctx := c.Request().Context()
	p, err := h.prober()
	if err != nil {
		return err
	}
	probe, err := p.Probe(ctx, pn.Node)
	if prob, ok := asProblem(err); ok {
		return h.nodeFailed(c, u, pn, prob)
	}
	if err != nil {
		return err
	}
	probe.Apply(&pn.Node)
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	var saved store.Node
	if pn.Mode == "add" {
		if saved, err = h.Nodes.CreateNode(ctx, pn.Node); err != nil {
			return err
		}
		h.audit(c, store.AuditEntry{Kind: "node.add", UserID: u.ID, Username: u.Username, Target: saved.Name,
			Detail: fmt.Sprintf("node %s at %s, tls %s, ssh %s", saved.ID, nodeprobe.APIAddr(saved), saved.TLSFingerprint, nodeprobe.SSHKeyFingerprint(saved.SSHHostKey))})
	} else {
		if saved, err = h.Nodes.UpdateNode(ctx, u.ID, pn.Node); err != nil {
			return err
		}
		h.auditNodeChange(c, u, pn.Old, saved, pn.Mode)
	}
	h.rekeyCluster(ctx, p, saved, nodes)
	msg := savedMessage(pn, saved, probe, nodes)
	if pn.Mode == "add" && saved.ClusterName != "" {
		msg += h.membersHint(ctx, saved, append(nodes, saved))
	}
	setFlash(c, savedLevel(saved, probe, nodes), msg)
	return seeOther(c, "/settings/nodes")
}

// membersHint points at the members of saved's cluster not added yet,
// which the nodes page offers to add in one step.
func (h *Handler) membersHint(ctx context.Context, saved store.Node, nodes []store.Node) string {
	group := clusterGroup(saved, nodes)
	ms := h.clusterMembers(ctx, group)
	others := unregisteredMembers(ms.Status, group)
	if len(others) == 0 {
		return ""
	}
	names := make([]string, len(others))
	for i, m := range others {
		names[i] = m.Name
	}
	return fmt.Sprintf(" Cluster %s has %s more (%s): their containers are shown already, and below you can add them all in one step.",
		saved.ClusterName, views.Plural(len(others), "member", "members"), strings.Join(names, ", "))
}

// nodeFailed shows why a test failed. The form comes back filled in, with
// the typed secrets and confirmed keys held for the retry; a failed
// re-trust leaves the node as it was.
func (h *Handler) nodeFailed(c echo.Context, u store.User, pn PendingNode, prob *views.NodeProblem) error {
	if pn.Mode == "retrust" {
		return h.nodeListPage(c, formStatus(c), h.newNodeForm(c), prob)
	}
	form, err := h.retryForm(c, u.ID, inputOf(pn.Node), pn)
	if err != nil {
		return err
	}
	form.Problem = prob
	if pn.Mode == "add" {
		return h.nodeListPage(c, formStatus(c), form, nil)
	}
	return h.render(c, formStatus(c), h.page(c, "Edit "+pn.Old.Name, "settings"), views.NodeEditPage(form))
}

// nodeRetrust scans a stored node afresh, without credentials, and shows
// its old and new keys side by side. It is a POST: it reaches out to the
// network, and trusting the keys is a second, explicit POST.
func (h *Handler) nodeRetrust(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	old, err := h.Nodes.Node(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := h.prober()
	if err != nil {
		return err
	}
	scan, err := p.Scan(ctx, old)
	if prob, ok := asProblem(err); ok {
		return h.nodeListPage(c, formStatus(c), h.newNodeForm(c), prob)
	}
	if err != nil {
		return err
	}
	if scan.Pinned(old) {
		setFlash(c, "ok", fmt.Sprintf("%s presents the keys Corral pinned: nothing to re-trust.", old.Name))
		return seeOther(c, "/settings/nodes")
	}
	return h.showConfirm(c, u.ID, PendingNode{Node: old, Old: old, Mode: "retrust", Scan: scan})
}

// savedMessage says what a passed test found and stored.
func savedMessage(pn PendingNode, saved store.Node, probe nodeprobe.Result, nodes []store.Node) string {
	var b strings.Builder
	switch {
	case pn.Mode == "add":
		fmt.Fprintf(&b, "Node %s added", saved.Name)
	case pn.Mode == "retrust":
		fmt.Fprintf(&b, "Node %s: its new keys are pinned", saved.Name)
	case !strings.EqualFold(pn.Old.TLSFingerprint, saved.TLSFingerprint) || pn.Old.SSHHostKey != saved.SSHHostKey:
		fmt.Fprintf(&b, "Node %s tested and saved with its new keys pinned", saved.Name)
	default:
		fmt.Fprintf(&b, "Node %s tested and saved", saved.Name)
	}
	fmt.Fprintf(&b, " (Proxmox VE %s", probe.Version)
	if probe.ClusterName != "" {
		fmt.Fprintf(&b, ", cluster %s", probe.ClusterName)
	}
	b.WriteString(").")
	if peers := clusterPeers(saved, nodes); len(peers) > 0 && pn.Mode == "add" {
		fmt.Fprintf(&b, " It shares its cluster, and so its VMIDs, with your %s %s.", nodeWord(len(peers)), strings.Join(peers, ", "))
	}
	if dup := duplicateOf(saved, nodes); dup != "" {
		fmt.Fprintf(&b, " Your node %s already is this Proxmox node (%s): its containers will show twice.", dup, saved.PVENodeName)
	}
	if pn.Mode == "add" && saved.IsDefault {
		b.WriteString(" It is your default node.")
	}
	if len(probe.Missing) > 0 {
		fmt.Fprintf(&b, " The token lacks some privileges Corral uses (%s): some features will fail until you grant them, see \u201cWhich privileges does the token need?\u201d under the form.", strings.Join(probe.Missing, ", "))
	}
	return b.String()
}

func savedLevel(saved store.Node, probe nodeprobe.Result, nodes []store.Node) string {
	if len(probe.Missing) > 0 || duplicateOf(saved, nodes) != "" {
		return "warn"
	}
	return "ok"
}

// rekeyCluster stores the new cluster key of the user's nodes that are in
// saved's cluster but were keyed before a member joined (see
// nodeprobe.Prober.Rekeyed).
func (h *Handler) rekeyCluster(ctx context.Context, p NodeProber, saved store.Node, nodes []store.Node) {
	for _, m := range p.Rekeyed(ctx, saved, nodes) {
		if _, err := h.Nodes.UpdateNode(ctx, m.UserID, m); err != nil {
			h.Logger.WarnContext(ctx, "cluster key not updated", "node", m.Name, "err", err)
		}
	}
}

// clusterPeers are the user's other nodes in n's cluster.
func clusterPeers(n store.Node, nodes []store.Node) []string {
	var out []string
	for _, o := range nodes {
		if o.ID != n.ID && n.ClusterName != "" && n.ClusterKey != "" && o.ClusterKey == n.ClusterKey {
			out = append(out, o.Name)
		}
	}
	return out
}

// duplicateOf is the user's other node that is the same Proxmox node as n.
func duplicateOf(n store.Node, nodes []store.Node) string {
	for _, o := range nodes {
		if o.ID != n.ID && n.ClusterKey != "" && o.ClusterKey == n.ClusterKey && o.PVENodeName != "" && o.PVENodeName == n.PVENodeName {
			return o.Name
		}
	}
	return ""
}

func nodeWord(n int) string {
	if n == 1 {
		return "node"
	}
	return "nodes"
}

// auditNodeChange records an edit, and a re-trust when a pin changed.
func (h *Handler) auditNodeChange(c echo.Context, u store.User, old, saved store.Node, mode string) {
	kind := "node.update"
	if mode == "retrust" {
		kind = "node.retrust"
	}
	detail := fmt.Sprintf("node %s at %s", saved.ID, nodeprobe.APIAddr(saved))
	if !strings.EqualFold(old.TLSFingerprint, saved.TLSFingerprint) {
		detail += fmt.Sprintf(", tls %s -> %s", old.TLSFingerprint, saved.TLSFingerprint)
	}
	if old.SSHHostKey != saved.SSHHostKey {
		detail += fmt.Sprintf(", ssh %s -> %s", nodeprobe.SSHKeyFingerprint(old.SSHHostKey), nodeprobe.SSHKeyFingerprint(saved.SSHHostKey))
	}
	h.audit(c, store.AuditEntry{Kind: kind, UserID: u.ID, Username: u.Username, Target: saved.Name, Detail: detail})
}
