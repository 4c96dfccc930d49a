package pvesim

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// ACL maps an ACL path ("/", "/vms", "/vms/105", "/storage/local", "/nodes/pve1")
// to the privileges granted there. Grants propagate to sub-paths, as with
// `pveum acl modify --propagate 1` (the default).
type ACL map[string][]string

// TokenSpec describes an API token "User!ID" with secret Secret.
//
// Privileges are the token's effective privileges. For a privilege-separated
// token (Privsep, the PVE default) that is the intersection of the user's and
// the token's ACLs; the simulator takes it as given. A token of root@pam
// without Privsep has every privilege, whatever Privileges says.
type TokenSpec struct {
	User       string // user@realm, e.g. "root@pam"
	ID         string // token name, e.g. "corral"
	Secret     string
	Privsep    bool
	Privileges ACL
}

// FullID is the token id as PVE writes it: user@realm!name.
// A spec without ID stands for the user itself (a root shell running pct).
func (t TokenSpec) FullID() string {
	if t.ID == "" {
		return t.User
	}
	return t.User + "!" + t.ID
}

// CorralPrivileges are the privileges Corral needs (reference §11).
var CorralPrivileges = []string{
	"VM.Audit", "VM.PowerMgmt", "VM.Allocate", "VM.Config.CPU", "VM.Config.Memory",
	"VM.Config.Network", "VM.Config.Disk", "VM.Config.Options", "VM.Snapshot", "VM.Backup",
	"Datastore.Audit", "Datastore.AllocateSpace", "Datastore.AllocateTemplate",
	"Sys.Audit", "SDN.Use",
}

// AllPrivileges is every privilege of PVE 9 (what root@pam has on "/").
var AllPrivileges = []string{
	"Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
	"Group.Allocate", "Mapping.Audit", "Mapping.Modify", "Mapping.Use", "Permissions.Modify",
	"Pool.Allocate", "Pool.Audit", "Realm.Allocate", "Realm.AllocateUser",
	"SDN.Allocate", "SDN.Audit", "SDN.Use",
	"Sys.AccessNetwork", "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
	"User.Modify",
	"VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU",
	"VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory",
	"VM.Config.Network", "VM.Config.Options", "VM.Console", "VM.GuestAgent.Audit",
	"VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite",
	"VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt", "VM.Replicate", "VM.Snapshot",
	"VM.Snapshot.Rollback",
}

// CorralACL grants CorralPrivileges on "/" — the role set-up the reference documents.
func CorralACL() ACL { return ACL{"/": slices.Clone(CorralPrivileges)} }

// AdminACL grants every privilege on "/".
func AdminACL() ACL { return ACL{"/": slices.Clone(AllPrivileges)} }

// token is a registered API token with its effective ACL resolved.
type token struct {
	spec TokenSpec
	acl  ACL
}

func newToken(spec TokenSpec) *token {
	acl := spec.Privileges
	if spec.User == "root@pam" && !spec.Privsep {
		acl = AdminACL()
	}
	return &token{spec: spec, acl: acl}
}

// isRootPam reports whether the caller is root@pam itself (a shell running
// pct), for whom PVE skips every permission check. A token of root is not.
func (t *token) isRootPam() bool { return t.spec.User == "root@pam" && t.spec.ID == "" }

// can reports whether the token holds priv on path, directly or inherited
// from a parent path.
func (t *token) can(path, priv string) bool {
	for p := path; ; p = parentPath(p) {
		if slices.Contains(t.acl[p], priv) {
			return true
		}
		if p == "/" {
			return false
		}
	}
}

func parentPath(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// permissions answers GET /access/permissions: path → privilege → propagate.
// With path set, it returns the privileges effective on that one path.
func (t *token) permissions(path string) map[string]map[string]int {
	out := map[string]map[string]int{}
	if path != "" {
		m := map[string]int{}
		for _, priv := range AllPrivileges {
			if t.can(path, priv) {
				m[priv] = 1
			}
		}
		out[path] = m
		return out
	}
	for p, privs := range t.acl {
		m := map[string]int{}
		for _, priv := range privs {
			m[priv] = 1
		}
		out[p] = m
	}
	return out
}

var (
	tokenHeaderRe = regexp.MustCompile(`(?:^|\s)PVEAPIToken(?:=| )([^;]*)`)
	tokenIDRe     = regexp.MustCompile(`^([^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$`)
)

// parseTokenHeader splits an Authorization header into the full token id and
// the secret, the way pve-http-server's extract_auth_value does.
func parseTokenHeader(h string) (id, secret string, ok bool) {
	m := tokenHeaderRe.FindStringSubmatch(h)
	if m == nil {
		return "", "", false
	}
	v, err := url.PathUnescape(m[1])
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(v, "=")
	if !ok || !tokenIDRe.MatchString(id) {
		return "", "", false
	}
	return id, secret, true
}
