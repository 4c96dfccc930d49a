package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
)

// TestBrowserFirstRun walks a newcomer's first minutes in real Chromium:
// setup, landing signed in, signing out, signing back in, on desktop and phone.
func TestBrowserFirstRun(t *testing.T) {
	s := newTestServer(t)
	b := browsertest.New(t)

	b.Run(
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(`[data-testid="setup-form"]`),
	)
	b.Screenshot("setup")
	b.Run(
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.SendKeys(`#confirm`, "correct horse"),
		browsertest.Click(`[data-testid="setup-submit"]`),
		chromedp.WaitVisible(`[data-testid="username"]`),
	)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="username"]`)); got != "alice" {
		t.Fatalf("signed in as %q after setup", got)
	}
	if flash := browsertest.Get(b, chromedp.Text(`[data-testid="flash"]`)); !strings.Contains(flash, "Welcome") {
		t.Fatalf("no welcome message after setup: %q", flash)
	}
	b.Screenshot("after-setup")

	b.Run(
		browsertest.Click(`[data-testid="logout"]`),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
	)
	b.Screenshot("signed-out")

	b.Run(
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "not the password"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="form-error"]`),
	)
	b.Screenshot("wrong-password")
	b.Run(
		chromedp.Clear(`#password`),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-templates"]`),
	)
	loc := browsertest.Get(b, chromedp.Location())
	if !strings.HasSuffix(loc, "/containers") {
		t.Fatalf("after sign-in the browser is at %s", loc)
	}

	// The layout holds together on a phone.
	b.SetViewport(390, 844)
	b.Run(chromedp.Reload(), chromedp.WaitVisible(`[data-testid="logout"]`))
	b.Screenshot("phone")
}
