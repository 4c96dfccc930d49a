package tmplfs

import (
	"errors"
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// SyntaxError reports a template.conf line that is not a simple assignment.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("template.conf line %d: %s", e.Line, e.Msg)
}

// ParseConf reads template.conf the way bash would source these lines,
// without running anything. mvdan.cc/sh parses the file and only plain
// assignments are taken from the tree: NAME=value (optionally after
// "export"), one per line or separated by ';' or blanks. Values may mix
// unquoted, 'single' and "double" quoted text; $NAME, ${NAME},
// ${NAME:-default} and ${NAME-default} expand from earlier assignments in
// the same file only (the environment is never read). Command substitutions
// ($(...), `...`) and $((...)) are never run: they stay in the value as
// their source text. Everything else is refused with a *SyntaxError.
func ParseConf(src string) (map[string]string, error) {
	c := &conf{src: src, vars: map[string]string{}}
	// Statements come one at a time, so the first problem in the file is
	// the one reported, whether the parser or the walk finds it. The loop
	// never breaks: StmtsSeq (mvdan.cc/sh v3.14.1) may yield once more
	// after its consumer stopped, which panics.
	var first error
	for st, err := range syntax.NewParser(syntax.Variant(syntax.LangBash)).StmtsSeq(strings.NewReader(src)) {
		if first == nil && err != nil {
			first = parseError(err)
		}
		if first == nil {
			first = c.stmt(st)
		}
	}
	if first != nil {
		return nil, first
	}
	return c.vars, nil
}

func parseError(err error) error {
	var pe syntax.ParseError
	var le syntax.LangError
	switch {
	case errors.As(err, &pe):
		return &SyntaxError{Line: lineOf(pe.Pos), Msg: pe.Text}
	case errors.As(err, &le):
		return &SyntaxError{Line: lineOf(le.Pos), Msg: le.Feature + " is not allowed"}
	}
	return &SyntaxError{Line: 1, Msg: err.Error()}
}

type conf struct {
	src  string
	vars map[string]string
}

func lineOf(p syntax.Pos) int { return max(int(p.Line()), 1) }

func refuse(n syntax.Node, format string, args ...any) error {
	return &SyntaxError{Line: lineOf(n.Pos()), Msg: fmt.Sprintf(format, args...)}
}

// notAssignment refuses a statement, quoting the line it starts on.
func (c *conf) notAssignment(at syntax.Node) error {
	line := lineOf(at.Pos())
	text := ""
	if lines := strings.Split(c.src, "\n"); line <= len(lines) {
		text = strings.TrimSpace(lines[line-1])
	}
	return refuse(at, "only NAME=value assignments are allowed, not %q (quote values that contain spaces)", text)
}

// text is n as written in the file.
func (c *conf) text(n syntax.Node) string {
	end := min(int(n.End().Offset()), len(c.src))
	return c.src[min(int(n.Pos().Offset()), end):end]
}

// stmt applies one statement: assignments, or "export" followed by them.
func (c *conf) stmt(st *syntax.Stmt) error {
	var assigns []*syntax.Assign
	switch cmd := st.Cmd.(type) {
	case *syntax.CallExpr:
		if len(cmd.Args) > 0 {
			return c.notAssignment(cmd.Args[0])
		}
		assigns = cmd.Assigns
	case *syntax.DeclClause:
		if cmd.Variant.Value == "export" {
			assigns = cmd.Args
		}
	}
	if len(assigns) == 0 || st.Negated || st.Background || st.Coprocess || st.Disown || len(st.Redirs) > 0 {
		return c.notAssignment(st)
	}
	for _, a := range assigns {
		// ValidName too: the parser takes a word like 0=[ for an assignment.
		if a.Name == nil || !syntax.ValidName(a.Name.Value) || a.Naked || a.Append || a.Index != nil || a.Array != nil {
			return c.notAssignment(a)
		}
		var b strings.Builder
		if a.Value != nil {
			if err := c.parts(&b, a.Value.Parts, false); err != nil {
				return err
			}
		}
		c.vars[a.Name.Value] = b.String() // later assignments on the line see it
	}
	return nil
}

// parts writes the value of word parts; inDouble says they sit inside "...".
func (c *conf) parts(b *strings.Builder, parts []syntax.WordPart, inDouble bool) error {
	for _, part := range parts {
		switch p := part.(type) {
		case *syntax.Lit:
			b.WriteString(unescape(p.Value, inDouble))
		case *syntax.SglQuoted:
			if p.Dollar {
				return refuse(p, "$'...' quoting is not allowed")
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return refuse(p, `$"..." quoting is not allowed`)
			}
			if err := c.parts(b, p.Parts, true); err != nil {
				return err
			}
		case *syntax.ParamExp:
			if err := c.param(b, p); err != nil {
				return err
			}
		case *syntax.CmdSubst, *syntax.ArithmExp:
			// Kept as written, never run; NUL bytes are dropped as everywhere else.
			b.WriteString(strings.ReplaceAll(c.text(p), "\x00", ""))
		default:
			return refuse(p, "unexpected %s: quote the value", c.text(p))
		}
	}
	return nil
}

// param expands $NAME, ${NAME}, ${NAME:-default} and ${NAME-default} from
// earlier assignments. $0, $1, $@ and the like would come from whoever
// sources the file, so they stay as written, like command substitutions.
func (c *conf) param(b *strings.Builder, p *syntax.ParamExp) error {
	if p.Short && p.Param != nil && !syntax.ValidName(p.Param.Value) {
		b.WriteString("$" + p.Param.Value)
		return nil
	}
	if p.Param == nil || !syntax.ValidName(p.Param.Value) || p.Excl || p.Length || p.Width || p.IsSet ||
		p.Flags != nil || p.NestedParam != nil || p.Index != nil || len(p.Modifiers) > 0 || p.Slice != nil ||
		p.Repl != nil || p.Names != 0 || p.Split|p.GlobSubst|p.RcExpand != syntax.OptUnset {
		return refuse(p, "only $NAME, ${NAME}, ${NAME:-default} and ${NAME-default} are supported")
	}
	name := p.Param.Value
	val, set := c.vars[name]
	useDefault := false
	switch {
	case p.Exp == nil:
	case p.Exp.Op == syntax.DefaultUnset:
		useDefault = !set
	case p.Exp.Op == syntax.DefaultUnsetOrNull:
		useDefault = val == ""
	default:
		return refuse(p, "only ${%s:-default} and ${%s-default} are supported", name, name)
	}
	if !useDefault {
		b.WriteString(val)
		return nil
	}
	if p.Exp.Word == nil { // ${NAME:-}
		return nil
	}
	// The default is read as an unquoted word even inside "...", as the
	// parser hands it over and as this reader always did: "${X:-'a b'}"
	// gives a b, where bash would keep the quotes.
	return c.parts(b, p.Exp.Word.Parts, false)
}

// unescape removes the backslashes the shell would: before any character
// outside quotes, before $ ` " \ inside double quotes. The parser has
// already dropped escaped newlines.
func unescape(s string, inDouble bool) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (!inDouble || strings.IndexByte("$`\"\\", s[i+1]) >= 0) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
