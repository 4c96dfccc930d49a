package store

import (
	"fmt"
	"strings"
	"unicode"
)

// ParsePackageList reads a pasted or filed package list for manager m: one
// package per line (several separated by spaces are accepted for apt, npm
// and pip); lines starting with # or // are comments, and for those three
// managers so is anything after a " #". Custom lines are
// name|check command|install command (the install command may itself
// contain |). Problems name the line; good lines are returned regardless.
// A line is taken whole or not at all: one bad word ("bad pkg name!") makes
// the line a problem instead of splitting it into the words that pass.
func ParsePackageList(m PackageManager, text string) (pkgs []Package, problems []string) {
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		if m == ManagerCustom {
			parts := strings.SplitN(line, "|", 3)
			if len(parts) != 3 || strings.TrimSpace(parts[0]) == "" || strings.TrimSpace(parts[2]) == "" {
				problems = append(problems, fmt.Sprintf("line %d: write custom packages as name|check command|install command", i+1))
				continue
			}
			p := Package{
				Manager: m,
				Name:    strings.TrimSpace(parts[0]),
				Check:   strings.TrimSpace(parts[1]),
				Install: strings.TrimSpace(parts[2]),
			}
			if msg := packageProblem(p); msg != "" {
				problems = append(problems, fmt.Sprintf("line %d: %s", i+1, msg))
				continue
			}
			pkgs = append(pkgs, p)
			continue
		}
		line = stripInlineComment(line)
		var words []Package
		var bad []string
		for _, name := range strings.Fields(line) {
			p := Package{Manager: m, Name: name}
			if msg := packageProblem(p); msg != "" {
				bad = append(bad, msg)
				continue
			}
			words = append(words, p)
		}
		switch {
		case len(bad) == 0:
			pkgs = append(pkgs, words...)
		case len(words) == 0 && len(bad) == 1:
			problems = append(problems, fmt.Sprintf("line %d: %s", i+1, bad[0]))
		default:
			problems = append(problems, fmt.Sprintf("line %d %q: %s", i+1, line, strings.Join(bad, "; ")))
		}
	}
	return pkgs, problems
}

// stripInlineComment cuts a "#" that starts a word, as a shell would.
func stripInlineComment(line string) string {
	for i, r := range line {
		if r == '#' && (i == 0 || unicode.IsSpace(rune(line[i-1]))) {
			return strings.TrimSpace(line[:i])
		}
	}
	return line
}

// FormatPackageList writes packages of one manager back in the form
// ParsePackageList reads, one per line.
func FormatPackageList(pkgs []Package) string {
	var b strings.Builder
	for _, p := range pkgs {
		b.WriteString(p.Name)
		if p.Manager == ManagerCustom {
			b.WriteString("|" + p.Check + "|" + p.Install)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
