package proxmox

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// ClusterKey names the VMID space a node belongs to (VMIDs are unique per
// cluster, shared by containers and VMs). A cluster's key comes from its name
// and its members' names and addresses as /cluster/status reports them, so
// two nodes of one cluster share it, whoever added them, while two unrelated
// clusters that happen to share a name (every home lab has a "homelab") do
// not. A standalone node is its own space, named by its certificate. The
// key is only what the server claims, so it never decides on its own whose
// cached guests a reader sees (see VMIDKey).
func ClusterKey(st *ClusterStatus, fingerprint string) string {
	if st == nil || st.Name == "" {
		return "node:" + strings.ToUpper(fingerprint)
	}
	members := make([]string, 0, len(st.Nodes))
	for _, n := range st.Nodes {
		members = append(members, n.Name+"@"+n.IP)
	}
	sort.Strings(members)
	sum := sha256.Sum256([]byte(st.Name + "\n" + strings.Join(members, "\n")))
	return "cluster:" + st.Name + ":" + hex.EncodeToString(sum[:8])
}
