package store

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidationError maps form fields to messages a user can act on. Field keys
// are the form's field names: "name", "cores", "scripts.2.name",
// "files.0.target_dir", "packages.apt", ... It wraps ErrInvalid, and also
// ErrConflict when a unique name is taken.
type ValidationError struct {
	Fields map[string]string
	// Conflict is set when the problem is a name already in use.
	Conflict bool
}

// Lines are the messages as "field: message", by field name.
func (e *ValidationError) Lines() []string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + ": " + e.Fields[k]
	}
	return lines
}

// Error lists the messages in a stable order.
func (e *ValidationError) Error() string {
	return "invalid: " + strings.Join(e.Lines(), "; ")
}

// Unwrap lets errors.Is match ErrInvalid, and ErrConflict for a taken name.
func (e *ValidationError) Unwrap() []error {
	if e.Conflict {
		return []error{ErrInvalid, ErrConflict}
	}
	return []error{ErrInvalid}
}

// conflictError reports a taken unique name on field.
func conflictError(field, format string, args ...any) *ValidationError {
	v := &ValidationError{Conflict: true}
	v.add(field, format, args...)
	return v
}

// add records the first message for a field.
func (e *ValidationError) add(field, format string, args ...any) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = fmt.Sprintf(format, args...)
	}
}

// err returns e as an error, or nil when no field failed.
func (e *ValidationError) err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Limits of template fields. Resource bounds follow what Proxmox accepts
// for pct create (cores 1-8192, memory >= 16 MiB), capped at sizes no home
// lab reaches so typos like 40960000 are caught.
const (
	MaxTemplateName   = 100
	MaxDescription    = 500
	MaxTags           = 20
	MaxTagLen         = 32
	MinCores          = 1
	MaxCores          = 8192
	MinMemory         = 16
	MaxMemory         = 1 << 20 // MiB (1 TiB)
	MaxSwap           = 1 << 20 // MiB
	MinDisk           = 1
	MaxDisk           = 1 << 17 // GiB (128 TiB)
	MaxScriptName     = 100
	MaxFileName       = 255
	MaxContent        = 1 << 20 // bytes, per script or file
	MaxPackageNameLen = 200
)

var (
	tagRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]*$`)
	osShortRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	osVolidRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*:vztmpl/[^/\s]+$`)
	storageRE   = regexp.MustCompile(`^[a-z][a-z0-9._-]*[a-z0-9]$|^[a-z]$`)
	bridgeRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,14}$`)
	scriptRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	modeRE      = regexp.MustCompile(`^0?[0-7]{3,4}$`)
	ownerPartRE = regexp.MustCompile(`^([a-z_][a-z0-9_-]*\$?|[0-9]+)$`)
)

// Normalize trims text fields, lower-cases and de-duplicates tags, cleans
// target directories and fills defaults (policy replace), so that what is
// stored is what validation saw.
func (t *Template) Normalize() {
	t.Name = strings.TrimSpace(t.Name)
	t.Description = strings.TrimSpace(t.Description)
	t.OSTemplate = strings.TrimSpace(t.OSTemplate)
	t.Storage = strings.TrimSpace(t.Storage)
	t.Bridge = strings.TrimSpace(t.Bridge)
	t.Tags = NormalizeTags(t.Tags)
	for i := range t.Scripts {
		t.Scripts[i].Name = strings.TrimSpace(t.Scripts[i].Name)
	}
	for i := range t.Files {
		f := &t.Files[i]
		f.Name = strings.TrimSpace(f.Name)
		f.TargetDir = strings.TrimSpace(f.TargetDir)
		if len(f.TargetDir) > 1 {
			f.TargetDir = strings.TrimRight(f.TargetDir, "/")
		}
		f.Mode = strings.TrimSpace(f.Mode)
		f.Owner = strings.TrimSpace(f.Owner)
		if f.Policy == "" {
			f.Policy = PolicyReplace
		}
	}
	for i := range t.Packages {
		p := &t.Packages[i]
		p.Name = strings.TrimSpace(p.Name)
		p.Check = strings.TrimSpace(p.Check)
		p.Install = strings.TrimSpace(p.Install)
	}
}

// NormalizeTags lower-cases and trims tags, drops empty ones and duplicates,
// and keeps the first-seen order.
func NormalizeTags(tags []string) []string {
	var out []string
	for _, tag := range tags {
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag != "" && !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out
}

// Validate checks every field and returns a *ValidationError naming each
// field that is wrong, or nil. Call Normalize first.
func (t *Template) Validate() error {
	var v ValidationError
	validateName(&v, "name", t.Name, MaxTemplateName, "Name")
	if utf8.RuneCountInString(t.Description) > MaxDescription {
		v.add("description", "Description must be %d characters or less", MaxDescription)
	}
	if len(t.Tags) > MaxTags {
		v.add("tags", "Use at most %d tags", MaxTags)
	}
	for _, tag := range t.Tags {
		if len(tag) > MaxTagLen || !tagRE.MatchString(tag) {
			v.add("tags", "Tag %q: use letters, digits, '.', '_', '+' or '-' (at most %d characters), separated by ';'", tag, MaxTagLen)
		}
	}
	if o := t.OSTemplate; o != "" && (len(o) > 255 || !(osShortRE.MatchString(o) || osVolidRE.MatchString(o))) {
		v.add("os_template", "Use a short name like debian-12-standard or a volid like local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
	}
	checkRange(&v, "cores", "CPU cores", t.Cores, MinCores, MaxCores, "")
	checkRange(&v, "memory", "Memory", t.Memory, MinMemory, MaxMemory, " MiB")
	if t.Swap != nil && (*t.Swap < 0 || *t.Swap > MaxSwap) {
		v.add("swap", "Swap must be between 0 and %d MiB", MaxSwap)
	}
	checkRange(&v, "disk", "Disk", t.Disk, MinDisk, MaxDisk, " GiB")
	if t.Storage != "" && (len(t.Storage) > 64 || !storageRE.MatchString(t.Storage)) {
		v.add("storage", "Storage must be a Proxmox storage id like local-lvm (lower-case letters, digits, '-', '_', '.')")
	}
	if t.Bridge != "" && !bridgeRE.MatchString(t.Bridge) {
		v.add("bridge", "Bridge must be an interface name like vmbr0 (at most 15 characters)")
	}
	switch t.Source {
	case "", SourceBuiltin, SourceFilesystem, SourceCustom:
	default:
		v.add("source", "Unknown source %q", t.Source)
	}
	validateScripts(&v, t.Scripts)
	validateFiles(&v, t.Files)
	validatePackages(&v, "packages.", t.Packages)
	return v.err()
}

func checkRange(v *ValidationError, field, label string, n, lo, hi int, unit string) {
	if n != 0 && (n < lo || n > hi) {
		v.add(field, "%s must be between %d and %d%s (leave empty for the Proxmox default)", label, lo, hi, unit)
	}
}

// validateName checks a display name: required, bounded, printable, and
// usable as a directory name when exported.
func validateName(v *ValidationError, field, name string, max int, label string) {
	switch {
	case name == "":
		v.add(field, "%s is required", label)
	case utf8.RuneCountInString(name) > max:
		v.add(field, "%s must be %d characters or less", label, max)
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		v.add(field, "%s must not contain control characters", label)
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		v.add(field, "%s must not contain / or \\ and must not be . or ..", label)
	}
}

func validateScripts(v *ValidationError, scripts []Script) {
	seen := map[string]bool{}
	for i, s := range scripts {
		f := func(k string) string { return "scripts." + strconv.Itoa(i) + "." + k }
		switch {
		case s.Name == "":
			v.add(f("name"), "Script name is required")
		case len(s.Name) > MaxScriptName:
			v.add(f("name"), "Script name must be %d characters or less", MaxScriptName)
		case !scriptRE.MatchString(s.Name):
			v.add(f("name"), "Script name must be safe as a file name: letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. 10-install-docker.sh)")
		case seen[s.Name]:
			v.add(f("name"), "Another script is already called %s", s.Name)
		}
		seen[s.Name] = true
		switch {
		case strings.TrimSpace(s.Content) == "":
			v.add(f("content"), "Script content is required")
		case len(s.Content) > MaxContent:
			v.add(f("content"), "Script content must be at most 1 MiB")
		}
	}
}

func validateFiles(v *ValidationError, files []File) {
	seen := map[string]bool{}
	for i, fl := range files {
		f := func(k string) string { return "files." + strconv.Itoa(i) + "." + k }
		switch {
		case fl.Name == "":
			v.add(f("name"), "File name is required")
		case len(fl.Name) > MaxFileName:
			v.add(f("name"), "File name must be %d characters or less", MaxFileName)
		case strings.ContainsAny(fl.Name, `/\`):
			v.add(f("name"), "File name must not contain a path separator; put the directory in Target directory")
		case fl.Name == "." || fl.Name == ".." || strings.IndexFunc(fl.Name, unicode.IsControl) >= 0 || !utf8.ValidString(fl.Name):
			v.add(f("name"), "File name must be a plain file name")
		}
		switch d := fl.TargetDir; {
		case d == "":
			v.add(f("target_dir"), "Target directory is required")
		case !strings.HasPrefix(d, "/"):
			v.add(f("target_dir"), "Target directory must be absolute (start with /)")
		case slices.Contains(strings.Split(d, "/"), ".."):
			v.add(f("target_dir"), "Target directory must not contain ..")
		case path.Clean(d) != d || strings.IndexFunc(d, unicode.IsControl) >= 0:
			v.add(f("target_dir"), "Target directory must be a clean path like /etc/nginx")
		}
		key := fl.TargetDir + "/" + fl.Name
		if fl.Name != "" && seen[key] {
			v.add(f("name"), "Another file already goes to %s", path.Join(fl.TargetDir, fl.Name))
		}
		seen[key] = true
		if !slices.Contains(FilePolicies, fl.Policy) {
			v.add(f("policy"), "Policy must be replace, default or backup")
		}
		if fl.Mode != "" && !modeRE.MatchString(fl.Mode) {
			v.add(f("mode"), "Mode must be octal like 0644 or 0755")
		}
		if fl.Owner != "" && !validOwner(fl.Owner) {
			v.add(f("owner"), "Owner must be user or user:group (names or numeric ids)")
		}
		if len(fl.Content) > MaxContent {
			v.add(f("content"), "File content must be at most 1 MiB")
		}
	}
}

func validOwner(s string) bool {
	user, group, hasGroup := strings.Cut(s, ":")
	if !ownerPartRE.MatchString(user) {
		return false
	}
	return !hasGroup || ownerPartRE.MatchString(group)
}

// validatePackages checks packages; errors are keyed prefix+manager so a
// form can show them next to that manager's list.
func validatePackages(v *ValidationError, prefix string, pkgs []Package) {
	for _, p := range pkgs {
		field := prefix + string(p.Manager)
		if !slices.Contains(PackageManagers, p.Manager) {
			v.add(prefix+"manager", "Unknown package manager %q (use apt, npm, pip or custom)", p.Manager)
			continue
		}
		if msg := packageProblem(p); msg != "" {
			v.add(field, "%s", msg)
		}
	}
}

// Package names as each manager writes them, version included. Anything
// else is refused before it reaches apt-get, npm or pip in a container.
var (
	// Debian policy: lower-case letters, digits, '+', '-' and '.', at least
	// two characters, starting with a letter or digit; apt-get also takes
	// :ARCH, then =VERSION (globs allowed) or /RELEASE.
	aptNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:*-]+|/[A-Za-z0-9.-]+)?$`)
	// npm: [@scope/]name, then @version, @range or @tag.
	npmNameRE = regexp.MustCompile(`^(@[A-Za-z0-9][A-Za-z0-9._~-]*/)?[A-Za-z0-9][A-Za-z0-9._~-]*(@[A-Za-z0-9.^~<>=*+_-]+)?$`)
	// pip: a PEP 508 name, optional [extras] and version specifiers.
	pipNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._,-]+\])?(` + pipSpec + `(,` + pipSpec + `)*)?$`)
	// custom: a label of letters, digits and . _ + - @.
	customNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+@-]*$`)
)

const pipSpec = `(===|==|!=|<=|>=|~=|<|>)[A-Za-z0-9.*+!_-]+`

// packageNameRules says, per manager, what a name may look like.
var packageNameRules = map[PackageManager]struct {
	re   *regexp.Regexp
	hint string
}{
	ManagerApt:    {aptNameRE, "Debian package names use lower-case letters, digits, '+', '-' and '.', e.g. curl or nodejs=24.*"},
	ManagerNpm:    {npmNameRE, "npm names look like typescript, typescript@5 or @scope/name"},
	ManagerPip:    {pipNameRE, "pip requirements look like requests, requests==2.32 or black[jupyter]>=24"},
	ManagerCustom: {customNameRE, "name custom packages with letters, digits, '.', '_', '+', '@' and '-'"},
}

// packageProblem explains what is wrong with one package, or returns "".
func packageProblem(p Package) string {
	switch {
	case p.Name == "":
		return "Package name is required"
	case len(p.Name) > MaxPackageNameLen:
		return fmt.Sprintf("Package name %.20q… is too long", p.Name)
	case strings.IndexFunc(p.Name, unicode.IsSpace) >= 0 || strings.IndexFunc(p.Name, unicode.IsControl) >= 0:
		return fmt.Sprintf("Package name %q must not contain spaces", p.Name)
	case p.Manager != ManagerCustom && strings.Contains(p.Name, "|"):
		return fmt.Sprintf("Package %q: only custom packages use name|check|install", p.Name)
	case p.Manager != ManagerCustom && strings.HasPrefix(p.Name, "-"):
		return fmt.Sprintf("Package %q must not start with '-'", p.Name)
	case p.Manager == ManagerCustom && p.Install == "":
		return fmt.Sprintf("Custom package %q needs an install command: name|check command|install command", p.Name)
	case p.Manager == ManagerCustom && (strings.ContainsAny(p.Check+p.Install, "\n\r")):
		return fmt.Sprintf("Custom package %q: commands must be on one line", p.Name)
	}
	if rule, ok := packageNameRules[p.Manager]; ok && !rule.re.MatchString(p.Name) {
		return fmt.Sprintf("%q is not a valid %s package name: %s", p.Name, p.Manager, rule.hint)
	}
	return ""
}
