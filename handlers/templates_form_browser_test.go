package handlers_test

import (
	"context"
	"testing"
	"time"

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

// waitNoScript waits until expr is true in a tab without JavaScript, where
// browsertest's page helpers cannot run. A try that a navigation cut short
// is tried again.
func waitNoScript(t *testing.T, b *browsertest.Browser, expr string) {
	t.Helper()
	deadline := time.Now().Add(browsertest.DefaultTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.Context(), 5*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure")
			t.Fatalf("%s never became true: %v", expr, err)
		}
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
			click, typeIn, wait := browsertest.Click, browsertest.SendKeys, b.WaitTrue
			if !js {
				b.Run(noScript())
				click = func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(sel) }
				typeIn = func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SendKeys(sel, v) }
				wait = func(expr string) { waitNoScript(t, b, expr) }
			}
			b.Run(
				chromedp.Navigate(s.URL+"/login"),
				chromedp.WaitVisible(`[data-testid="login-form"]`),
				typeIn(`#username`, "alice"),
				typeIn(`#password`, "correct horse"),
				click(`[data-testid="login-submit"]`),
				chromedp.WaitVisible(`[data-testid="nav-templates"]`),
				chromedp.Navigate(s.URL+"/templates/new"),
				chromedp.WaitVisible(`[data-testid="template-form"]`),
				typeIn(`#name`, "Long one"),
			)
			for i, id := range []string{"scripts.0.name", "scripts.1.name", "scripts.2.name"} {
				b.Run(
					click(`#add-script`),
					chromedp.WaitVisible(`[id="`+id+`"]`),
				)
				wait(inView(id))
				if i == 0 {
					b.Screenshot("first-script")
				}
			}
			b.Run(
				click(`#add-file`),
				chromedp.WaitVisible(`[id="files.0.name"]`),
			)
			wait(inView("files.0.name"))
			if y := browsertest.Get(b, chromedp.Evaluate[float64](`window.scrollY`)); y == 0 {
				t.Error("the page is at the top after adding a file")
			}
			if got := browsertest.Get(b, chromedp.Value(`#name`)); got != "Long one" {
				t.Errorf("the name typed before is %q", got)
			}
			b.Screenshot("file-added")

			// Moving a script down keeps focus on the moved row's button.
			b.Run(click(`[id="scripts.0.down"]`))
			wait(inView("scripts.1.down") + ` && document.getElementById('scripts.1.name').value === '10-script.sh'`)
		})
	}
}
