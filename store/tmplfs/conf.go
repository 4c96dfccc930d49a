package tmplfs

import (
	"fmt"
	"strings"
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
// without running anything: KEY=VALUE assignments (optionally after
// "export"), one per line or separated by ';'. Values may be unquoted,
// 'single' or "double" quoted (also mixed within one word); $VAR, ${VAR},
// ${VAR:-default} and ${VAR-default} expand from earlier assignments in the
// same file only (the environment is never read); a '#' that starts a word
// begins a comment, so `A="1"  # note` gives A=1. Command substitutions
// ($(...) and `...`) are never run: they stay in the value as literal text.
// Other expansions are refused with a *SyntaxError rather than guessed at.
func ParseConf(src string) (map[string]string, error) {
	p := &confParser{src: src, line: 1, vars: map[string]string{}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.vars, nil
}

type confParser struct {
	src  string
	pos  int
	line int
	vars map[string]string
}

func (p *confParser) errorf(format string, args ...any) error {
	return p.errorAt(p.line, format, args...)
}

// errorAt reports an error on line, for constructs that span lines.
func (p *confParser) errorAt(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *confParser) eof() bool  { return p.pos >= len(p.src) }
func (p *confParser) peek() byte { return p.src[p.pos] }

// next consumes one byte, counting lines.
func (p *confParser) next() byte {
	c := p.src[p.pos]
	p.pos++
	if c == '\n' {
		p.line++
	}
	return c
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

func (p *confParser) skipBlanks() {
	for !p.eof() && isBlank(p.peek()) {
		p.pos++
	}
}

// skipComment consumes a comment up to (not including) the newline.
func (p *confParser) skipComment() {
	for !p.eof() && p.peek() != '\n' {
		p.pos++
	}
}

func (p *confParser) parse() error {
	for {
		p.skipBlanks()
		if p.eof() {
			return nil
		}
		switch p.peek() {
		case '\n', ';':
			p.next()
			continue
		case '#':
			p.skipComment()
			continue
		}
		if err := p.statement(); err != nil {
			return err
		}
		// Several assignments may share a line (A=1 B=2), as in bash; the
		// loop above handles what follows: separator, comment or statement.
	}
}

// statement reads [export] NAME=WORD.
func (p *confParser) statement() error {
	name := p.name()
	if name == "export" && !p.eof() && isBlank(p.peek()) {
		p.skipBlanks()
		name = p.name()
	}
	if name == "" {
		return p.errorf("expected NAME=value (quote values that contain spaces)")
	}
	if p.eof() || p.peek() != '=' {
		return p.errorf("expected = after %s: only NAME=value assignments are allowed (quote values that contain spaces)", name)
	}
	p.pos++
	val, err := p.word(false)
	if err != nil {
		return err
	}
	p.vars[name] = val
	return nil
}

func (p *confParser) name() string {
	start := p.pos
	if p.eof() || !isNameStart(p.peek()) {
		return ""
	}
	for !p.eof() && isNameChar(p.peek()) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// word reads one shell word. Inside ${VAR:-...} (inBrace) blanks are part of
// the word and an unquoted '}' ends it.
func (p *confParser) word(inBrace bool) (string, error) {
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		switch {
		case inBrace && c == '}':
			return b.String(), nil
		case !inBrace && (isBlank(c) || c == '\n' || c == ';'):
			return b.String(), nil
		case c == '\'':
			p.next()
			end := strings.IndexByte(p.src[p.pos:], '\'')
			if end < 0 {
				return "", p.errorf("unterminated single quote")
			}
			for range end {
				b.WriteByte(p.next())
			}
			p.next()
		case c == '"':
			p.next()
			if err := p.doubleQuoted(&b); err != nil {
				return "", err
			}
		case c == '\\':
			p.next()
			if p.eof() {
				b.WriteByte('\\')
				continue
			}
			if e := p.next(); e != '\n' { // backslash-newline continues the line
				b.WriteByte(e)
			}
		case c == '$':
			if err := p.dollar(&b); err != nil {
				return "", err
			}
		case c == '`':
			if err := p.backticks(&b); err != nil {
				return "", err
			}
		case !inBrace && (c == '(' || c == ')' || c == '|' || c == '&' || c == '<' || c == '>'):
			return "", p.errorf("unexpected %q: quote the value", c)
		default:
			b.WriteByte(p.next())
		}
	}
	if inBrace {
		return "", p.errorf("missing } in ${...}")
	}
	return b.String(), nil
}

// doubleQuoted reads up to the closing quote; the opening one is consumed.
func (p *confParser) doubleQuoted(b *strings.Builder) error {
	start := p.line
	for !p.eof() {
		c := p.peek()
		switch c {
		case '"':
			p.next()
			return nil
		case '\\':
			p.next()
			if p.eof() {
				return p.errorAt(start, "unterminated double quote")
			}
			switch e := p.next(); e {
			case '$', '`', '"', '\\':
				b.WriteByte(e)
			case '\n':
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		case '$':
			if err := p.dollar(b); err != nil {
				return err
			}
		case '`':
			if err := p.backticks(b); err != nil {
				return err
			}
		default:
			b.WriteByte(p.next())
		}
	}
	return p.errorAt(start, "unterminated double quote")
}

// dollar expands $NAME, ${NAME}, ${NAME:-word} and ${NAME-word}; a '$' not
// followed by a name or brace is literal, as in bash.
func (p *confParser) dollar(b *strings.Builder) error {
	p.next() // '$'
	if p.eof() {
		b.WriteByte('$')
		return nil
	}
	switch c := p.peek(); {
	case c == '(':
		b.WriteByte('$')
		return p.subst(b)
	case isNameStart(c):
		b.WriteString(p.vars[p.name()])
		return nil
	case c != '{':
		b.WriteByte('$')
		return nil
	}
	p.next() // '{'
	name := p.name()
	if name == "" {
		return p.errorf("bad ${...} expansion: expected a variable name")
	}
	if p.eof() {
		return p.errorf("missing } in ${...}")
	}
	val, set := p.vars[name]
	switch p.peek() {
	case '}':
		p.next()
		b.WriteString(val)
		return nil
	case ':', '-':
		colon := p.peek() == ':'
		p.next()
		if colon {
			if p.eof() || p.peek() != '-' {
				return p.errorf("only ${%s:-default} and ${%s-default} are supported", name, name)
			}
			p.next()
		}
		def, err := p.word(true)
		if err != nil {
			return err
		}
		p.next() // '}'
		useDefault := !set || (colon && val == "")
		if useDefault {
			b.WriteString(def)
		} else {
			b.WriteString(val)
		}
		return nil
	default:
		return p.errorf("only ${%s:-default} and ${%s-default} are supported", name, name)
	}
}

// subst copies a $( ... ) command substitution verbatim (the '$' is already
// written), balancing parentheses and skipping over quoted text.
func (p *confParser) subst(b *strings.Builder) error {
	start, depth := p.line, 0
	var quote byte
	for !p.eof() {
		c := p.next()
		b.WriteByte(c)
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' && !p.eof() {
				b.WriteByte(p.next())
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '\\' && !p.eof():
			b.WriteByte(p.next())
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return nil
			}
		}
	}
	return p.errorAt(start, "unterminated $(")
}

// backticks copies a `...` command substitution verbatim.
func (p *confParser) backticks(b *strings.Builder) error {
	start := p.line
	b.WriteByte(p.next())
	for !p.eof() {
		c := p.next()
		b.WriteByte(c)
		if c == '\\' && !p.eof() {
			b.WriteByte(p.next())
		} else if c == '`' {
			return nil
		}
	}
	return p.errorAt(start, "unterminated `")
}
