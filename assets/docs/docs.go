// Package docs holds Corral's user documentation as Markdown, embedded in
// the binary and rendered to HTML once, for the pages that link to it. The
// same files read well in a repository browser, so the README links to
// them too.
package docs

import (
	"bytes"
	"embed"
	"strings"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

//go:embed *.md
var files embed.FS

// Doc is one rendered document.
type Doc struct {
	Title string // the first "# " heading
	HTML  string // trusted: it comes from files compiled into the binary
}

// rendered maps a document's name (its file name without .md) to it.
var rendered = sync.OnceValue(func() map[string]Doc {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	out := map[string]Doc{}
	list, _ := files.ReadDir(".")
	for _, e := range list {
		src, err := files.ReadFile(e.Name())
		if err != nil {
			continue
		}
		var b bytes.Buffer
		if err := md.Convert(src, &b); err != nil {
			continue
		}
		out[strings.TrimSuffix(e.Name(), ".md")] = Doc{Title: title(string(src)), HTML: b.String()}
	}
	return out
})

// Get returns the document called name (e.g. "templates").
func Get(name string) (Doc, bool) {
	d, ok := rendered()[name]
	return d, ok
}

func title(src string) string {
	for _, line := range strings.Split(src, "\n") {
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return "Corral"
}
