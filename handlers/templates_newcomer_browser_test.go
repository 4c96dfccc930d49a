package handlers_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
)

// noScript turns JavaScript off in the tab, for the page as a browser
// without it sees it.
func noScript() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	}
}

// inView is true when the element with id is focused and inside the window.
func inView(id string) string {
	return `(() => { const e = document.getElementById('` + id + `'); if (!e || document.activeElement !== e) return false;
		const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight })()`
}

// TestBrowserTemplateFormKeepsPlace: adding a script or a file far down a
// long form leaves the user at the new row, focused, with htmx and with a
// plain form post alike (issue 14: the page jumped to the top).
func TestBrowserTemplateFormKeepsPlace(t *testing.T) {
	for _, js := range []bool{true, false} {
		name := "htmx"
		if !js {
			name = "no-javascript"
		}
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t)
			s.withUser(t, "alice", "correct horse")
			b := browsertest.New(t)
			if !js {
				b.Run(noScript())
			}
			b.Run(
				chromedp.Navigate(s.URL+"/login"),
				chromedp.WaitVisible(`[data-testid="login-form"]`),
				chromedp.SendKeys(`#username`, "alice"),
				chromedp.SendKeys(`#password`, "correct horse"),
				chromedp.Click(`[data-testid="login-submit"]`),
				chromedp.WaitVisible(`[data-testid="nav-templates"]`),
				chromedp.Navigate(s.URL+"/templates/new"),
				chromedp.WaitVisible(`[data-testid="template-form"]`),
				chromedp.SendKeys(`#name`, "Long one"),
			)
			for i, id := range []string{"scripts.0.name", "scripts.1.name", "scripts.2.name"} {
				b.Run(
					chromedp.ScrollIntoView(`#add-script`),
					chromedp.Click(`#add-script`),
					chromedp.WaitVisible(`[id="`+id+`"]`),
				)
				b.WaitTrue(inView(id))
				if i == 0 {
					b.Screenshot("first-script")
				}
			}
			b.Run(
				chromedp.ScrollIntoView(`#add-file`),
				chromedp.Click(`#add-file`),
				chromedp.WaitVisible(`[id="files.0.name"]`),
			)
			b.WaitTrue(inView("files.0.name"))
			if y := browsertest.Get(b, chromedp.Evaluate[float64](`window.scrollY`)); y == 0 {
				t.Error("the page is at the top after adding a file")
			}
			if got := browsertest.Get(b, chromedp.Value(`#name`)); got != "Long one" {
				t.Errorf("the name typed before is %q", got)
			}
			b.Screenshot("file-added")

			// Moving a script down keeps focus on the moved row's button.
			b.Run(
				chromedp.ScrollIntoView(`[id="scripts.0.down"]`),
				chromedp.Click(`[id="scripts.0.down"]`),
			)
			b.WaitTrue(inView("scripts.1.down") + ` && document.getElementById('scripts.1.name').value === '10-script.sh'`)
		})
	}
}
