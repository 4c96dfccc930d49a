package store

import (
	"strings"
	"time"
)

// Template is a reusable container recipe: resources and features, packages
// to install, files to place and scripts to run in order.
//
// Containers copy what they need from a template when they are created, so
// editing or deleting a template never changes containers built from it.
//
// A template belongs to one account (Owner). Its owner may mark it Shared:
// every account then reads and copies it, and only the owner changes it.
// The built-in starters belong to nobody and are read-only for everyone.
type Template struct {
	ID string `json:"id"`
	// Owner is the id of the account the template belongs to; "" for a
	// built-in. Not stored in the record: the user's bucket says it.
	Owner string `json:"-"`
	// OwnerName is the owner's username, filled in when read.
	OwnerName string `json:"-"`
	// Shared lets every account read and copy the template.
	Shared      bool           `json:"shared,omitempty"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Tags        []string       `json:"tags,omitempty"`
	Source      TemplateSource `json:"source"`
	// Path is the directory a filesystem template was imported from.
	Path string `json:"path,omitempty"`
	// CopiedFrom is the id of the built-in this template is a copy of, ""
	// for any other template. ResetTemplate brings such a copy back to the
	// built-in's current recipe.
	CopiedFrom string `json:"copied_from,omitempty"`
	// OSTemplate is a short name such as "debian-12-standard", which the
	// wizard maps to a volid downloaded on the node, or an exact volid.
	OSTemplate string `json:"os_template,omitempty"`
	// Cores, Memory (MiB) and Disk (GiB) are 0 when unset: Proxmox defaults apply.
	Cores  int `json:"cores,omitempty"`
	Memory int `json:"memory,omitempty"`
	// Swap (MiB) is a pointer because 0 (no swap) differs from unset.
	Swap     *int      `json:"swap,omitempty"`
	Disk     int       `json:"disk,omitempty"`
	Storage  string    `json:"storage,omitempty"`
	Bridge   string    `json:"bridge,omitempty"`
	Features Features  `json:"features"`
	Scripts  []Script  `json:"scripts,omitempty"`
	Files    []File    `json:"files,omitempty"`
	Packages []Package `json:"packages,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// Features are the LXC feature switches of a template or a plan. Docker
// inside LXC needs Nesting and Keyctl.
type Features struct {
	Unprivileged bool `json:"unprivileged"`
	Nesting      bool `json:"nesting,omitempty"`
	Keyctl       bool `json:"keyctl,omitempty"`
	Fuse         bool `json:"fuse,omitempty"`
}

// String is the flags turned on as Proxmox's features property, e.g.
// "nesting=1,keyctl=1"; "" when none is. Unprivileged is no feature flag.
func (f Features) String() string {
	var parts []string
	for _, flag := range []struct {
		name string
		on   bool
	}{{"nesting", f.Nesting}, {"keyctl", f.Keyctl}, {"fuse", f.Fuse}} {
		if flag.on {
			parts = append(parts, flag.name+"=1")
		}
	}
	return strings.Join(parts, ",")
}

// TemplateSource says where a template came from.
type TemplateSource string

// Template sources.
const (
	SourceBuiltin    TemplateSource = "builtin"
	SourceFilesystem TemplateSource = "filesystem"
	SourceCustom     TemplateSource = "custom"
)

// Script is one step of a template; scripts run in slice order.
type Script struct {
	Name    string `json:"name"`
	Content string `json:"content"`
	Enabled bool   `json:"enabled"`
}

// File is a file placed in the container before the scripts run.
type File struct {
	Name string `json:"name"`
	// TargetDir is the absolute directory the file is placed in, under Name.
	TargetDir string     `json:"target_dir"`
	Policy    FilePolicy `json:"policy"`
	// Mode is an octal permission string such as "0644"; empty means 0644.
	Mode string `json:"mode,omitempty"`
	// Owner is "user" or "user:group"; empty means the owner of TargetDir.
	Owner   string `json:"owner,omitempty"`
	Content string `json:"content"`
}

// FilePolicy says what happens when a file's target already exists.
type FilePolicy string

// File policies. An identical target is always left alone.
const (
	// PolicyReplace overwrites a different target.
	PolicyReplace FilePolicy = "replace"
	// PolicyDefault keeps a different target (it preserves user edits).
	PolicyDefault FilePolicy = "default"
	// PolicyBackup moves a different target to NAME.backup-YYYYMMDD-HHMMSS first.
	PolicyBackup FilePolicy = "backup"
)

// FilePolicies lists the policies in the order forms show them.
var FilePolicies = []FilePolicy{PolicyReplace, PolicyDefault, PolicyBackup}

// PackageManager installs a package.
type PackageManager string

// Package managers.
const (
	ManagerApt    PackageManager = "apt"
	ManagerNpm    PackageManager = "npm"
	ManagerPip    PackageManager = "pip"
	ManagerCustom PackageManager = "custom"
)

// PackageManagers lists the managers in the order pages show them.
var PackageManagers = []PackageManager{ManagerApt, ManagerNpm, ManagerPip, ManagerCustom}

// Package is one package of a template or of a package bucket. Version
// specifiers stay in Name (nodejs=24.*, typescript@5, requests==2.28).
type Package struct {
	Manager PackageManager `json:"manager"`
	Name    string         `json:"name"`
	// Check and Install are used by custom packages only: Install runs when
	// Check (if any) exits non-zero.
	Check   string `json:"check,omitempty"`
	Install string `json:"install,omitempty"`
}

// Key identifies a package for de-duplication.
func (p Package) Key() string { return string(p.Manager) + "\x00" + p.Name }

// EditableBy reports whether userID may change or delete the template: only
// its owner, and nobody a built-in.
func (t Template) EditableBy(userID string) bool {
	return userID != "" && t.Owner == userID
}

// HasTag reports whether the template carries tag as a whole tag.
func (t Template) HasTag(tag string) bool {
	for _, have := range t.Tags {
		if have == tag {
			return true
		}
	}
	return false
}

// PackagesBy returns the template's packages of manager m, in order.
func (t Template) PackagesBy(m PackageManager) []Package { return packagesBy(t.Packages, m) }

func packagesBy(pkgs []Package, m PackageManager) []Package {
	var out []Package
	for _, p := range pkgs {
		if p.Manager == m {
			out = append(out, p)
		}
	}
	return out
}

// MergePackages appends to dst the packages of src not already in it,
// keeping the order of first appearance.
func MergePackages(dst []Package, src ...Package) []Package {
	seen := make(map[string]bool, len(dst)+len(src))
	for _, p := range dst {
		seen[p.Key()] = true
	}
	for _, p := range src {
		if !seen[p.Key()] {
			seen[p.Key()] = true
			dst = append(dst, p)
		}
	}
	return dst
}
