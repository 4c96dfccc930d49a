package guest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// stubScript is the content of every stand-in executable a package
// installs: running it succeeds and does nothing, unless packageCommand
// has a Go implementation for it.
func stubScript(pkg string) string {
	return stubHeader + pkg + "\nexit 0\n"
}

const stubHeader = "#!/bin/sh\n# pvesim stand-in installed by package "

// stubPackage returns the package that installed a stand-in, or "".
func stubPackage(b []byte) string {
	rest, ok := strings.CutPrefix(string(b), stubHeader)
	if !ok {
		return ""
	}
	pkg, _, _ := strings.Cut(rest, "\n")
	return pkg
}

// packageCommand is the Go implementation of a package's stand-in
// executable at vp (content b), or nil: these exist only while the package
// that installed them does.
func packageCommand(b []byte, vp string) command {
	if stubPackage(b) == "" {
		return nil
	}
	switch baseName(vp) {
	case "docker":
		return cmdDocker
	case "nginx":
		return cmdNginx
	}
	return nil
}

// upstreamVersion is the upstream part of a Debian version:
// "5:28.0.1-1~debian.12~bookworm" -> "28.0.1".
func upstreamVersion(v string) string {
	if _, rest, ok := strings.Cut(v, ":"); ok {
		v = rest
	}
	if i := strings.LastIndex(v, "-"); i > 0 {
		v = v[:i]
	}
	return v
}

// catalogueUnit finds the unit spec a known package ships.
func catalogueUnit(unit string) (unitSpec, bool) {
	names := append(basePackageNames(), "nginx", "apache2", "postgresql", "redis-server", "mariadb-server", "docker.io",
		"docker-ce", "containerd.io", "unattended-upgrades")
	for _, n := range names {
		spec, ok := basePackage(n)
		if !ok {
			spec, _ = aptPackage(n)
		}
		for _, u := range spec.units {
			if u.name == unit {
				return u, true
			}
		}
	}
	return unitSpec{}, false
}

// installFiles lays down a package's files and links, configures it from
// debconf, and enables and starts its services, as dpkg and Debian's
// maintainer scripts do. Called inside update.
func (g *Guest) installFiles(v *vfs, st *state, pkg string, spec pkgSpec) {
	for _, b := range spec.bins {
		v.MkdirAll(dirName(b), 0o755)
		v.WriteFile(b, []byte(stubScript(pkg)), 0o755)
	}
	for path, content := range spec.files {
		if strings.HasPrefix(path, "/etc/") {
			if b, err := v.ReadFile(path); err == nil {
				// A conffile the system already has is kept (dpkg's default
				// answer); the package's version goes beside it.
				if string(b) != content {
					v.WriteFile(path+".dpkg-dist", []byte(content), 0o644)
				}
				continue
			}
		}
		v.MkdirAll(dirName(path), 0o755)
		v.WriteFile(path, []byte(content), 0o644)
	}
	for link, target := range spec.links {
		if _, err := v.Lstat(link); err != nil {
			v.MkdirAll(dirName(link), 0o755)
			v.Symlink(target, link)
		}
	}
	configurePackage(v, st, pkg, spec)
	for _, u := range spec.units {
		v.MkdirAll("/lib/systemd/system", 0o755)
		unit := fmt.Sprintf("[Unit]\nDescription=%s\nAfter=network.target\n\n[Service]\nExecStart=%s\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n", u.desc, u.exec)
		v.WriteFile("/lib/systemd/system/"+u.name, []byte(unit), 0o644)
		g.enableUnit(v, st, u.name)
		g.startUnit(v, st, u.name)
	}
}

// pkgName strips a version or release pin: "nodejs=18.*" -> "nodejs".
func pkgName(s string) string {
	if i := strings.IndexAny(s, "=/"); i > 0 {
		return s[:i]
	}
	return s
}

func cmdApt(p *proc) int {
	f := parseFlags(p.args[1:], "-o", "-t", "--option", "--target-release")
	if len(f.args) == 0 {
		fmt.Fprintln(p.err, "E: No command given")
		return 100
	}
	quiet := f.has("-q", "-qq", "--quiet") || strings.Contains(strings.Join(p.args, " "), "-qq")
	sub, names := f.args[0], f.args[1:]
	switch sub {
	case "update":
		return p.aptUpdate(quiet)
	case "upgrade", "dist-upgrade", "full-upgrade", "autoremove", "clean", "autoclean":
		if !quiet {
			fmt.Fprint(p.out, "Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")
		}
		return 0
	case "install", "reinstall":
		return p.aptInstall(names, quiet, dpkgForce(p.args[1:]))
	case "remove", "purge":
		return p.aptRemove(names, quiet)
	}
	fmt.Fprintf(p.err, "E: Invalid operation %s\n", sub)
	return 100
}

// dpkgForce lists the --force-conf* options passed to dpkg with
// -o Dpkg::Options::=... (which decide what happens to a conffile the
// system already has).
func dpkgForce(args []string) []string {
	var out []string
	for i, a := range args {
		var val string
		switch {
		case (a == "-o" || a == "--option") && i+1 < len(args):
			val = args[i+1]
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			val = a[2:]
		case strings.HasPrefix(a, "--option="):
			val = strings.TrimPrefix(a, "--option=")
		default:
			continue
		}
		if k, v, ok := strings.Cut(val, "="); ok && strings.EqualFold(k, "Dpkg::Options::") {
			out = append(out, strings.Trim(v, `"'`))
		}
	}
	return out
}

// aptWant is a package to install and what it is.
type aptWant struct {
	name string
	spec pkgSpec
}

// aptResolve finds names and their dependencies in the catalogue and in
// the repositories the last update fetched, or prints apt's error and
// returns false.
func (p *proc) aptResolve(names []string) ([]aptWant, bool) {
	var st *state
	p.s.g.view(func(s *state) { st = s })
	var wants []aptWant
	var add func(n string) bool
	add = func(n string) bool {
		if slices.ContainsFunc(wants, func(w aptWant) bool { return w.name == n }) {
			return true
		}
		spec, ok := aptPackage(n)
		if !ok {
			spec, ok = basePackage(n)
		}
		if !ok || (spec.repo != "" && (st == nil || !st.hasList(spec.repo))) {
			fmt.Fprintf(p.err, "E: Unable to locate package %s\n", n)
			if strings.ContainsAny(n, ".*?+[") {
				fmt.Fprintf(p.err, "E: Couldn't find any package by glob '%s'\nE: Couldn't find any package by regex '%s'\n", n, n)
			}
			return false
		}
		wants = append(wants, aptWant{n, spec})
		for _, d := range spec.depends {
			if !add(d) {
				return false
			}
		}
		return true
	}
	for _, raw := range names {
		if strings.HasSuffix(raw, ".deb") {
			fmt.Fprintf(p.err, "E: Unsupported file %s given on commandline\n", raw)
			return nil, false
		}
		if !add(pkgName(raw)) {
			return nil, false
		}
	}
	return wants, true
}

// conffileConflicts lists the conffiles of spec the system already has
// with other content.
func conffileConflicts(v *vfs, spec pkgSpec) []string {
	var out []string
	for path, content := range spec.files {
		if !strings.HasPrefix(path, "/etc/") {
			continue
		}
		if b, err := v.ReadFile(path); err == nil && string(b) != content {
			out = append(out, path)
		}
	}
	slices.Sort(out)
	return out
}

func (p *proc) aptInstall(names []string, quiet bool, force []string) int {
	if _, _, err := readAptSources(p.s.fs); err != nil {
		fmt.Fprintln(p.err, err)
		return 100
	}
	if !quiet {
		fmt.Fprint(p.out, "Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n")
	}
	wants, ok := p.aptResolve(names)
	if !ok {
		return 100
	}
	keepOld := slices.Contains(force, "--force-confold") || slices.Contains(force, "--force-confdef")
	var added, failed []string
	err := p.s.g.update(func(st *state) error {
		for _, w := range wants {
			if _, base := basePackage(w.name); base || st.hasPackage("apt", w.name) {
				if !quiet && slices.Contains(names, w.name) {
					fmt.Fprintf(p.out, "%s is already the newest version (%s).\n", w.name, w.spec.version)
				}
				continue
			}
			if !slices.Contains(added, w.name) {
				added = append(added, w.name)
			}
		}
		if !quiet && len(added) > 0 {
			fmt.Fprintf(p.out, "The following NEW packages will be installed:\n  %s\n", strings.Join(added, " "))
		}
		if !quiet {
			fmt.Fprintf(p.out, "0 upgraded, %d newly installed, 0 to remove and 0 not upgraded.\n", len(added))
		}
		for _, w := range wants {
			if !slices.Contains(added, w.name) {
				continue
			}
			if conflicts := conffileConflicts(p.s.fs, w.spec); len(conflicts) > 0 && !keepOld {
				// dpkg asks what to do with each; pct exec has no terminal to answer.
				fmt.Fprintf(p.out, "Setting up %s (%s) ...\n", w.name, w.spec.version)
				fmt.Fprintf(p.out, "\nConfiguration file '%s'\n ==> File on system created by you or by a script.\n ==> File also in package provided by package maintainer.\n   What would you like to do about it ?  Your options are:\n    Y or I  : install the package maintainer's version\n    N or O  : keep your currently-installed version\n      D     : show the differences between the versions\n      Z     : start a shell to examine the situation\n The default action is to keep your current version.\n*** %s (Y/I/N/O/D/Z) [default=N] ? ", conflicts[0], baseName(conflicts[0]))
				fmt.Fprintf(p.err, "dpkg: error processing package %s (--configure):\n end of file on stdin at conffile prompt\n", w.name)
				failed = append(failed, w.name)
				continue
			}
			if !st.addPackage("apt", w.name, w.spec.version) {
				continue
			}
			if !quiet {
				fmt.Fprintf(p.out, "Setting up %s (%s) ...\n", w.name, w.spec.version)
			}
			for _, c := range conffileConflicts(p.s.fs, w.spec) {
				fmt.Fprintf(p.out, "\nConfiguration file '%s'\n ==> File on system created by you or by a script.\n ==> File also in package provided by package maintainer.\n ==> Keeping old config file as default.\n", c)
			}
			p.s.g.installFiles(p.s.fs, st, w.name, w.spec)
		}
		return nil
	})
	if err != nil {
		return p.fail("%v", err)
	}
	if len(failed) > 0 {
		fmt.Fprintf(p.err, "Errors were encountered while processing:\n %s\nE: Sub-process /usr/bin/dpkg returned an error code (1)\n", strings.Join(failed, "\n "))
		return 100
	}
	return 0
}

func (p *proc) aptRemove(names []string, quiet bool) int {
	err := p.s.g.update(func(st *state) error {
		for _, raw := range names {
			n := pkgName(raw)
			if !st.removePackage("apt", n) {
				if !quiet {
					fmt.Fprintf(p.out, "Package '%s' is not installed, so not removed\n", n)
				}
				continue
			}
			spec, _ := aptPackage(n)
			for _, u := range spec.units {
				p.s.g.stopUnit(st, u.name)
				delete(st.Units, u.name)
				p.s.fs.Remove("/lib/systemd/system/" + u.name)
			}
			for _, b := range spec.bins {
				p.s.fs.Remove(b)
			}
			if !quiet {
				fmt.Fprintf(p.out, "Removing %s (%s) ...\n", n, spec.version)
			}
		}
		return nil
	})
	if err != nil {
		return p.fail("%v", err)
	}
	return 0
}

// dpkgInfo reports an installed apt package's version.
func (p *proc) dpkgInfo(name string) (pkgSpec, string, bool) {
	if spec, ok := basePackage(name); ok {
		return spec, spec.version, true
	}
	var version string
	var ok bool
	p.s.g.view(func(st *state) {
		ok = st.hasPackage("apt", name)
		version = st.Versions["apt:"+name]
	})
	spec, _ := aptPackage(name)
	return spec, version, ok
}

func cmdDpkg(p *proc) int {
	f := parseFlags(p.args[1:], "-f", "--showformat")
	switch {
	case f.has("--print-architecture"):
		fmt.Fprintln(p.out, "amd64")
		return 0
	case f.has("--print-foreign-architectures"):
		return 0
	case f.has("-s", "--status"):
		code := 0
		for _, n := range f.args {
			spec, version, ok := p.dpkgInfo(n)
			if !ok {
				fmt.Fprintf(p.err, "dpkg-query: package '%s' is not installed and no information is available\n", n)
				code = 1
				continue
			}
			fmt.Fprintf(p.out, "Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: %s\nDescription: %s\n", n, version, spec.desc)
		}
		if code != 0 {
			fmt.Fprintln(p.err, "Use dpkg --info (= dpkg-deb --info) to examine archive files.")
		}
		return code
	case f.has("-W", "--show"):
		format, ok := f.get("-f", "--showformat")
		if !ok {
			format = "${Package}\t${Version}\n"
		}
		code := 0
		names := f.args
		if len(names) == 0 {
			p.s.g.view(func(st *state) { names = slices.Clone(st.Packages["apt"]) })
		}
		for _, n := range names {
			_, version, ok := p.dpkgInfo(n)
			if !ok {
				fmt.Fprintf(p.err, "dpkg-query: no packages found matching %s\n", n)
				code = 1
				continue
			}
			r := strings.NewReplacer("${Package}", n, "${binary:Package}", n, "${Version}", version,
				"${Status}", "install ok installed", "${db:Status-Abbrev}", "ii ", `\n`, "\n", `\t`, "\t")
			fmt.Fprint(p.out, r.Replace(format))
		}
		return code
	case f.has("-l", "--list"):
		var names []string
		p.s.g.view(func(st *state) { names = slices.Clone(st.Packages["apt"]) })
		fmt.Fprintln(p.out, "Desired=Unknown/Install/Remove/Purge/Hold\n||/ Name           Version      Architecture Description\n+++-==============-============-============-=================================")
		for _, n := range names {
			spec, version, _ := p.dpkgInfo(n)
			fmt.Fprintf(p.out, "ii  %-14s %-12s amd64        %s\n", n, version, spec.desc)
		}
		return 0
	}
	fmt.Fprintln(p.err, "dpkg: error: need an action option")
	return 2
}

// npmName strips a version from "pkg@1.2" or "@scope/pkg@1.2".
func npmName(s string) string {
	if i := strings.LastIndex(s, "@"); i > 0 {
		return s[:i]
	}
	return s
}

func cmdNpm(p *proc) int {
	f := parseFlags(p.args[1:])
	if f.has("-v", "--version") {
		fmt.Fprintln(p.out, "9.2.0")
		return 0
	}
	if len(f.args) == 0 {
		fmt.Fprintln(p.err, "npm <command>\n\nUsage:\n\nnpm install        install all the dependencies in your project")
		return 1
	}
	global := f.has("-g", "--global", "--location=global")
	sub, names := f.args[0], f.args[1:]
	switch sub {
	case "install", "i", "add":
		if !global {
			for _, n := range names {
				dir := p.path("node_modules/" + npmName(n))
				p.s.fs.MkdirAll(dir, 0o755)
				p.s.fs.WriteFile(dir+"/package.json", []byte(fmt.Sprintf("{\"name\":%q,\"version\":\"1.0.0\"}\n", npmName(n))), 0o644)
			}
			fmt.Fprintf(p.out, "\nadded %d packages in 1s\n", len(names))
			return 0
		}
		var added int
		err := p.s.g.update(func(st *state) error {
			for _, n := range names {
				name := npmName(n)
				if st.addPackage("npm", name, "1.0.0") {
					added++
				}
				bin := "/usr/local/bin/" + baseName(name)
				p.s.fs.MkdirAll("/usr/local/bin", 0o755)
				p.s.fs.WriteFile(bin, []byte(stubScript(name)), 0o755)
			}
			return nil
		})
		if err != nil {
			return p.fail("%v", err)
		}
		fmt.Fprintf(p.out, "\nadded %d packages in 1s\n", added)
		return 0
	case "uninstall", "remove", "rm", "un":
		p.s.g.update(func(st *state) error {
			for _, n := range names {
				st.removePackage("npm", npmName(n))
			}
			return nil
		})
		fmt.Fprintf(p.out, "\nremoved %d packages in 1s\n", len(names))
		return 0
	case "ls", "list":
		var list []string
		var versions map[string]string
		p.s.g.view(func(st *state) { list, versions = slices.Clone(st.Packages["npm"]), st.Versions })
		if global {
			fmt.Fprintln(p.out, "/usr/local/lib")
		} else {
			fmt.Fprintln(p.out, p.dir)
		}
		for i, n := range list {
			branch := "├── "
			if i == len(list)-1 {
				branch = "└── "
			}
			fmt.Fprintf(p.out, "%s%s@%s\n", branch, n, versions["npm:"+n])
		}
		if len(list) == 0 {
			fmt.Fprintln(p.out, "└── (empty)")
		}
		return 0
	}
	fmt.Fprintf(p.err, "Unknown command: \"%s\"\n", sub)
	return 1
}

func cmdPip(p *proc) int {
	f := parseFlags(p.args[1:], "-r", "--requirement", "-i", "--index-url", "--target", "-t")
	if f.has("-V", "--version") {
		fmt.Fprintln(p.out, "pip 23.0.1 from /usr/lib/python3/dist-packages/pip (python 3.11)")
		return 0
	}
	if len(f.args) == 0 {
		fmt.Fprintln(p.err, "Usage:\n  pip <command> [options]")
		return 1
	}
	sub, names := f.args[0], f.args[1:]
	quiet := f.has("-q", "--quiet")
	switch sub {
	case "install":
		if req, ok := f.get("-r", "--requirement"); ok {
			b, err := p.s.fs.ReadFile(p.path(req))
			if err != nil {
				fmt.Fprintf(p.err, "ERROR: Could not open requirements file: [Errno 2] No such file or directory: '%s'\n", req)
				return 1
			}
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSpace(strings.SplitN(l, "#", 2)[0]); l != "" {
					names = append(names, l)
				}
			}
		}
		versionSpec := regexp.MustCompile(`[\[<>=!~;@ ].*$`)
		var installed []string
		err := p.s.g.update(func(st *state) error {
			for _, n := range names {
				name := strings.ToLower(versionSpec.ReplaceAllString(n, ""))
				if !quiet {
					fmt.Fprintf(p.out, "Collecting %s\n", name)
				}
				if st.addPackage("pip", name, "1.0.0") {
					installed = append(installed, name+"-1.0.0")
				}
			}
			return nil
		})
		if err != nil {
			return p.fail("%v", err)
		}
		if !quiet && len(installed) > 0 {
			fmt.Fprintf(p.out, "Installing collected packages: %s\nSuccessfully installed %s\n", strings.Join(installed, ", "), strings.Join(installed, " "))
		}
		return 0
	case "uninstall":
		p.s.g.update(func(st *state) error {
			for _, n := range names {
				st.removePackage("pip", strings.ToLower(n))
			}
			return nil
		})
		return 0
	case "show":
		code := 0
		var missing []string
		p.s.g.view(func(st *state) {
			for _, n := range names {
				name := strings.ToLower(n)
				if !st.hasPackage("pip", name) {
					missing = append(missing, n)
					continue
				}
				fmt.Fprintf(p.out, "Name: %s\nVersion: %s\nSummary: \nLocation: /usr/local/lib/python3.11/dist-packages\nRequires: \nRequired-by: \n", name, st.Versions["pip:"+name])
			}
		})
		if len(missing) > 0 {
			fmt.Fprintf(p.err, "WARNING: Package(s) not found: %s\n", strings.Join(missing, ", "))
			code = 1
		}
		return code
	case "list", "freeze":
		var list []string
		var versions map[string]string
		p.s.g.view(func(st *state) { list, versions = slices.Clone(st.Packages["pip"]), st.Versions })
		if sub == "list" {
			fmt.Fprintf(p.out, "%-20s %s\n%s %s\n", "Package", "Version", strings.Repeat("-", 20), strings.Repeat("-", 7))
		}
		for _, n := range list {
			if sub == "freeze" {
				fmt.Fprintf(p.out, "%s==%s\n", n, versions["pip:"+n])
			} else {
				fmt.Fprintf(p.out, "%-20s %s\n", n, versions["pip:"+n])
			}
		}
		return 0
	}
	fmt.Fprintf(p.err, "ERROR: unknown command \"%s\"\n", sub)
	return 1
}
