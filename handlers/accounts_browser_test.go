package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"corral/handlers"
	"corral/handlers/browsertest"
	"corral/store"
)

// browserLogin signs in through the real form.
func browserLogin(b *browsertest.Browser, base, name, pass string) {
	b.Run(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		chromedp.SendKeys(`#username`, name),
		chromedp.SendKeys(`#password`, pass),
		chromedp.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="logout"]`),
	)
}

// TestAccounts_BrowserInvite is the whole invite flow in Chromium: the
// administrator makes a link, signs out; the new person opens it, chooses
// a password, and lands signed in on an empty dashboard.
func TestAccounts_BrowserInvite(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "alice-password")
	b := browsertest.New(t)
	browserLogin(b, s.URL, "alice", "alice-password")
	b.Run(
		chromedp.Click(`[data-testid="nav-settings"]`),
		chromedp.WaitVisible(`[data-testid="settings-nav-users"]`),
		chromedp.Click(`[data-testid="settings-nav-users"]`),
		chromedp.WaitVisible(`[data-testid="add-user-form"]`),
		chromedp.SendKeys(`#new-username`, "bob"),
		chromedp.Click(`[data-testid="add-user-submit"]`),
		chromedp.WaitVisible(`[data-testid="invite-link"]`),
	)
	b.Screenshot("link-made")
	link := browsertest.Get(b, chromedp.Value(`[data-testid="invite-link"]`))
	if !strings.HasPrefix(link, s.URL+"/invite/") {
		t.Fatalf("invite link %q", link)
	}
	if got := browsertest.Get(b, chromedp.Text(`[data-username="bob"] [data-testid="user-status"]`)); got != "Invited" {
		t.Fatalf("bob's status %q", got)
	}
	b.Run(
		chromedp.Click(`[data-testid="logout"]`),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		chromedp.Navigate(link),
		chromedp.WaitVisible(`[data-testid="invite-form"]`),
	)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="invite-username"]`)); got != "bob" {
		t.Fatalf("invite names %q", got)
	}
	b.Run(
		chromedp.SendKeys(`#pw-password`, "bob-password-1"),
		chromedp.SendKeys(`#pw-confirm`, "bob-password-2"),
		chromedp.Click(`[data-testid="invite-submit"]`),
		chromedp.WaitVisible(`[data-field="confirm"]`),
	)
	b.Screenshot("passwords-differ")
	b.Run(
		chromedp.SendKeys(`#pw-password`, "bob-password-1"),
		chromedp.SendKeys(`#pw-confirm`, "bob-password-1"),
		chromedp.Click(`[data-testid="invite-submit"]`),
		chromedp.WaitVisible(`[data-testid="no-nodes-banner"]`),
	)
	b.Screenshot("bob-dashboard")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="username"]`)); got != "bob" {
		t.Fatalf("signed in as %q", got)
	}
	if loc := browsertest.Get(b, chromedp.Location()); !strings.HasSuffix(loc, "/containers") {
		t.Fatalf("landed on %s", loc)
	}
	// The link is used up; bob signs in with his password from now on.
	b.Run(
		chromedp.Navigate(link),
		chromedp.WaitVisible(`[data-testid="error-page"]`),
	)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="error-page"]`)); !strings.Contains(got, "used already") {
		t.Fatalf("used link says %q", got)
	}
	if _, err := s.DB.Authenticate(t.Context(), "bob", "bob-password-1"); err != nil {
		t.Fatal(err)
	}
}

// TestAccounts_BrowserPages walks every new page on a desktop and a phone,
// light and dark, and checks that none is wider than the screen.
func TestAccounts_BrowserPages(t *testing.T) {
	s := newTestServer(t, func(d *handlers.Deps) {
		d.SSHGateway.Fingerprint, d.SSHGateway.Port = "SHA256:Nq4mRR0uYmvJ7yRb1xFhRZ0jQ6gU6s9k8yWcP3o2tXk", "2222"
	})
	ctx := t.Context()
	alice := s.withUser(t, "alice", "alice-password")
	bob := s.withUser(t, "bob", "bob-password")
	carol := s.withUser(t, "carol", "carol-password")
	if _, _, err := s.DB.CreateInvitedUser(ctx, "dave", store.RoleMember); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.SetUserDisabled(ctx, carol.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.RecordSignIn(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	// Another browser of alice's, for the sessions table.
	other := s.client(t)
	other.login("alice", "alice-password")
	for i, e := range []store.AuditEntry{
		{Kind: "login.failed", Username: "alice", Remote: "192.0.2.44"},
		{Kind: "node.add", UserID: alice.ID, Username: "alice", Target: "pve1", Detail: "node at 192.0.2.10:8006"},
		{Kind: "container.create", UserID: alice.ID, Username: "alice", Target: "pve1/105", Detail: "from template Docker host"},
		{Kind: "template.copy", UserID: bob.ID, Username: "bob", Target: "Docker host (copy)"},
		{Kind: "ssh.session.start", UserID: alice.ID, Username: "alice", Remote: "192.0.2.44:50122", Target: "pve1/105", Detail: "pty"},
		{Kind: "account.disable", UserID: alice.ID, Username: "alice", SubjectID: carol.ID, Target: "carol"},
	} {
		e.Time = s.clock.Now().Add(time.Duration(i-10) * time.Minute)
		if err := s.DB.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}

	b := browsertest.New(t)
	browserLogin(b, s.URL, "alice", "alice-password")
	pages := []struct{ name, path, ready string }{
		{"users", "/settings/users", `[data-testid="users"]`},
		{"account", "/settings/account", `[data-testid="sessions"]`},
		{"activity", "/settings/activity", `[data-testid="activity"]`},
	}
	for _, dark := range []bool{false, true} {
		scheme := "light"
		if dark {
			scheme = "dark"
		}
		b.Run(colorScheme(scheme))
		for _, width := range []int64{1280, 390} {
			b.SetViewport(width, 900)
			for _, p := range pages {
				b.Run(chromedp.Navigate(s.URL+p.path), chromedp.WaitVisible(p.ready))
				fitsWidth(t, b, p.name, width)
				wholePage(b, fmt.Sprintf("%s-%d-%s", p.name, width, scheme), width)
			}
		}
	}

	// The invite page, for someone signed out.
	token, err := s.DB.ResetPassword(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.Run(chromedp.Click(`[data-testid="logout"]`), chromedp.WaitVisible(`[data-testid="login-form"]`))
	for _, scheme := range []string{"light", "dark"} {
		b.Run(colorScheme(scheme))
		for _, width := range []int64{1280, 390} {
			b.SetViewport(width, 900)
			b.Run(chromedp.Navigate(s.URL+"/invite/"+url.PathEscape(token)), chromedp.WaitVisible(`[data-testid="invite-form"]`))
			fitsWidth(t, b, "invite", width)
			wholePage(b, fmt.Sprintf("invite-%d-%s", width, scheme), width)
		}
	}
}

// colorScheme makes the page's prefers-color-scheme light or dark.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// fitsWidth fails the test when the page scrolls sideways: wide tables
// must fit or scroll inside their own box.
func fitsWidth(t *testing.T, b *browsertest.Browser, page string, width int64) {
	t.Helper()
	w := browsertest.Get(b, chromedp.Evaluate[[]int64](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
	if w[0] > w[1] {
		t.Errorf("%s at %dpx is %dpx wide, more than the %dpx it has", page, width, w[0], w[1])
	}
}

// wholePage screenshots the whole page through a window as tall as it:
// capturing beyond a shorter window leaves out the scrollbar's width on
// the right.
func wholePage(b *browsertest.Browser, name string, width int64) {
	h := browsertest.Get(b, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	b.SetViewport(width, max(h, 900))
	b.Screenshot(name)
	b.SetViewport(width, 900)
}
