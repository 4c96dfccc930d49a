package tmplfs

import (
	"errors"
	"maps"
	"testing"
)

func TestParseConf(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want map[string]string
	}{
		{"empty file", "", map[string]string{}},
		{"comments and blanks", "# a comment\n\n   # indented\n", map[string]string{}},
		{"unquoted", "A=1\nB=hello", map[string]string{"A": "1", "B": "hello"}},
		{"double quoted with spaces", `A="hello world"`, map[string]string{"A": "hello world"}},
		{"single quoted is literal", `A='$HOME "x" \n'`, map[string]string{"A": `$HOME "x" \n`}},
		{"empty values", "A=\nB=\"\"\nC=''", map[string]string{"A": "", "B": "", "C": ""}},
		{"empty value then comment", "A= # nothing", map[string]string{"A": ""}},
		{"default when unset", `A="${A:-4}"`, map[string]string{"A": "4"}},
		{"default unquoted", `A=${A:-20}`, map[string]string{"A": "20"}},
		{"default keeps earlier value", "A=8\nA=\"${A:-4}\"", map[string]string{"A": "8"}},
		{"colon default replaces empty", "A=\nB=${A:-x}", map[string]string{"A": "", "B": "x"}},
		{"dash default keeps empty", "A=\nB=${A-x}", map[string]string{"A": "", "B": ""}},
		{"default with spaces and quotes", `A=${X:-"a b"}c`, map[string]string{"A": "a bc"}},
		{"empty default", `A="${X:-}"`, map[string]string{"A": ""}},
		{"nested default", `A=${X:-${Y:-deep}}`, map[string]string{"A": "deep"}},
		{"inline comment after quoted value", `A="${A:-1}"  # 1 = unprivileged`, map[string]string{"A": "1"}},
		{"inline comment after unquoted", "A=1 # note\nB=2\t# tab", map[string]string{"A": "1", "B": "2"}},
		{"hash inside word is literal", "A=a#b\nB=\"#x\"", map[string]string{"A": "a#b", "B": "#x"}},
		{"hash in single quotes", `A='a # b'`, map[string]string{"A": "a # b"}},
		{"variable reference", "A=x\nB=\"$A-y\"\nC=${A}z\nD=$UNSET", map[string]string{"A": "x", "B": "x-y", "C": "xz", "D": ""}},
		{"escapes in double quotes", `A="say \"hi\" \$5 \\ \n"`, map[string]string{"A": `say "hi" $5 \ \n`}},
		{"backslash unquoted", `A=a\ b`, map[string]string{"A": "a b"}},
		{"mixed quoting in one word", `A="a"'b'c`, map[string]string{"A": "abc"}},
		{"lone dollar", `A=5$ B="$"`, map[string]string{"A": "5$", "B": "$"}},
		{"export", "export A=1\nexport   B=\"2\"", map[string]string{"A": "1", "B": "2"}},
		{"semicolons", "A=1; B=2;C=3", map[string]string{"A": "1", "B": "2", "C": "3"}},
		{"multi-line double quote", "A=\"line1\nline2\"\nB=3", map[string]string{"A": "line1\nline2", "B": "3"}},
		{"line continuation", "A=one\\\ntwo", map[string]string{"A": "onetwo"}},
		{"crlf line endings", "A=1\r\nB=\"2\"\r\n", map[string]string{"A": "1", "B": "2"}},
		{"command substitution kept literally", `P="$(dirname "$0")/cfg"`, map[string]string{"P": `$(dirname "$0")/cfg`}},
		{"backticks kept literally", "P=`pwd`/x", map[string]string{"P": "`pwd`/x"}},
		{"utf-8", `A="café ☕"`, map[string]string{"A": "café ☕"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConf(tt.src)
			if err != nil {
				t.Fatalf("ParseConf(%q): %v", tt.src, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseConf(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestParseConf_Errors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
	}{
		{"unterminated double quote", "A=1\nB=\"open", 2},
		{"unterminated single quote", "A='open", 1},
		{"not an assignment", "echo hi", 1},
		{"bad name", "1A=2", 1},
		{"text after value", "A=1 2", 1},
		{"unquoted space value", "A=hello world", 1},
		{"unsupported expansion", "A=${B:=x}", 1},
		{"unclosed brace", "A=${B:-x", 1},
		{"empty brace", "A=${}", 1},
		{"pipe", "A=1|cat", 1},
		{"unterminated substitution", "A=$(echo", 1},
		{"error line after multi-line quote", "A=\"x\ny\"\nB=1 2", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConf(tt.src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseConf(%q) = %q, %v; want a *SyntaxError", tt.src, got, err)
			}
			if se.Line != tt.line {
				t.Errorf("ParseConf(%q) error on line %d, want %d (%v)", tt.src, se.Line, tt.line, err)
			}
		})
	}
}

// FuzzParseConf checks that no input makes the parser panic or loop, and
// that a successful parse only yields valid variable names.
func FuzzParseConf(f *testing.F) {
	for _, s := range []string{
		"A=1", `A="${A:-1}"  # c`, "A='x'\nB=$A", `A=${X:-${Y:-"q"}}`, "export A=1;B=2",
		`P="$(dirname "$0")"`, "A=`x`", "A=\"\\", "A=${", "A=$(", "#", "=", "A=\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		vars, err := ParseConf(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 {
				t.Fatalf("ParseConf(%q): error %v is not a *SyntaxError with a line", src, err)
			}
			return
		}
		for k := range vars {
			if k == "" || !isNameStart(k[0]) {
				t.Fatalf("ParseConf(%q) produced bad name %q", src, k)
			}
		}
	})
}
