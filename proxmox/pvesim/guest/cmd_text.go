package guest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// numericShorthand turns "head -5" into "head -n 5".
func numericShorthand(args []string) []string {
	out := make([]string, 0, len(args)+1)
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' {
			out = append(out, "-n", a[1:])
			continue
		}
		out = append(out, a)
	}
	return out
}

// readLines reads all lines of the inputs, without their newlines.
func (p *proc) readLines(ops []string) ([]string, int) {
	var lines []string
	code := p.readInputs(ops, func(_ string, r io.Reader) error {
		sc := bufio.NewScanner(ctxReader{p, r})
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		return sc.Err()
	})
	return lines, code
}

func (p *proc) writeLines(lines []string) {
	w := bufio.NewWriter(p.out)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	w.Flush()
}

func cmdHead(p *proc) int {
	f := parseFlags(numericShorthand(p.args[1:]), "-n", "-c", "--lines", "--bytes")
	if c, ok := f.get("-c", "--bytes"); ok {
		n, _ := strconv.Atoi(c)
		return p.readInputs(f.args, func(_ string, r io.Reader) error {
			_, err := io.CopyN(p.out, r, int64(n))
			if err == io.EOF {
				return nil
			}
			return err
		})
	}
	n := 10
	if v, ok := f.get("-n", "--lines"); ok {
		n, _ = strconv.Atoi(v)
	}
	return p.readInputs(f.args, func(_ string, r io.Reader) error {
		br := bufio.NewReader(ctxReader{p, r})
		for i := 0; i < n; i++ {
			line, err := br.ReadString('\n')
			if _, werr := io.WriteString(p.out, line); werr != nil {
				return werr
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func cmdTail(p *proc) int {
	f := parseFlags(numericShorthand(p.args[1:]), "-n", "-c", "--lines", "--bytes")
	spec, _ := f.get("-n", "--lines")
	if spec == "" {
		spec = "10"
	}
	lines, code := p.readLines(f.args)
	if from, ok := strings.CutPrefix(spec, "+"); ok {
		n, _ := strconv.Atoi(from)
		if n < 1 {
			n = 1
		}
		if n-1 < len(lines) {
			p.writeLines(lines[n-1:])
		}
		return code
	}
	n, _ := strconv.Atoi(spec)
	if n < len(lines) {
		lines = lines[len(lines)-n:]
	}
	p.writeLines(lines)
	return code
}

// breToRE translates a POSIX basic regular expression to Go syntax: in a
// BRE, \( \) \{ \} \| \+ \? are operators and the bare characters literal.
func breToRE(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			n := s[i+1]
			i++
			if strings.IndexByte("(){}|+?", n) >= 0 {
				b.WriteByte(n)
			} else {
				b.WriteByte('\\')
				b.WriteByte(n)
			}
			continue
		}
		if strings.IndexByte("(){}|+?", c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

func compileRE(pattern string, extended, fixed, icase bool) (*regexp.Regexp, error) {
	switch {
	case fixed:
		pattern = regexp.QuoteMeta(pattern)
	case !extended:
		pattern = breToRE(pattern)
	}
	if icase {
		pattern = "(?i)" + pattern
	}
	return regexp.Compile(pattern)
}

func cmdGrep(p *proc) int {
	args := p.args[1:]
	var patterns []string
	f := parseFlags(args, "-e", "-m", "--regexp", "-A", "-B", "-C")
	if v, ok := f.get("-e", "--regexp"); ok {
		patterns = append(patterns, v)
	} else if len(f.args) > 0 {
		patterns, f.args = []string{f.args[0]}, f.args[1:]
	} else {
		fmt.Fprintln(p.err, "Usage: grep [OPTION]... PATTERNS [FILE]...")
		return 2
	}
	extended := f.has("-E", "--extended-regexp") || p.name() == "egrep"
	fixed := f.has("-F", "--fixed-strings") || p.name() == "fgrep"
	var res []*regexp.Regexp
	for _, pat := range patterns {
		for _, one := range strings.Split(pat, "\n") {
			if f.has("-w") {
				one = `\b` + one + `\b`
			}
			if f.has("-x") {
				one = "^(?:" + one + ")$"
			}
			re, err := compileRE(one, extended || f.has("-w", "-x"), fixed && !f.has("-w", "-x"), f.has("-i", "--ignore-case"))
			if err != nil {
				p.errorf("invalid regular expression: %v", err)
				return 2
			}
			res = append(res, re)
		}
	}
	invert, quiet, count := f.has("-v", "--invert-match"), f.has("-q", "--quiet", "--silent"), f.has("-c", "--count")
	multi := len(f.args) > 1
	matched := false
	code := p.readInputs(f.args, func(name string, r io.Reader) error {
		sc := bufio.NewScanner(ctxReader{p, r})
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		n, lineNo := 0, 0
		for sc.Scan() {
			lineNo++
			line := sc.Text()
			hit := slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(line) })
			if hit == invert {
				continue
			}
			matched = true
			n++
			if quiet {
				return nil
			}
			if count || f.has("-l") {
				continue
			}
			prefix := ""
			if multi {
				prefix = name + ":"
			}
			if f.has("-n") {
				prefix += strconv.Itoa(lineNo) + ":"
			}
			if f.has("-o") && !invert {
				for _, re := range res {
					for _, m := range re.FindAllString(line, -1) {
						fmt.Fprintln(p.out, prefix+m)
					}
				}
				continue
			}
			fmt.Fprintln(p.out, prefix+line)
		}
		if count && !quiet {
			if multi {
				fmt.Fprintf(p.out, "%s:%d\n", name, n)
			} else {
				fmt.Fprintln(p.out, n)
			}
		}
		if f.has("-l") && n > 0 && !quiet {
			fmt.Fprintln(p.out, name)
		}
		return sc.Err()
	})
	switch {
	case code != 0 && !f.has("-s"):
		return 2
	case matched:
		return 0
	}
	return 1
}

func cmdWc(p *proc) int {
	f := parseFlags(p.args[1:])
	showL, showW, showC := f.has("-l", "--lines"), f.has("-w", "--words"), f.has("-c", "-m", "--bytes", "--chars")
	if !showL && !showW && !showC {
		showL, showW, showC = true, true, true
	}
	shown := 0
	for _, b := range []bool{showL, showW, showC} {
		if b {
			shown++
		}
	}
	var total [3]int
	inputs := 0
	code := p.readInputs(f.args, func(name string, r io.Reader) error {
		b, err := io.ReadAll(ctxReader{p, r})
		if err != nil {
			return err
		}
		inputs++
		c := [3]int{bytes.Count(b, []byte("\n")), len(bytes.Fields(b)), len(b)}
		for i := range c {
			total[i] += c[i]
		}
		p.wcLine(c, showL, showW, showC, shown == 1 && len(f.args) <= 1, name, len(f.args) > 0)
		return nil
	})
	if inputs > 1 {
		p.wcLine(total, showL, showW, showC, false, "total", true)
	}
	return code
}

func (p *proc) wcLine(c [3]int, l, w, ch, bare bool, name string, named bool) {
	var parts []string
	for i, show := range []bool{l, w, ch} {
		if !show {
			continue
		}
		if bare {
			parts = append(parts, strconv.Itoa(c[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%7d", c[i]))
		}
	}
	line := strings.Join(parts, " ")
	if named {
		line += " " + name
	}
	fmt.Fprintln(p.out, line)
}

func cmdSort(p *proc) int {
	f := parseFlags(p.args[1:], "-k", "-t", "--key", "--field-separator")
	lines, code := p.readLines(f.args)
	key := func(s string) string { return s }
	if k, ok := f.get("-k", "--key"); ok {
		field, _ := strconv.Atoi(strings.SplitN(strings.SplitN(k, ",", 2)[0], ".", 2)[0])
		sep, hasSep := f.get("-t", "--field-separator")
		key = func(s string) string {
			var fields []string
			if hasSep {
				fields = strings.Split(s, sep)
			} else {
				fields = strings.Fields(s)
			}
			if field < 1 || field > len(fields) {
				return ""
			}
			return strings.Join(fields[field-1:], " ")
		}
	}
	numeric := f.has("-n", "--numeric-sort", "-h", "-V")
	slices.SortStableFunc(lines, func(a, b string) int {
		ka, kb := key(a), key(b)
		if numeric {
			na, _ := strconv.ParseFloat(strings.Fields(ka + " 0")[0], 64)
			nb, _ := strconv.ParseFloat(strings.Fields(kb + " 0")[0], 64)
			switch {
			case na < nb:
				return -1
			case na > nb:
				return 1
			}
			return 0
		}
		return strings.Compare(ka, kb)
	})
	if f.has("-r", "--reverse") {
		slices.Reverse(lines)
	}
	if f.has("-u", "--unique") {
		lines = slices.Compact(lines)
	}
	p.writeLines(lines)
	return code
}

func cmdUniq(p *proc) int {
	f := parseFlags(p.args[1:])
	lines, code := p.readLines(f.args)
	var out []string
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && lines[j] == lines[i] {
			j++
		}
		n := j - i
		switch {
		case f.has("-d") && n < 2, f.has("-u") && n > 1:
		case f.has("-c"):
			out = append(out, fmt.Sprintf("%7d %s", n, lines[i]))
		default:
			out = append(out, lines[i])
		}
		i = j
	}
	p.writeLines(out)
	return code
}

// parseList parses a cut list ("1,3-5,7-") into a membership test.
func parseList(spec string) func(int) bool {
	type rng struct{ lo, hi int }
	var rs []rng
	for _, part := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b, _ := strconv.Atoi(hi)
		switch {
		case !isRange:
			b = a
		case lo == "":
			a = 1
		case hi == "":
			b = 1 << 30
		}
		rs = append(rs, rng{a, b})
	}
	return func(i int) bool {
		return slices.ContainsFunc(rs, func(r rng) bool { return i >= r.lo && i <= r.hi })
	}
}

func cmdCut(p *proc) int {
	f := parseFlags(p.args[1:], "-d", "-f", "-c", "--delimiter", "--fields")
	lines, code := p.readLines(f.args)
	delim, ok := f.get("-d", "--delimiter")
	if !ok {
		delim = "\t"
	}
	var out []string
	if c, ok := f.get("-c"); ok {
		in := parseList(c)
		for _, l := range lines {
			var b strings.Builder
			for i, r := range []rune(l) {
				if in(i + 1) {
					b.WriteRune(r)
				}
			}
			out = append(out, b.String())
		}
		p.writeLines(out)
		return code
	}
	spec, ok := f.get("-f", "--fields")
	if !ok {
		return p.fail("you must specify a list of bytes, characters, or fields")
	}
	in := parseList(spec)
	for _, l := range lines {
		if !strings.Contains(l, delim) {
			if !f.has("-s") {
				out = append(out, l)
			}
			continue
		}
		var kept []string
		for i, field := range strings.Split(l, delim) {
			if in(i + 1) {
				kept = append(kept, field)
			}
		}
		out = append(out, strings.Join(kept, delim))
	}
	p.writeLines(out)
	return code
}

// trSet expands a tr set: ranges, [:classes:] and backslash escapes.
func trSet(s string) []byte {
	classes := map[string]string{
		"[:alnum:]": "a-zA-Z0-9", "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9",
		"[:lower:]": "a-z", "[:upper:]": "A-Z", "[:space:]": " \t\n\r\v\f",
		"[:punct:]": "!-/:-@[-`{-~", "[:xdigit:]": "0-9a-fA-F", "[:blank:]": " \t",
	}
	for k, v := range classes {
		s = strings.ReplaceAll(s, k, v)
	}
	s = strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\r`, "\r", `\\`, `\`).Replace(s)
	var out []byte
	for i := 0; i < len(s); i++ {
		if i+2 < len(s) && s[i+1] == '-' {
			for c := int(s[i]); c <= int(s[i+2]); c++ {
				out = append(out, byte(c))
			}
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func cmdTr(p *proc) int {
	f := parseFlags(p.args[1:])
	if len(f.args) < 1 {
		return p.fail("missing operand")
	}
	var in [256]bool
	for _, c := range trSet(f.args[0]) {
		in[c] = true
	}
	if f.has("-c", "-C") {
		for i := range in {
			in[i] = !in[i]
		}
	}
	var to []byte
	if len(f.args) > 1 {
		to = trSet(f.args[1])
	}
	from := trSet(f.args[0])
	mapping := [256]int{}
	for i := range mapping {
		mapping[i] = i
	}
	if len(to) > 0 && !f.has("-d") {
		for i, c := range from {
			mapping[c] = int(to[min(i, len(to)-1)])
		}
	}
	del, squeeze := f.has("-d"), f.has("-s")
	buf := make([]byte, 32*1024)
	var last = -1
	r := ctxReader{p, p.in}
	for {
		n, err := r.Read(buf)
		out := make([]byte, 0, n)
		for _, c := range buf[:n] {
			if del && in[c] {
				continue
			}
			m := mapping[c]
			if squeeze && m == last && (in[c] || len(to) > 0 && bytes.IndexByte(to, byte(m)) >= 0) {
				continue
			}
			last = m
			out = append(out, byte(m))
		}
		if _, werr := p.out.Write(out); werr != nil {
			return 1
		}
		if err == io.EOF {
			return 0
		}
		if err != nil {
			return 1
		}
	}
}

func cmdBasename(p *proc) int {
	f := parseFlags(p.args[1:], "-s", "--suffix")
	if len(f.args) == 0 {
		return p.fail("missing operand")
	}
	suffix, _ := f.get("-s", "--suffix")
	names := f.args
	if !f.has("-a", "-s", "--suffix") && len(f.args) > 1 {
		names, suffix = f.args[:1], f.args[1]
	}
	for _, n := range names {
		b := baseName(n)
		if suffix != "" && b != suffix {
			b = strings.TrimSuffix(b, suffix)
		}
		fmt.Fprintln(p.out, b)
	}
	return 0
}

func cmdDirname(p *proc) int {
	if len(p.args) < 2 {
		return p.fail("missing operand")
	}
	for _, n := range p.args[1:] {
		d := dirName(n)
		if !strings.Contains(strings.TrimRight(n, "/"), "/") {
			d = "."
		}
		fmt.Fprintln(p.out, d)
	}
	return 0
}

func cmdBase64(p *proc) int {
	f := parseFlags(p.args[1:], "-w", "--wrap")
	var data []byte
	code := p.readInputs(f.args, func(_ string, r io.Reader) error {
		b, err := io.ReadAll(ctxReader{p, r})
		data = append(data, b...)
		return err
	})
	if code != 0 {
		return code
	}
	if f.has("-d", "--decode") {
		clean := strings.Join(strings.Fields(string(data)), "")
		out, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return p.fail("invalid input")
		}
		p.out.Write(out)
		return 0
	}
	enc := base64.StdEncoding.EncodeToString(data)
	wrap := 76
	if w, ok := f.get("-w", "--wrap"); ok {
		wrap, _ = strconv.Atoi(w)
	}
	for wrap > 0 && len(enc) > wrap {
		fmt.Fprintln(p.out, enc[:wrap])
		enc = enc[wrap:]
	}
	fmt.Fprintln(p.out, enc)
	return 0
}

func cmdSha256sum(p *proc) int {
	f := parseFlags(p.args[1:])
	return p.readInputs(f.args, func(name string, r io.Reader) error {
		h := sha256.New()
		if _, err := io.Copy(h, ctxReader{p, r}); err != nil {
			return err
		}
		fmt.Fprintf(p.out, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), name)
		return nil
	})
}

func cmdEcho(p *proc) int {
	args := p.args[1:]
	newline := true
	if len(args) > 0 && args[0] == "-n" {
		newline, args = false, args[1:]
	}
	fmt.Fprint(p.out, strings.Join(args, " "))
	if newline {
		fmt.Fprintln(p.out)
	}
	return 0
}

// cmdXargs supports -n N, -I REPL, -0 and -r with whitespace-separated
// items (no quote processing).
func cmdXargs(p *proc) int {
	args := p.args[1:]
	per, repl, nul := 0, "", false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch a := args[0]; {
		case a == "-n" && len(args) > 1:
			per, _ = strconv.Atoi(args[1])
			args = args[1:]
		case a == "-I" && len(args) > 1:
			repl = args[1]
			args = args[1:]
		case a == "-0":
			nul = true
		case strings.HasPrefix(a, "-I"):
			repl = a[2:]
		case strings.HasPrefix(a, "-n"):
			per, _ = strconv.Atoi(a[2:])
		}
		args = args[1:]
	}
	if len(args) == 0 {
		args = []string{"echo"}
	}
	data, err := io.ReadAll(ctxReader{p, p.in})
	if err != nil {
		return 1
	}
	var items []string
	if nul {
		items = strings.FieldsFunc(string(data), func(r rune) bool { return r == 0 })
	} else if repl != "" {
		items = strings.FieldsFunc(string(data), func(r rune) bool { return r == '\n' })
	} else {
		items = strings.Fields(string(data))
	}
	var batches [][]string
	switch {
	case repl != "":
		for _, it := range items {
			cmd := make([]string, len(args))
			for i, a := range args {
				cmd[i] = strings.ReplaceAll(a, repl, it)
			}
			batches = append(batches, cmd)
		}
	case per > 0:
		for i := 0; i < len(items); i += per {
			batches = append(batches, append(slices.Clone(args), items[i:min(i+per, len(items))]...))
		}
	case len(items) > 0 || !p.hasFlagR():
		batches = append(batches, append(slices.Clone(args), items...))
	}
	code := 0
	for _, cmd := range batches {
		child := *p
		child.args = cmd
		child.in = strings.NewReader("")
		c, err := p.s.run(&child)
		if err != nil || p.ctx.Err() != nil {
			return 125
		}
		if c != 0 {
			code = 123
		}
	}
	return code
}

func (p *proc) hasFlagR() bool {
	return slices.Contains(p.args[1:], "-r") || slices.Contains(p.args[1:], "--no-run-if-empty")
}
