// Package linediff compares two texts line by line for people to read: the
// lines a change removes and adds, in order, with a few unchanged lines of
// context around each change.
package linediff

import "strings"

// Op says what happened to a line.
type Op byte

// Line operations.
const (
	Same Op = ' ' // in both texts
	Del  Op = '-' // only in the old text
	Add  Op = '+' // only in the new text
	Gap  Op = '~' // unchanged lines left out (Context); Skipped says how many
)

// Line is one line of a diff.
type Line struct {
	Op      Op
	Text    string
	Skipped int // for Gap lines: how many unchanged lines it stands for
}

// maxCells bounds the comparison table (int32 cells, 4 MiB): beyond it the
// changed middle is shown as removed, then added, which is still correct,
// only less precise.
const maxCells = 1 << 20

// Diff returns every line of old and new in order, each marked Same, Del or
// Add, with as many lines kept Same as possible (a longest common
// subsequence of the changed middle; the common start and end are matched
// first).
func Diff(old, new string) []Line {
	a, b := split(old), split(new)
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	out := make([]Line, 0, len(a)+len(b)-pre-suf)
	for _, l := range a[:pre] {
		out = append(out, Line{Op: Same, Text: l})
	}
	out = middle(out, a[pre:len(a)-suf], b[pre:len(b)-suf])
	for _, l := range a[len(a)-suf:] {
		out = append(out, Line{Op: Same, Text: l})
	}
	return out
}

// middle appends the diff of a and b, which share no first or last line.
func middle(out []Line, a, b []string) []Line {
	n, m := len(a), len(b)
	if n*m > maxCells {
		for _, l := range a {
			out = append(out, Line{Op: Del, Text: l})
		}
		for _, l := range b {
			out = append(out, Line{Op: Add, Text: l})
		}
		return out
	}
	// lcs[i*(m+1)+j] is the length of a longest common subsequence of
	// a[i:] and b[j:].
	lcs := make([]int32, (n+1)*(m+1))
	at := func(i, j int) int32 { return lcs[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*(m+1)+j] = at(i+1, j+1) + 1
			} else {
				lcs[i*(m+1)+j] = max(at(i+1, j), at(i, j+1))
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, Line{Op: Same, Text: a[i]})
			i, j = i+1, j+1
		case at(i+1, j) >= at(i, j+1):
			out = append(out, Line{Op: Del, Text: a[i]})
			i++
		default:
			out = append(out, Line{Op: Add, Text: b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, Line{Op: Del, Text: a[i]})
	}
	for ; j < m; j++ {
		out = append(out, Line{Op: Add, Text: b[j]})
	}
	return out
}

// Context keeps the changed lines of a diff and up to n unchanged lines
// before and after each change; every longer unchanged run in between
// becomes one Gap line.
func Context(lines []Line, n int) []Line {
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op == Same {
			continue
		}
		for k := max(0, i-n); k <= min(len(lines)-1, i+n); k++ {
			keep[k] = true
		}
	}
	var out []Line
	skipped := 0
	for i, l := range lines {
		if keep[i] {
			if skipped > 0 {
				out = append(out, Line{Op: Gap, Skipped: skipped})
				skipped = 0
			}
			out = append(out, l)
			continue
		}
		skipped++
	}
	if skipped > 0 {
		out = append(out, Line{Op: Gap, Skipped: skipped})
	}
	return out
}

// split cuts s into lines; a final newline does not start another line.
func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
