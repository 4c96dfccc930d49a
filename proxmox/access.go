package proxmox

import (
	"context"
	"net/url"
	"strings"
)

// Permissions maps an ACL path to privilege → propagate flag, as returned by
// GET /access/permissions for the calling token. A privilege-separated token
// without ACLs gets an empty map, not an error.
type Permissions map[string]map[string]Bool

// Permissions returns the token's effective privileges; path "" means all paths.
func (c *Client) Permissions(ctx context.Context, path string) (Permissions, error) {
	var q url.Values
	if path != "" {
		q = url.Values{"path": {path}}
	}
	out := Permissions{}
	if err := c.get(ctx, "/access/permissions", q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Has reports whether priv is granted on path, either there or propagated
// from an ancestor path.
func (p Permissions) Has(path, priv string) bool {
	if privs, ok := p[path]; ok {
		if _, ok := privs[priv]; ok {
			return true
		}
	}
	for anc := parentACLPath(path); anc != ""; anc = parentACLPath(anc) {
		if propagate, ok := p[anc][priv]; ok && bool(propagate) {
			return true
		}
	}
	return false
}

// Missing returns the privileges from want not granted on path.
func (p Permissions) Missing(path string, want []string) []string {
	var out []string
	for _, priv := range want {
		if !p.Has(path, priv) {
			out = append(out, priv)
		}
	}
	return out
}

// parentACLPath returns the parent of an ACL path ("/vms/100" → "/vms" → "/"),
// or "" above the root.
func parentACLPath(path string) string {
	if path == "/" || path == "" {
		return ""
	}
	i := strings.LastIndex(strings.TrimSuffix(path, "/"), "/")
	if i <= 0 {
		return "/"
	}
	return path[:i]
}
