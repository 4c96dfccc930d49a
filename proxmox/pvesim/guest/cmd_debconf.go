package guest

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// debconf is Debian's configuration database: packages ask questions, and
// their maintainer scripts act on the answers when the package is
// configured (installed, or reconfigured with dpkg-reconfigure). Here the
// answers live in the state; a package's questions and what it does with
// them are in its catalogue entry.

// debconfAnswer is one question's entry in the database.
type debconfAnswer struct {
	Owners []string `json:"owners"`
	Type   string   `json:"type"`
	Value  string   `json:"value"`
	Seen   bool     `json:"seen,omitempty"`
}

// debconfQuestion is a question a package's templates define.
type debconfQuestion struct {
	name, typ, def string
}

// debconfTypes are the question types debconf-set-selections accepts;
// "seen" sets only the flag.
var debconfTypes = []string{"select", "boolean", "string", "multiselect", "note", "password", "text", "title"}

// answer returns a question's value from the database, or def.
func (st *state) answer(question, def string) string {
	if a, ok := st.Debconf[question]; ok {
		return a.Value
	}
	return def
}

// configurePackage registers a package's questions (keeping answers given
// beforehand, as preseeding does) and runs its configure step on the
// answers, as its postinst would. Called inside update.
func configurePackage(v *vfs, st *state, pkg string, spec pkgSpec) {
	for _, q := range spec.questions {
		a, ok := st.Debconf[q.name]
		if !ok {
			a = &debconfAnswer{Type: q.typ, Value: q.def}
			st.Debconf[q.name] = a
		}
		if !slices.Contains(a.Owners, pkg) {
			a.Owners = append(a.Owners, pkg)
		}
	}
	if spec.configure != nil {
		spec.configure(v, func(q string) string {
			for _, d := range spec.questions {
				if d.name == q {
					return st.answer(q, d.def)
				}
			}
			return st.answer(q, "")
		})
	}
}

// debconfLine is debconf-set-selections' reading of one line: owner,
// question, type and the rest of the line as the value.
var debconfLine = regexp.MustCompile(`^\s*(\S+)\s+(\S+)\s+(\S+)(?:\s(.*))?`)

// cmdDebconfSetSelections reads "owner question type value" lines from the
// files named, or stdin, into the database, as debconf-set-selections
// does: comments and blank lines are skipped, a trailing backslash joins
// lines, an unknown type only warns, a line it cannot read is an error
// (exit 1), and every answer is marked seen unless -u.
func cmdDebconfSetSelections(p *proc) int {
	var verbose, checkOnly, unseen bool
	var files []string
	for _, a := range p.args[1:] {
		switch a {
		case "-v", "--verbose":
			verbose = true
		case "-c", "--checkonly":
			checkOnly = true
		case "-u", "--unseen":
			unseen = true
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				fmt.Fprintf(p.err, "Unknown option: %s\nUsage: debconf-set-selections [-vcu] [file]\n  -v, --verbose     verbose output\n  -c, --checkonly   only check the input file format\n  -u, --unseen      do not set the 'seen' flag when preseeding values\n", strings.TrimLeft(a, "-"))
				return 1
			}
			files = append(files, a)
		}
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	type setting struct{ owner, question, typ, value string }
	var sets []setting
	errors := 0
	for _, name := range files {
		f, err := p.open(name)
		if err != nil {
			// Perl's warn $!: reported, skipped, and not an error.
			fmt.Fprintf(p.err, "%s: %s\n", name, errText(err))
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			line := strings.TrimSuffix(sc.Text(), "\r")
			for strings.HasSuffix(line, `\`) && sc.Scan() {
				n++
				line = strings.TrimSuffix(line, `\`) + strings.TrimSuffix(sc.Text(), "\r")
			}
			if trimmed := strings.TrimSpace(line); trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			m := debconfLine.FindStringSubmatch(line)
			switch {
			case m == nil:
				fmt.Fprintf(p.err, "error: parse error on line %d: '%s'\n", n, line)
				errors++
			case m[3] != "seen" && !slices.Contains(debconfTypes, m[3]):
				fmt.Fprintf(p.err, "warning: Unknown type %s, skipping line %d\n", m[3], n)
			default:
				if verbose {
					fmt.Fprintf(p.err, "info: Trying to set '%s' [%s] to '%s'\n", m[2], m[3], m[4])
				}
				sets = append(sets, setting{m[1], m[2], m[3], m[4]})
			}
		}
		f.Close()
	}
	if !checkOnly && len(sets) > 0 {
		err := p.s.g.update(func(st *state) error {
			for _, s := range sets {
				a, ok := st.Debconf[s.question]
				if s.typ == "seen" {
					if ok {
						a.Seen = s.value == "true"
					} else {
						fmt.Fprintf(p.err, "error: Cannot find a question for %s\n", s.question)
						errors++
					}
					continue
				}
				if !ok {
					a = &debconfAnswer{}
					st.Debconf[s.question] = a
				}
				if !slices.Contains(a.Owners, s.owner) {
					a.Owners = append(a.Owners, s.owner)
				}
				a.Type, a.Value = s.typ, s.value
				if !unseen {
					a.Seen = true
				}
			}
			return nil
		})
		if err != nil {
			return p.fail("%v", err)
		}
	}
	if errors > 0 {
		return 1
	}
	return 0
}

// cmdDebconfShow lists the questions packages own, as debconf-show does:
// "* " marks a question already seen, passwords are not shown.
func cmdDebconfShow(p *proc) int {
	pkgs := parseFlags(p.args[1:], "--db").args
	if len(pkgs) == 0 {
		fmt.Fprintln(p.err, "Usage: debconf-show packagename [...] [--db=dbname]\n       debconf-show --listowners [--db=dbname]\n       debconf-show --listdbs")
		return 1
	}
	var lines []string
	p.s.g.view(func(st *state) {
		for q, a := range st.Debconf {
			if !slices.ContainsFunc(a.Owners, func(o string) bool { return slices.Contains(pkgs, o) }) {
				continue
			}
			mark, value := "  ", a.Value
			if a.Seen {
				mark = "* "
			}
			if a.Type == "password" {
				value = "(password omitted)"
			}
			lines = append(lines, mark+q+": "+value)
		}
	})
	sort.Slice(lines, func(i, j int) bool { return lines[i][2:] < lines[j][2:] })
	for _, l := range lines {
		fmt.Fprintln(p.out, l)
	}
	return 0
}

// cmdDpkgReconfigure configures installed packages again from the debconf
// database, as dpkg-reconfigure does with the noninteractive frontend: the
// stand-in never asks, whatever the frontend, and never needs a terminal.
func cmdDpkgReconfigure(p *proc) int {
	const self = "/usr/sbin/dpkg-reconfigure"
	f := parseFlags(p.args[1:], "-f", "--frontend", "-p", "--priority")
	if f.has("-h", "--help") {
		io.WriteString(p.out, "Usage: dpkg-reconfigure [options] packages\n  -u,  --unseen-only\t\tShow only not yet seen questions.\n       --default-priority\tUse default priority instead of low.\n       --force\t\t\tForce reconfiguration of broken packages.\n       --no-reload\t\tDo not reload templates. (Use with caution.)\n")
		return 0
	}
	pkgs := f.args
	if f.has("-a", "--all") {
		p.s.g.view(func(st *state) { pkgs = slices.Clone(st.Packages["apt"]) })
	}
	if len(pkgs) == 0 {
		fmt.Fprintln(p.err, self+": please specify a package to reconfigure")
		return 1
	}
	for _, pkg := range pkgs {
		if _, _, ok := p.dpkgInfo(pkg); !ok && !f.has("--force") {
			fmt.Fprintf(p.err, "%s: %s is not installed\n", self, pkg)
			return 1
		}
	}
	err := p.s.g.update(func(st *state) error {
		for _, pkg := range pkgs {
			spec, ok := aptPackage(pkg)
			if !ok {
				spec, _ = basePackage(pkg)
			}
			configurePackage(p.s.fs, st, pkg, spec)
		}
		return nil
	})
	if err != nil {
		return p.fail("%v", err)
	}
	return 0
}
