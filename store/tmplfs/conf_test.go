package tmplfs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
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
		// What bash would treat specially: expansions come from earlier
		// lines only; what would need a running shell is kept as written.
		{"later line not seen", "A=$B\nB=2", map[string]string{"A": "", "B": "2"}},
		{"same line sees earlier assignment", "A=1 B=$A", map[string]string{"A": "1", "B": "1"}},
		{"export several", "export A=1 B=$A", map[string]string{"A": "1", "B": "1"}},
		{"escaped dollar", `A=\$HOME B="\${X}"`, map[string]string{"A": "$HOME", "B": "${X}"}},
		{"arithmetic kept", "A=$((1+2)) B=$[3]", map[string]string{"A": "$((1+2))", "B": "$[3]"}},
		{"positional and special kept", `A="$0/x" B=$1 C="$@" D=$#`, map[string]string{"A": "$0/x", "B": "$1", "C": "$@", "D": "$#"}},
		{"no brace, glob or tilde expansion", "A={a,b} B=* C=~/x", map[string]string{"A": "{a,b}", "B": "*", "C": "~/x"}},
		{"substitution in default kept", "A=${X:-$(echo hi)}", map[string]string{"A": "$(echo hi)"}},
		{"quotes in a quoted default", `A="${X:-'a b'}"`, map[string]string{"A": "a b"}},
		{"equals in value", "A=a=b", map[string]string{"A": "a=b"}},
		{"trailing semicolon", "A=1;", map[string]string{"A": "1"}},
		{"continuation before a statement", "\\\nA=1", map[string]string{"A": "1"}},
		{"escaped quote in single quotes", `A='it'\''s'`, map[string]string{"A": "it's"}},
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

// TestParseConf_Refused lists what a template.conf may not contain: each
// is refused on the line it starts, after a valid first line.
func TestParseConf_Refused(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		mention string // part of the message, where it quotes the line
	}{
		{"command", "echo hi", `"echo hi"`},
		{"command after assignment", "A=1 echo hi", `"A=1 echo hi"`},
		{"source", ". ./other.conf", ""},
		{"pipe", "A=1 | cat", ""},
		{"and", "A=1 && B=2", ""},
		{"or", "A=1 || B=2", ""},
		{"background", "A=1 &", ""},
		{"negation", "! A=1", ""},
		{"redirection", "A=1 >out", ""},
		{"here-document", "A=1 <<EOF\nx\nEOF", ""},
		{"here-string", "A=1 <<<x", ""},
		{"subshell", "(A=1)", ""},
		{"block", "{ A=1; }", ""},
		{"function", "f() { A=1; }", ""},
		{"if", "if true; then A=1; fi", ""},
		{"for", "for i in 1; do A=$i; done", ""},
		{"case", "case x in x) A=1;; esac", ""},
		{"arithmetic command", "((A=1))", ""},
		{"let", "let A=1", ""},
		{"test", "[[ -n x ]]", ""},
		{"array", "A=(1 2)", ""},
		{"array element", "A[0]=1", ""},
		{"array expansion", "A=${B[0]}", ""},
		{"append", "A+=1", ""},
		{"readonly", "readonly A=1", ""},
		{"declare", "declare A=1", ""},
		{"export without value", "export A", ""},
		{"bare export", "export", ""},
		{"export option", "export -n A=1", ""},
		{"assign default", "A=${B:=x}", ""},
		{"alternate value", "A=${B:+x}", ""},
		{"length", "A=${#B}", ""},
		{"indirection", "A=${!B}", ""},
		{"trim", "A=${B%x}", ""},
		{"replace", "A=${B/x/y}", ""},
		{"substring", "A=${B:0:1}", ""},
		{"case change", "A=${B^^}", ""},
		{"braced positional", "A=${1}", ""},
		{"process substitution", "A=<(ls)", ""},
		{"ansi-c quoting", "A=$'x'", ""},
		{"locale quoting", `A=$"x"`, ""},
		{"extended glob", "A=@(x)", ""},
		{"empty statement", ";", ""},
		{"substitution that is not shell", "A=$(echo ))", ""},
		{"arithmetic that is not arithmetic", "A=$((1 +))", ""},
		{"invalid utf-8", "A=\xff", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "OK=1\n" + tt.src
			got, err := ParseConf(src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseConf(%q) = %q, %v; want a *SyntaxError", src, got, err)
			}
			if se.Line != 2 {
				t.Errorf("ParseConf(%q) error on line %d, want 2 (%v)", src, se.Line, err)
			}
			if !strings.Contains(se.Msg, tt.mention) {
				t.Errorf("ParseConf(%q) error %q does not mention %s", src, se.Msg, tt.mention)
			}
		})
	}
}

// TestParseConf_NeverRuns shows that substitutions are not run and the
// environment is not read, even where bash would do both.
func TestParseConf_NeverRuns(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	t.Setenv("TMPLFS_FROM_ENV", "leaked")
	src := fmt.Sprintf("A=$(touch %[1]s)\nB=`touch %[1]s`\nC=${X:-$(touch %[1]s)}\nD=$TMPLFS_FROM_ENV\nE=${TMPLFS_FROM_ENV:-default}", marker)
	got, err := ParseConf(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"A": "$(touch " + marker + ")", "B": "`touch " + marker + "`", "C": "$(touch " + marker + ")",
		"D": "", "E": "default",
	}
	if !maps.Equal(got, want) {
		t.Errorf("ParseConf(%q)\n got %q\nwant %q", src, got, want)
	}
	if _, err := os.Stat(marker); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a substitution ran: %s exists (%v)", marker, err)
	}
}

// FuzzParseConf checks that no input makes the parser panic or loop, that
// a refusal names a line of the input, and that what a successful parse
// yields is reproducible: valid names whose values, written back single
// quoted, parse to the same map.
func FuzzParseConf(f *testing.F) {
	for _, s := range []string{
		"A=1", `A="${A:-1}"  # c`, "A='x'\nB=$A", `A=${X:-${Y:-"q"}}`, "export A=1;B=2",
		`P="$(dirname "$0")"`, "A=`x`", "A=\"\\", "A=${", "A=$(", "#", "=", "A=\"\n",
		"A=$(a\r\nb)", "A='\r\r\n'", "A=`a\x00b`", "0=[",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		vars, err := ParseConf(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Line > strings.Count(src, "\n")+1 {
				t.Fatalf("ParseConf(%q): error %v is not a *SyntaxError with a line of the input", src, err)
			}
			return
		}
		var again strings.Builder
		for k, v := range vars {
			if !syntax.ValidName(k) {
				t.Fatalf("ParseConf(%q) produced bad name %q", src, k)
			}
			// '' after \r keeps it from pairing with a following \n, as
			// the parser reads \r\n as \n wherever it appears.
			fmt.Fprintf(&again, "%s='%s'\n", k, strings.NewReplacer("'", `'\''`, "\r", "\r''").Replace(v))
		}
		got, err := ParseConf(again.String())
		if err != nil || !maps.Equal(got, vars) {
			t.Fatalf("ParseConf(%q) = %q, but its values written back as\n%s\nparse to %q, %v", src, vars, again.String(), got, err)
		}
	})
}

// TestConfKeysDocumented: every template.conf key the reader uses is
// described in the format page the templates page links to.
func TestConfKeysDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../assets/docs/templates.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("read.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := regexp.MustCompile(`"(TEMPLATE_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(keys) < 10 {
		t.Fatalf("found only %d keys in read.go", len(keys))
	}
	for _, k := range keys {
		if !strings.Contains(string(doc), "`"+k[1]+"`") {
			t.Errorf("%s is not documented in assets/docs/templates.md", k[1])
		}
	}
}
