package docs

import (
	"strings"
	"testing"
)

// TestTemplates: the template format page renders, with its tables and
// linkable headings, and names every template.conf key tmplfs reads.
func TestTemplates(t *testing.T) {
	d, ok := Get("templates")
	if !ok {
		t.Fatal("no templates document")
	}
	if d.Title != "The template directory format" {
		t.Errorf("title %q", d.Title)
	}
	for _, want := range []string{
		`<h2 id="templateconf">template.conf</h2>`, "<table>", "<code>NN-name.sh</code>",
		"TEMPLATE_CPU", "TEMPLATE_RAM", "TEMPLATE_SWAP", "TEMPLATE_DISK", "TEMPLATE_STORAGE", "TEMPLATE_BRIDGE",
		"TEMPLATE_OS", "TEMPLATE_VERSION", "TEMPLATE_UNPRIVILEGED", "TEMPLATE_NESTING", "TEMPLATE_KEYCTL",
		"TEMPLATE_FUSE", "TEMPLATE_DESCRIPTION", "TEMPLATE_TAGS", ".path", ".policy",
	} {
		if !strings.Contains(d.HTML, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	if _, ok := Get("missing"); ok {
		t.Error("a missing document was found")
	}
}
