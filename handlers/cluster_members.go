package handlers

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
)

// A container on a member of a cluster that the user did not register is
// reached through a registered member of the same cluster: Proxmox
// forwards API calls to the member that holds it. Its pages address it as
// "<registered node id>~<member>" in place of a node id. Such a target
// carries no SSH login: what needs SSH on the member (shells, services,
// logs, the console, provisioning) asks the user to add the member first.

// memberSep joins a node id and a member name; ids are base64url, so it
// never occurs in one.
const memberSep = "~"

// pveNodeName is what Proxmox accepts as a node name.
var pveNodeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$`)

// MemberRef addresses member through the registered node viaID.
func MemberRef(viaID, member string) string { return viaID + memberSep + member }

// unregistered reports whether n is a member reached through another node.
func unregistered(n store.Node) bool { return strings.Contains(n.ID, memberSep) }

// resolveNode is one of the user's nodes by id, or a member of one's
// cluster by MemberRef: the registered node, seen as that member, without
// its SSH login. A member the user registered meanwhile resolves to its
// own record. Anything else is ErrNotFound.
func (h *Handler) resolveNode(ctx context.Context, userID, ref string) (store.Node, error) {
	viaID, member, isRef := strings.Cut(ref, memberSep)
	if !isRef {
		return h.Nodes.Node(ctx, userID, ref)
	}
	if !pveNodeName.MatchString(member) {
		return store.Node{}, store.ErrNotFound
	}
	via, err := h.Nodes.Node(ctx, userID, viaID)
	if err != nil {
		return store.Node{}, err
	}
	if clusters.PVEName(via) == member {
		return via, nil
	}
	nodes, err := h.Nodes.Nodes(ctx, userID)
	if err != nil {
		return store.Node{}, err
	}
	for _, n := range nodes {
		if clusters.Key(n) == clusters.Key(via) && clusters.PVEName(n) == member {
			return n, nil
		}
	}
	// A name the cluster does not list is not there; a cluster that
	// cannot say (all its members down) gets the benefit of the doubt,
	// and the page says it could not be read.
	ms := h.clusterMembers(ctx, clusterGroup(via, nodes))
	if ms.Status != nil && !slices.ContainsFunc(ms.Status.Nodes, func(m proxmox.ClusterNode) bool { return m.Name == member }) {
		return store.Node{}, store.ErrNotFound
	}
	return asMember(via, member), nil
}

// asMember is via seen as member of its cluster: API calls go through
// via's address and token to member; no SSH secret or host key comes
// along, so nothing can log in to via believing it is member.
func asMember(via store.Node, member string) store.Node {
	n := via
	n.ID, n.Name, n.PVENodeName = MemberRef(via.ID, member), member, member
	n.SSHPassword, n.SSHKey, n.SSHHostKey = "", "", ""
	n.IsDefault = false
	return n
}

// viaOf is the registered node an unregistered target goes through.
func viaOf(n store.Node) string {
	id, _, _ := strings.Cut(n.ID, memberSep)
	return id
}

// addMemberText is what a page says where SSH on an unregistered member
// is needed.
func addMemberText(member string) string {
	return "Add " + member + " to open shells here."
}

// onlineMembers are the online members of the user's clusters that none of
// nodes is, each as seen through a registered member (asMember): the
// wizard offers them as targets.
func (h *Handler) onlineMembers(ctx context.Context, nodes []store.Node) []store.Node {
	ctx, cancel := context.WithTimeout(ctx, membersReadBudget)
	defer cancel()
	var out []store.Node
	for _, g := range clusters.Groups(nodes) {
		if g[0].ClusterName == "" {
			continue
		}
		ms := h.clusterMembers(ctx, g)
		for _, m := range unregisteredMembers(ms.Status, g) {
			if m.Online {
				out = append(out, asMember(ms.Via, m.Name))
			}
		}
	}
	return out
}
