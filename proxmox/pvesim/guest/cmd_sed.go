package guest

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// sedCmd is one command of a sed script. Supported: s///[gip N], d, p, q,
// and GNU one-line a/i/c, each with an optional address (N, $, /re/).
type sedCmd struct {
	addr   string // "", a line number, "$", or a regexp in addrRE
	addrRE *regexp.Regexp
	op     byte
	re     *regexp.Regexp
	repl   string
	global bool
	nth    int
	print  bool
	text   string
}

func cmdSed(p *proc) int {
	args := p.args[1:]
	var scripts []string
	inPlace, quiet, extended := false, false, false
	var ops []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-e" && i+1 < len(args):
			i++
			scripts = append(scripts, args[i])
		case a == "-n" || a == "--quiet":
			quiet = true
		case a == "-E" || a == "-r" || a == "--regexp-extended":
			extended = true
		case strings.HasPrefix(a, "-i") || strings.HasPrefix(a, "--in-place"):
			inPlace = true
		case a == "--":
			ops = append(ops, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, c := range a[1:] {
				switch c {
				case 'n':
					quiet = true
				case 'E', 'r':
					extended = true
				case 'i':
					inPlace = true
				}
			}
		default:
			ops = append(ops, a)
		}
	}
	if len(scripts) == 0 {
		if len(ops) == 0 {
			fmt.Fprintln(p.err, "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...")
			return 1
		}
		scripts, ops = ops[:1], ops[1:]
	}
	cmds, err := parseSed(strings.Join(scripts, "\n"), extended)
	if err != nil {
		return p.fail("-e expression #1: %v", err)
	}
	if !inPlace {
		lines, code := p.readLines(ops)
		p.writeLines(runSed(cmds, lines, quiet))
		return code
	}
	if len(ops) == 0 {
		return p.fail("no input files")
	}
	for _, a := range ops {
		vp := p.path(a)
		b, err := p.s.fs.ReadFile(vp)
		if err != nil {
			return p.fail("can't read %s: %s", a, errText(err))
		}
		text := string(b)
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if text == "" {
			lines = nil
		}
		out := runSed(cmds, lines, quiet)
		res := strings.Join(out, "\n")
		if len(out) > 0 {
			res += "\n"
		}
		fi, _ := p.s.fs.Stat(vp)
		mode := os.FileMode(0o644)
		if fi != nil {
			mode = fi.Mode().Perm()
		}
		if err := p.s.fs.WriteFile(vp, []byte(res), mode); err != nil {
			return p.fail("couldn't edit %s: %s", a, errText(err))
		}
	}
	return 0
}

func parseSed(script string, extended bool) ([]sedCmd, error) {
	var cmds []sedCmd
	s := script
	compile := func(re string) (*regexp.Regexp, error) { return compileRE(re, extended, false, false) }
	for {
		s = strings.TrimLeft(s, " \t\n;")
		if s == "" {
			return cmds, nil
		}
		var c sedCmd
		switch {
		case s[0] == '$':
			c.addr, s = "$", s[1:]
		case s[0] >= '0' && s[0] <= '9':
			i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
			if i < 0 {
				i = len(s)
			}
			c.addr, s = s[:i], s[i:]
		case s[0] == '/':
			end := delimEnd(s, 1, '/')
			if end < 0 {
				return nil, fmt.Errorf("unterminated address regex")
			}
			re, err := compile(s[1:end])
			if err != nil {
				return nil, err
			}
			c.addr, c.addrRE, s = "re", re, s[end+1:]
		}
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return nil, fmt.Errorf("missing command")
		}
		c.op, s = s[0], s[1:]
		switch c.op {
		case 'd', 'p', 'q':
		case 'a', 'i', 'c':
			line, rest, _ := strings.Cut(s, "\n")
			line = strings.TrimPrefix(strings.TrimLeft(line, " "), "\\")
			c.text, s = strings.TrimLeft(line, " "), rest
		case 's':
			if s == "" {
				return nil, fmt.Errorf("unterminated `s' command")
			}
			d := s[0]
			mid := delimEnd(s, 1, d)
			if mid < 0 {
				return nil, fmt.Errorf("unterminated `s' command")
			}
			end := delimEnd(s, mid+1, d)
			if end < 0 {
				return nil, fmt.Errorf("unterminated `s' command")
			}
			pat, repl := s[1:mid], s[mid+1:end]
			s = s[end+1:]
			icase := false
			for s != "" && strings.IndexByte("gipI0123456789", s[0]) >= 0 {
				switch f := s[0]; {
				case f == 'g':
					c.global = true
				case f == 'p':
					c.print = true
				case f == 'i' || f == 'I':
					icase = true
				default:
					c.nth = c.nth*10 + int(f-'0')
				}
				s = s[1:]
			}
			if d != '/' {
				pat = strings.ReplaceAll(pat, `\`+string(d), string(d))
				repl = strings.ReplaceAll(repl, `\`+string(d), string(d))
			}
			re, err := compileRE(pat, extended, false, icase)
			if err != nil {
				return nil, err
			}
			c.re, c.repl = re, sedRepl(repl)
		default:
			return nil, fmt.Errorf("unknown command: `%c'", c.op)
		}
		cmds = append(cmds, c)
	}
}

// delimEnd finds the next unescaped delimiter d in s from index i.
func delimEnd(s string, i int, d byte) int {
	for ; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == d {
			return i
		}
	}
	return -1
}

// sedRepl turns a sed replacement (& and \1) into Go's template syntax.
func sedRepl(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		switch c := r[i]; {
		case c == '\\' && i+1 < len(r):
			i++
			switch n := r[i]; {
			case n >= '0' && n <= '9':
				b.WriteString("${" + string(n) + "}")
			case n == 'n':
				b.WriteByte('\n')
			case n == 't':
				b.WriteByte('\t')
			case n == '$':
				b.WriteString("$$")
			default:
				b.WriteByte(n)
			}
		case c == '&':
			b.WriteString("${0}")
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func runSed(cmds []sedCmd, lines []string, quiet bool) []string {
	var out []string
	for n, line := range lines {
		last := n == len(lines)-1
		deleted, quit := false, false
		var after []string
		for _, c := range cmds {
			if !sedMatch(c, line, n+1, last) {
				continue
			}
			switch c.op {
			case 'd':
				deleted = true
			case 'p':
				out = append(out, line)
			case 'q':
				quit = true
			case 'a':
				after = append(after, c.text)
			case 'i':
				out = append(out, c.text)
			case 'c':
				out = append(out, c.text)
				deleted = true
			case 's':
				var done bool
				line, done = sedSubst(c, line)
				if done && c.print {
					out = append(out, line)
				}
			}
			if deleted || quit {
				break
			}
		}
		if !deleted && !quiet {
			out = append(out, line)
		}
		out = append(out, after...)
		if quit {
			break
		}
	}
	return out
}

func sedMatch(c sedCmd, line string, n int, last bool) bool {
	switch c.addr {
	case "":
		return true
	case "$":
		return last
	case "re":
		return c.addrRE.MatchString(line)
	}
	want, _ := strconv.Atoi(c.addr)
	return want == n
}

func sedSubst(c sedCmd, line string) (string, bool) {
	matches := c.re.FindAllStringSubmatchIndex(line, -1)
	if len(matches) == 0 {
		return line, false
	}
	var b strings.Builder
	prev, done := 0, false
	for i, m := range matches {
		hit := c.global && (c.nth == 0 || i+1 >= c.nth) || !c.global && (c.nth == 0 && i == 0 || i+1 == c.nth)
		if !hit {
			continue
		}
		b.WriteString(line[prev:m[0]])
		b.Write(c.re.ExpandString(nil, c.repl, line, m))
		prev, done = m[1], true
	}
	b.WriteString(line[prev:])
	return b.String(), done
}
