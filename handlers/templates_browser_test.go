package handlers_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
	"corral/store"
)

// TestBrowserTemplates creates a template with two scripts and a file in
// real Chromium, reorders the scripts, then finds it by tag in the list.
func TestBrowserTemplates(t *testing.T) {
	s := newTestServer(t)
	u := s.withUser(t, "alice", "correct horse")
	if _, err := s.DB.CreateTemplate(context.Background(), u.ID, store.Template{Name: "Other", Tags: []string{"web"}}); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-templates"]`),
		chromedp.Navigate(s.URL+"/templates/new"),
		chromedp.WaitVisible(`[data-testid="template-form"]`),
		browsertest.SendKeys(`[name="name"]`, "Browser made"),
		browsertest.SendKeys(`[name="tags"]`, "web;demo"),
		browsertest.SendKeys(`[name="packages.apt"]`, "curl"),
		// Each row button swaps the form (htmx); what was typed survives.
		browsertest.Click(`[data-testid="add-script"]`),
		chromedp.WaitVisible(`[name="scripts.0.name"]`),
		chromedp.SetValue(`[name="scripts.0.name"]`, "10-first.sh"),
		browsertest.SendKeys(`[name="scripts.0.content"]`, "echo first"),
		browsertest.Click(`[data-testid="add-script"]`),
		chromedp.WaitVisible(`[name="scripts.1.name"]`),
		chromedp.SetValue(`[name="scripts.1.name"]`, "20-second.sh"),
		browsertest.SendKeys(`[name="scripts.1.content"]`, "echo second"),
		browsertest.Click(`[data-testid="add-file"]`),
		chromedp.WaitVisible(`[name="files.0.name"]`),
		browsertest.SendKeys(`[name="files.0.name"]`, "motd"),
		browsertest.SendKeys(`[name="files.0.target_dir"]`, "/etc"),
		browsertest.SendKeys(`[name="files.0.content"]`, "welcome"),
	)
	b.Screenshot("form-filled")

	// Move the second script up: the swapped form shows the new order.
	b.Run(browsertest.Click(`button[value="script-up:1"]`))
	b.WaitTrue(`document.querySelector('[name="scripts.0.name"]')?.value === "20-second.sh"`)
	if got := browsertest.Get(b, chromedp.Value(`[name="scripts.1.name"]`)); got != "10-first.sh" {
		t.Fatalf("after moving up, script 2 is %q", got)
	}
	if got := browsertest.Get(b, chromedp.Value(`[name="files.0.name"]`)); got != "motd" {
		t.Fatalf("file name lost across swaps: %q", got)
	}
	b.Screenshot("reordered")

	b.Run(
		browsertest.Click(`[data-testid="template-save"]`),
		chromedp.WaitVisible(`[data-testid="template-name"]`),
	)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="template-name"]`)); got != "Browser made" {
		t.Fatalf("detail page of %q", got)
	}
	b.Screenshot("detail")
	list, _ := s.DB.Templates(context.Background(), u.ID, store.TemplateFilter{Query: "browser"})
	if len(list) != 1 {
		t.Fatalf("stored %d templates", len(list))
	}
	var names []string
	for _, sc := range list[0].Scripts {
		names = append(names, sc.Name)
	}
	if !reflect.DeepEqual(names, []string{"20-second.sh", "10-first.sh"}) || len(list[0].Files) != 1 || len(list[0].Packages) != 1 {
		t.Fatalf("stored scripts %q, files %+v, packages %+v", names, list[0].Files, list[0].Packages)
	}

	// Both of alice's templates are listed, next to the built-ins; ticking
	// "demo" leaves only the new one.
	b.Run(
		chromedp.Navigate(s.URL+"/templates"),
		chromedp.WaitVisible(`[data-testid="template-results"]`),
	)
	own := `[...document.querySelectorAll('[data-testid="template-card"]')].filter(c => !c.querySelector('[data-testid="template-origin"]')).length`
	if n := browsertest.Get(b, chromedp.Evaluate[int](own)); n != 2 {
		t.Fatalf("%d own cards before filtering", n)
	}
	// A person clicks the pill; its checkbox itself is hidden.
	b.Run(browsertest.Click(`label:has(> [data-testid="tag-demo"])`))
	b.WaitTrue(`document.querySelectorAll('[data-testid="template-card"]').length === 1`)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="template-card"] h3`)); got != "Browser made" {
		t.Fatalf("filtered card %q", got)
	}
	if loc := browsertest.Get(b, chromedp.Location()); !strings.Contains(loc, "tag=demo") {
		t.Errorf("filter not in the URL: %s", loc)
	}
	b.Screenshot("filtered")
}
