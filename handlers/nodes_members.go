package handlers

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"corral/exec/nodeprobe"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// Adding the members of a cluster: a registered node's /cluster/status
// names every member with its address. The user picks members (all of them
// by default); each becomes a candidate with the registered node's token
// (Proxmox tokens work cluster-wide) at the member's address on the same
// API port, and the same SSH login unless the user gave the member its own.
// Then the two-phase trust of a single node applies to each: their keys
// are fetched without credentials and shown together, and only after the
// user trusts them (POST /settings/nodes/confirm) do the token and logins
// go to exactly those keys.

// membersReadBudget bounds the membership reads of the nodes page.
const membersReadBudget = 3 * time.Second

// clusterMembers reads the members of the cluster that group (the user's
// registered nodes of one cluster) belongs to.
func (h *Handler) clusterMembers(ctx context.Context, group []store.Node) clusters.Membership {
	if h.Clusters == nil {
		return clusters.Membership{}
	}
	return h.Clusters.Members(ctx, group)
}

// clusterGroup is via and the user's other nodes of its cluster, via first.
func clusterGroup(via store.Node, nodes []store.Node) []store.Node {
	group := []store.Node{via}
	for _, n := range nodes {
		if n.ID != via.ID && clusters.Key(n) == clusters.Key(via) {
			group = append(group, n)
		}
	}
	return group
}

// unregisteredMembers are the members of st that none of group is.
func unregisteredMembers(st *proxmox.ClusterStatus, group []store.Node) []proxmox.ClusterNode {
	if st == nil || st.Name == "" {
		return nil
	}
	var out []proxmox.ClusterNode
	for _, m := range st.Nodes {
		if !slices.ContainsFunc(group, func(n store.Node) bool { return clusters.PVEName(n) == m.Name }) {
			out = append(out, m)
		}
	}
	return out
}

// newMember says whether m joined after every member the user registered:
// Proxmox numbers members in the order they joined.
func newMember(m proxmox.ClusterNode, st *proxmox.ClusterStatus, group []store.Node) bool {
	for _, r := range st.Nodes {
		if r.NodeID >= m.NodeID && slices.ContainsFunc(group, func(n store.Node) bool { return clusters.PVEName(n) == r.Name }) {
			return false
		}
	}
	return true
}

// memberCandidate is member m of via's cluster as a node to add: via's
// token and SSH login (or the member's own, when given), m's address.
func memberCandidate(via store.Node, m proxmox.ClusterNode, name string, login memberLogin) store.Node {
	return store.Node{
		UserID: via.UserID, Name: name, Host: m.IP, Port: via.Port,
		TokenID: via.TokenID, TokenSecret: via.TokenSecret,
		SSHUser: login.user(via), SSHPort: via.SSHPort, SSHPassword: login.password(via), SSHKey: login.key(via),
		ClusterName: via.ClusterName, ClusterKey: via.ClusterKey, PVENodeName: m.Name,
	}
}

// memberLogin is a member's own SSH login, when the user gave one.
type memberLogin struct{ User, Password string }

func (l memberLogin) user(via store.Node) string { return cmp.Or(l.User, via.SSHUser) }
func (l memberLogin) password(via store.Node) string {
	if l.Password != "" {
		return l.Password
	}
	return via.SSHPassword
}
func (l memberLogin) key(via store.Node) string {
	if l.Password != "" {
		return ""
	}
	return via.SSHKey
}

// memberName is the member's own name, unless the user has a node of that
// name already.
func memberName(member, cluster string, nodes []store.Node, taken []string) string {
	name := member
	for i := 1; nameTaken(nodes, "", name) || slices.ContainsFunc(taken, func(t string) bool { return strings.EqualFold(t, name) }); i++ {
		name = fmt.Sprintf("%s-%s", member, cluster)
		if i > 1 {
			name = fmt.Sprintf("%s-%s-%d", member, cluster, i)
		}
	}
	return name
}

// nodeMembers scans the members picked on the nodes page (or a card's
// one-click add) without credentials and shows their keys together.
func (h *Handler) nodeMembers(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	via, err := h.Nodes.Node(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	p, err := h.prober()
	if err != nil {
		return err
	}
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	group := clusterGroup(via, nodes)
	ms := h.clusterMembers(ctx, group)
	if ms.Status == nil {
		msg := "Corral could not read the members of the cluster of " + via.Name
		if len(ms.Failed) > 0 {
			msg += ": " + ms.Failed[0].Message
		}
		setFlash(c, "warn", msg+".")
		return seeOther(c, "/settings/nodes")
	}
	if err := c.Request().ParseForm(); err != nil {
		return &userError{status: http.StatusBadRequest, msg: "The form could not be read", err: err}
	}
	picked := c.Request().PostForm["member"]
	var cands []PendingNode
	var names []string
	for _, m := range unregisteredMembers(ms.Status, group) {
		if !slices.Contains(picked, m.Name) {
			continue
		}
		login := memberLogin{User: strings.TrimSpace(c.FormValue("ssh_user." + m.Name)), Password: c.FormValue("ssh_password." + m.Name)}
		name := memberName(m.Name, via.ClusterName, nodes, names)
		names = append(names, name)
		cand := memberCandidate(via, m, name, login)
		cands = append(cands, PendingNode{Node: cand, Mode: "add",
			Typed: NodeSecrets{SSHPassword: login.Password}})
	}
	if len(cands) == 0 {
		setFlash(c, "warn", "Pick at least one member of "+via.ClusterName+" that is not added yet.")
		return seeOther(c, "/settings/nodes")
	}
	// Keys, fetched without credentials, all at once.
	var wg sync.WaitGroup
	for i := range cands {
		wg.Go(func() {
			scan, err := p.Scan(ctx, cands[i].Node)
			cands[i].Scan = scan
			if prob, ok := asProblem(err); ok {
				cands[i].Scan, cands[i].Problem = nodeprobe.Scan{}, prob
			} else if err != nil {
				cands[i].Scan, cands[i].Problem = nodeprobe.Scan{}, &views.NodeProblem{Title: cands[i].Node.Name + " could not be scanned", Message: err.Error()}
			}
		})
	}
	wg.Wait()
	pn := PendingNode{Mode: "members", Old: via, Members: cands, Return: localPath(c.FormValue("return"))}
	id := h.Pending.Hold(h.Now(), u.ID, pn)
	v := views.MembersConfirm{CSRF: csrfToken(c), PendingID: id, Cluster: via.ClusterName, Via: via.Name, TokenID: via.TokenID}
	for _, m := range cands {
		n := m.Node
		mc := views.MemberConfirm{Name: n.Name, Member: n.PVENodeName, Addr: nodeprobe.APIAddr(n), SSHAddr: nodeprobe.SSHAddr(n), SSHUser: n.SSHUser,
			OwnLogin: m.Typed.SSHPassword != "" || n.SSHUser != via.SSHUser, Problem: m.Problem}
		if m.Problem == nil {
			mc.TLS = views.CertFacts{Fingerprint: m.Scan.TLS.Fingerprint, Subject: m.Scan.TLS.Subject, Issuer: m.Scan.TLS.Issuer,
				NotBefore: m.Scan.TLS.NotBefore, NotAfter: m.Scan.TLS.NotAfter}
			mc.SSH = views.HostKeyFacts{KeyType: m.Scan.SSH.KeyType, Fingerprint: m.Scan.SSH.Fingerprint}
			v.Ready++
		}
		v.Members = append(v.Members, mc)
	}
	if isHTMX(c) {
		// Asked from inside another page's form (the wizard): the
		// confirmation takes the page's main area.
		c.Response().Header().Set("HX-Retarget", "#main")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
	}
	return h.render(c, http.StatusOK, h.page(c, "Trust the members of "+via.ClusterName, "settings"), views.MembersConfirmPage(v))
}

// finishMembers pins each member's confirmed keys, runs the authenticated
// checks over them and stores each member that passes.
func (h *Handler) finishMembers(c echo.Context, u store.User, pn PendingNode) error {
	ctx := c.Request().Context()
	p, err := h.prober()
	if err != nil {
		return err
	}
	via, err := h.Nodes.Node(ctx, u.ID, pn.Old.ID)
	if err != nil {
		return err
	}
	type outcome struct {
		node store.Node
		msg  string // why it was not added
	}
	results := make([]outcome, len(pn.Members))
	var wg sync.WaitGroup
	for i, m := range pn.Members {
		if m.Problem != nil || m.Scan.Empty() {
			continue
		}
		wg.Go(func() {
			n := m.Node
			m.Scan.Pin(&n)
			probe, err := p.Probe(ctx, n)
			if prob, ok := asProblem(err); ok {
				results[i].msg = prob.Title + ": " + prob.Message
				return
			} else if err != nil {
				results[i].msg = err.Error()
				return
			}
			if probe.ClusterName != via.ClusterName || probe.PVENodeName != n.PVENodeName {
				results[i].msg = fmt.Sprintf("it answers as %s of cluster %q, not %s of %s", probe.PVENodeName, probe.ClusterName, n.PVENodeName, via.ClusterName)
				return
			}
			probe.Apply(&n)
			// One cluster, one key: a member that joined since via was
			// added sees another member list, which must not split it.
			n.ClusterKey = via.ClusterKey
			results[i].node = n
		})
	}
	wg.Wait()
	var added, failed []string
	for i, r := range results {
		name := pn.Members[i].Node.Name
		switch {
		case pn.Members[i].Problem != nil:
			failed = append(failed, fmt.Sprintf("%s (%s)", name, pn.Members[i].Problem.Message))
		case r.msg != "":
			failed = append(failed, fmt.Sprintf("%s (%s)", name, r.msg))
		case r.node.Host != "":
			saved, err := h.Nodes.CreateNode(ctx, r.node)
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s (%s)", name, err))
				continue
			}
			added = append(added, saved.Name)
			h.audit(c, store.AuditEntry{Kind: "node.add", UserID: u.ID, Username: u.Username, Target: saved.Name,
				Detail: fmt.Sprintf("node %s at %s, member of cluster %s added through %s, tls %s, ssh %s", saved.ID, nodeprobe.APIAddr(saved),
					via.ClusterName, via.Name, saved.TLSFingerprint, nodeprobe.SSHKeyFingerprint(saved.SSHHostKey))})
		}
	}
	if h.Clusters != nil {
		h.Clusters.Forget(via)
	}
	var b strings.Builder
	level := "ok"
	if len(added) > 0 {
		fmt.Fprintf(&b, "Added %s of cluster %s.", strings.Join(added, ", "), via.ClusterName)
	}
	if len(failed) > 0 {
		level = "warn"
		fmt.Fprintf(&b, " Not added: %s.", strings.Join(failed, "; "))
	}
	setFlash(c, level, strings.TrimSpace(b.String()))
	return seeOther(c, cmp.Or(pn.Return, "/settings/nodes"))
}

// localPath is p when it is a path on this server, else "": a return
// address never leads elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return ""
	}
	return p
}

// nodeGroups are the user's nodes by cluster, each cluster with what its
// /cluster/status says (read for all clusters at once, briefly), the
// standalone nodes last.
func (h *Handler) nodeGroups(ctx context.Context, csrf string, nodes []store.Node, rows map[string]views.NodeRow) []views.NodeGroup {
	ctx, cancel := context.WithTimeout(ctx, membersReadBudget)
	defer cancel()
	var groups []views.NodeGroup
	var standalone views.NodeGroup
	var reads []func()
	for _, g := range clusters.Groups(nodes) {
		if g[0].ClusterName == "" {
			for _, n := range g {
				standalone.Rows = append(standalone.Rows, rows[n.ID])
			}
			continue
		}
		i := len(groups)
		groups = append(groups, views.NodeGroup{Name: g[0].ClusterName, ViaID: g[0].ID, CSRF: csrf})
		for _, n := range g {
			groups[i].Rows = append(groups[i].Rows, rows[n.ID])
		}
		reads = append(reads, func() {
			ms := h.clusterMembers(ctx, g)
			if ms.Status == nil {
				groups[i].Problem = "Corral could not read the cluster's members"
				if len(ms.Failed) > 0 {
					groups[i].Problem += ": " + ms.Failed[0].Message
				}
				return
			}
			st := ms.Status
			groups[i].Known, groups[i].Quorate, groups[i].Members = true, st.Quorate, len(st.Nodes)
			for _, m := range unregisteredMembers(st, g) {
				groups[i].Others = append(groups[i].Others, views.ClusterMember{Name: m.Name, IP: m.IP, Online: m.Online, New: newMember(m, st, g)})
			}
		})
	}
	var wg sync.WaitGroup
	for _, f := range reads {
		wg.Go(f)
	}
	wg.Wait()
	if len(standalone.Rows) > 0 {
		groups = append(groups, standalone)
	}
	return groups
}
