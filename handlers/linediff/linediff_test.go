package linediff

import (
	"strings"
	"testing"
)

// render writes a diff one line each, as "-old", "+new", " same", "~N".
func render(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		if l.Op == Gap {
			b.WriteString("~" + strings.Repeat("|", l.Skipped) + "\n")
			continue
		}
		b.WriteString(string(l.Op) + l.Text + "\n")
	}
	return b.String()
}

func TestDiff(t *testing.T) {
	tests := []struct{ name, old, new, want string }{
		{"equal", "a\nb\n", "a\nb\n", " a\n b\n"},
		{"both empty", "", "", ""},
		{"from nothing", "", "x\ny\n", "+x\n+y\n"},
		{"to nothing", "x\n", "", "-x\n"},
		{"one line changed", "set -e\nexit 3\necho done\n", "set -e\necho fixed\necho done\n", " set -e\n-exit 3\n+echo fixed\n echo done\n"},
		{"insert in the middle", "a\nb\nc\n", "a\nb\nx\nc\n", " a\n b\n+x\n c\n"},
		{"moved line", "a\nb\nc\nd\n", "b\nc\na\nd\n", "-a\n b\n c\n+a\n d\n"},
		{"final newline ignored", "a\nb", "a\nb\n", " a\n b\n"},
		{"repeated lines", "x\nx\ny\n", "x\ny\nx\ny\n", " x\n+y\n x\n y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(Diff(tt.old, tt.new)); got != tt.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestDiff_Large: past the table bound the middle is replaced wholesale,
// and every line of both texts is still there in order.
func TestDiff_Large(t *testing.T) {
	var a, b strings.Builder
	for i := range 1500 {
		a.WriteString("old " + strings.Repeat("x", i%7) + "\n")
		b.WriteString("new " + strings.Repeat("y", i%5) + "\n")
	}
	got := Diff("head\n"+a.String()+"tail\n", "head\n"+b.String()+"tail\n")
	if len(got) != 3002 || got[0] != (Line{Op: Same, Text: "head"}) || got[len(got)-1] != (Line{Op: Same, Text: "tail"}) {
		t.Fatalf("%d lines, first %+v last %+v", len(got), got[0], got[len(got)-1])
	}
	if got[1].Op != Del || got[1500].Op != Del || got[1501].Op != Add || got[3000].Op != Add {
		t.Errorf("middle not removed then added: %+v %+v", got[1500], got[1501])
	}
}

func TestContext(t *testing.T) {
	var old, new []string
	for i := range 20 {
		line := string(rune('a' + i))
		old = append(old, line)
		if i == 3 || i == 15 {
			line = strings.ToUpper(line)
		}
		new = append(new, line)
	}
	got := render(Context(Diff(strings.Join(old, "\n"), strings.Join(new, "\n")), 2))
	want := "~|\n b\n c\n-d\n+D\n e\n f\n~|||||||\n n\n o\n-p\n+P\n q\n r\n~||\n"
	if got != want {
		t.Errorf("Context:\n%s\nwant:\n%s", got, want)
	}
	if got := Context(Diff("a\nb\n", "a\nb\n"), 3); len(got) != 1 || got[0].Op != Gap || got[0].Skipped != 2 {
		t.Errorf("no change: %+v", got)
	}
}
