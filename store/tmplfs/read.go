package tmplfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"corral/store"
)

// Layout of one template directory (see the reference, section 6):
//
//	NAME/template.conf
//	NAME/container-configs/scripts/NN-name.sh
//	NAME/container-configs/files/X, X.path (target directory), X.policy
//	NAME/container-configs/packages/BUCKET.apt|.npm|.pip|.custom
const (
	ConfName    = "template.conf"
	scriptsDir  = "container-configs/scripts"
	filesDir    = "container-configs/files"
	packagesDir = "container-configs/packages"
)

var scriptNameRE = regexp.MustCompile(`^([0-9]+)-.+\.sh$`)

// ignored are housekeeping files in the container-configs directories.
func ignored(name string) bool {
	return name == "README.md" || name == ".gitkeep" || name == ".DS_Store"
}

// ReadTemplate reads the template in dir. The template is named after the
// directory, has SourceFilesystem and is not validated yet. warnings list
// files that were skipped on purpose.
func ReadTemplate(dir string) (t store.Template, warnings []string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return store.Template{}, nil, err
	}
	src, err := os.ReadFile(filepath.Join(abs, ConfName))
	if err != nil {
		return store.Template{}, nil, err
	}
	conf, err := ParseConf(string(src))
	if err != nil {
		return store.Template{}, nil, err
	}
	t, err = fromConf(filepath.Base(abs), conf)
	if err != nil {
		return store.Template{}, nil, err
	}
	t.Source, t.Path = store.SourceFilesystem, abs
	var w []string
	if t.Scripts, w, err = readScripts(filepath.Join(abs, scriptsDir)); err != nil {
		return store.Template{}, nil, err
	}
	warnings = append(warnings, w...)
	if t.Files, err = readFiles(filepath.Join(abs, filesDir)); err != nil {
		return store.Template{}, nil, err
	}
	if t.Packages, w, err = readPackages(filepath.Join(abs, packagesDir)); err != nil {
		return store.Template{}, nil, err
	}
	return t, append(warnings, w...), nil
}

// fromConf maps template.conf keys to a template, with the defaults the
// original product used (1 core, 512 MiB, 8 GiB, debian 12, unprivileged).
// TEMPLATE_SWAP, TEMPLATE_STORAGE and TEMPLATE_BRIDGE are read too.
func fromConf(name string, c map[string]string) (store.Template, error) {
	t := store.Template{Name: name, Description: c["TEMPLATE_DESCRIPTION"]}
	t.Tags = strings.FieldsFunc(c["TEMPLATE_TAGS"], func(r rune) bool { return r == ';' || r == ',' })
	var errs []error
	num := func(key string, def int) int {
		v := strings.TrimSpace(c[key])
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not a whole number", key, v))
		}
		return n
	}
	flag := func(key string, def bool) bool {
		switch strings.ToLower(strings.TrimSpace(c[key])) {
		case "":
			return def
		case "1", "yes", "true", "on":
			return true
		case "0", "no", "false", "off":
			return false
		}
		errs = append(errs, fmt.Errorf("%s=%q: use 1 or 0", key, c[key]))
		return def
	}
	t.Cores = num("TEMPLATE_CPU", 1)
	t.Memory = num("TEMPLATE_RAM", 512)
	t.Disk = num("TEMPLATE_DISK", 8)
	if _, ok := c["TEMPLATE_SWAP"]; ok && strings.TrimSpace(c["TEMPLATE_SWAP"]) != "" {
		swap := num("TEMPLATE_SWAP", 0)
		t.Swap = &swap
	}
	t.Storage, t.Bridge = c["TEMPLATE_STORAGE"], c["TEMPLATE_BRIDGE"]
	osName, version := c["TEMPLATE_OS"], c["TEMPLATE_VERSION"]
	if osName == "" {
		osName = "debian"
	}
	if version == "" {
		version = "12"
	}
	t.OSTemplate = osName + "-" + version + "-standard"
	t.Features = store.Features{
		Unprivileged: flag("TEMPLATE_UNPRIVILEGED", true),
		Nesting:      flag("TEMPLATE_NESTING", false),
		Keyctl:       flag("TEMPLATE_KEYCTL", false),
		Fuse:         flag("TEMPLATE_FUSE", false),
	}
	if err := errors.Join(errs...); err != nil {
		return store.Template{}, fmt.Errorf("%s: %w", ConfName, err)
	}
	return t, nil
}

// entries lists a directory's regular files sorted by name; a missing
// directory is empty.
func entries(dir string) ([]fs.DirEntry, error) {
	list, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, e := range list {
		if e.Type().IsRegular() && !ignored(e.Name()) {
			out = append(out, e)
		}
	}
	return out, nil
}

// readScripts reads NN-name.sh files ordered by their number, then name.
func readScripts(dir string) ([]store.Script, []string, error) {
	list, err := entries(dir)
	if err != nil {
		return nil, nil, err
	}
	type numbered struct {
		n int
		s store.Script
	}
	var found []numbered
	var warnings []string
	for _, e := range list {
		m := scriptNameRE.FindStringSubmatch(e.Name())
		if m == nil {
			warnings = append(warnings, fmt.Sprintf("%s/%s: skipped (scripts are named NN-name.sh)", scriptsDir, e.Name()))
			continue
		}
		n, _ := strconv.Atoi(m[1])
		content, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, err
		}
		found = append(found, numbered{n, store.Script{Name: e.Name(), Content: string(content), Enabled: true}})
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].n < found[j].n })
	out := make([]store.Script, len(found))
	for i, f := range found {
		out[i] = f.s
	}
	return out, warnings, nil
}

// readFiles reads each file with its .path sidecar (required: the target
// directory) and .policy sidecar (optional: default when missing). An
// executable file gets mode 0755.
func readFiles(dir string) ([]store.File, error) {
	list, err := entries(dir)
	if err != nil {
		return nil, err
	}
	var out []store.File
	for _, e := range list {
		name := e.Name()
		if strings.HasSuffix(name, ".path") || strings.HasSuffix(name, ".policy") {
			continue
		}
		content, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		target, err := sidecar(dir, name+".path")
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s/%s: missing %s.path (one line: the target directory)", filesDir, name, name)
		}
		if err != nil {
			return nil, err
		}
		policy, err := sidecar(dir, name+".policy")
		switch {
		case errors.Is(err, fs.ErrNotExist) || (err == nil && policy == ""):
			policy = string(store.PolicyDefault)
		case err != nil:
			return nil, err
		}
		f := store.File{Name: name, TargetDir: target, Policy: store.FilePolicy(policy), Content: string(content)}
		if info, err := e.Info(); err == nil && info.Mode().Perm()&0o111 != 0 {
			f.Mode = "0755"
		}
		out = append(out, f)
	}
	return out, nil
}

// sidecar returns the first line of a .path or .policy file, trimmed.
func sidecar(dir, name string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(line), nil
}

// readPackages reads BUCKET.apt|.npm|.pip|.custom files, in name order,
// into one de-duplicated list linked to the template.
func readPackages(dir string) ([]store.Package, []string, error) {
	list, err := entries(dir)
	if err != nil {
		return nil, nil, err
	}
	var out []store.Package
	var warnings, problems []string
	for _, e := range list {
		ext := strings.TrimPrefix(filepath.Ext(e.Name()), ".")
		m := store.PackageManager(ext)
		switch m {
		case store.ManagerApt, store.ManagerNpm, store.ManagerPip, store.ManagerCustom:
		default:
			warnings = append(warnings, fmt.Sprintf("%s/%s: skipped (package files end in .apt, .npm, .pip or .custom)", packagesDir, e.Name()))
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, err
		}
		pkgs, probs := store.ParsePackageList(m, string(data))
		for _, p := range probs {
			problems = append(problems, fmt.Sprintf("%s/%s: %s", packagesDir, e.Name(), p))
		}
		out = store.MergePackages(out, pkgs...)
	}
	if len(problems) > 0 {
		return nil, nil, errors.New(strings.Join(problems, "; "))
	}
	return out, warnings, nil
}
