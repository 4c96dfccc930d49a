package gateway

import "strings"

// maxProgramName bounds the program name kept in the audit log.
const maxProgramName = 64

// programName is what the audit log keeps of a command run through the
// gateway: the program it starts, not its arguments, which can hold
// secrets typed on the command line ("mysql -pS3cret"). Leading variable
// assignments ("PGPASSWORD=… psql") are skipped the way the shell reads
// them, quotes included. A command it cannot read that way is "(command)".
func programName(command string) string {
	const unreadable = "(command)"
	rest := command
	for {
		word, after, ok := shellWord(rest)
		if !ok || word == "" {
			return unreadable
		}
		rest = after
		if isAssignment(word) {
			continue
		}
		name := clean(strings.ToValidUTF8(word, "\uFFFD"))
		if len(name) > maxProgramName {
			name = strings.ToValidUTF8(name[:maxProgramName], "") + "…" // drops the rune the cut split
		}
		return name
	}
}

// shellWord reads the first word of s as sh would split it (blanks
// outside quotes end it; quotes and backslashes are removed) and returns
// it with the text after it. ok is false for an unterminated quote, or
// when the command starts with something other than a plain word, such as
// a redirection or a subshell.
func shellWord(s string) (word, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t\n")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '|' || c == '&':
			return b.String(), s[i:], true
		case c == '<' || c == '>' || c == '(' || c == ')':
			return "", "", false
		case c == '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", "", false
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return "", "", false
			}
			b.WriteString(s[i+1 : j])
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "", true
}

// isAssignment reports whether a word (as read by shellWord) is NAME=VALUE.
func isAssignment(word string) bool {
	name, _, ok := strings.Cut(word, "=")
	if !ok || name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
