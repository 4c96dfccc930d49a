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

// requirement is one privilege Corral needs on one ACL path.
type requirement struct{ path, priv string }

// corralPrivileges are what Corral's features need (reference §11), plus
// VM.Snapshot (take, roll back, delete snapshots) and VM.Backup (back up and
// restore). Datastore.AllocateTemplate is left out: only template
// downloads need it.
func corralPrivileges() []requirement {
	var out []requirement
	add := func(path string, privs ...string) {
		for _, p := range privs {
			out = append(out, requirement{path, p})
		}
	}
	add("/", "Sys.Audit")
	add("/vms", "VM.Audit", "VM.PowerMgmt", "VM.Allocate", "VM.Config.CPU", "VM.Config.Memory",
		"VM.Config.Network", "VM.Config.Disk", "VM.Config.Options", "VM.Snapshot", "VM.Backup")
	add("/storage", "Datastore.Audit", "Datastore.AllocateSpace")
	add("/sdn/zones/localnetwork", "SDN.Use")
	return out
}

// CorralRole lists the privileges of the role Corral's set-up instructions
// create: every privilege MissingForCorral checks, then
// Datastore.AllocateTemplate, which only template downloads need.
func CorralRole() []string {
	var out []string
	for _, r := range corralPrivileges() {
		out = append(out, r.priv)
	}
	return append(out, "Datastore.AllocateTemplate")
}

// MissingForCorral lists what the token lacks for Corral to work, as
// "Privilege on /path", empty when nothing is missing. A privilege-separated
// token without ACLs lacks everything.
func (p Permissions) MissingForCorral() []string {
	var out []string
	for _, r := range corralPrivileges() {
		if !p.Has(r.path, r.priv) {
			out = append(out, r.priv+" on "+r.path)
		}
	}
	return out
}
