package handlers_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"

	"corral/handlers/browsertest"
)

// TestNodes_Browser adds a node through the real form in Chromium, in two
// phases: the fingerprints fetched without secrets are shown and trusted,
// then the authenticated checks fail on a token without privileges; the
// retry needs only the fixed token (the SSH password is held server-side),
// and the node is listed as the default. "Test again" shows that it runs and
// what it found.
func TestNodes_Browser(t *testing.T) {
	e := nodesSetup(t)
	u := e.withUser(t, "alice", "correct horse")
	pve1 := e.sim.Node("pve1")
	e.sim.AddToken(pvesimToken("corral@pve", "bare", nodesOtherSecret, false))

	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-settings"]`),
		browsertest.Click(`[data-testid="nav-settings"]`),
		chromedp.WaitVisible(`[data-testid="node-form"]`),
		browsertest.Click(`[data-testid="token-privileges"] summary`),
		chromedp.WaitVisible(`[data-testid="token-setup-commands"]`),
		browsertest.SendKeys(`#name`, "pve1"),
		browsertest.SendKeys(`#host`, pve1.Host()),
		chromedp.SetValue(`#port`, strconv.Itoa(pve1.Port())),
		browsertest.SendKeys(`#token_id`, "corral@pve!bare"),
		browsertest.SendKeys(`#token_secret`, nodesOtherSecret),
		chromedp.SetValue(`#ssh_port`, strconv.Itoa(sshPort(t, pve1.SSHAddr()))),
		browsertest.SendKeys(`#ssh_password`, nodesRootPassword),
	)
	b.Screenshot("form-filled")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="token-setup-commands"]`)); !strings.Contains(got, "pveum user token add corral@pve corral --privsep 1") {
		t.Fatalf("setup commands %q", got)
	}

	// Phase 1: the keys, fetched without any secret, to compare.
	b.Run(
		browsertest.Click(`[data-testid="node-submit"]`),
		chromedp.WaitVisible(`[data-testid="node-confirm"]`),
	)
	b.Screenshot("confirm")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="tls-fingerprint"]`)); strings.TrimSpace(got) != pve1.Fingerprint() {
		t.Fatalf("TLS fingerprint shown %q, want %q", got, pve1.Fingerprint())
	}
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="ssh-fingerprint"]`)); strings.TrimSpace(got) != ssh.FingerprintSHA256(pve1.SSHHostKey()) {
		t.Fatalf("SSH fingerprint shown %q", got)
	}
	if html := browsertest.Get(b, chromedp.OuterHTML(`html`)); strings.Contains(html, nodesOtherSecret) || strings.Contains(html, nodesRootPassword) {
		t.Fatal("a secret is in the confirm page")
	}

	// Phase 2 over the trusted keys: the privilege-separated token without
	// ACLs is explained, and the typed secrets are kept for the retry.
	b.Run(
		browsertest.Click(`[data-testid="node-confirm-submit"]`),
		chromedp.WaitVisible(`[data-testid="probe-error"]`),
	)
	b.Screenshot("no-privileges")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="problem-title"]`)); got != "The API token has no privileges" {
		t.Fatalf("problem %q", got)
	}
	if got := browsertest.Get(b, chromedp.Value(`#ssh_password`)); got != "" {
		t.Fatal("the password was sent back into the form")
	}
	if html := browsertest.Get(b, chromedp.OuterHTML(`html`)); strings.Contains(html, nodesOtherSecret) || strings.Contains(html, nodesRootPassword) {
		t.Fatal("a secret is in the retry form")
	}
	b.Run(chromedp.WaitVisible(`[data-testid="secrets-held"]`))
	if len(nodesOf(t, e.testServer, u.ID)) != 0 {
		t.Fatal("a node that failed its test was stored")
	}

	// The retry: only the token changes; the confirmed keys need no second look.
	b.Run(
		chromedp.SetValue(`#token_id`, nodesTokenID),
		browsertest.SendKeys(`#token_secret`, nodesTokenSecret),
		browsertest.Click(`[data-testid="node-submit"]`),
		chromedp.WaitVisible(`[data-testid="node-default"]`),
		chromedp.WaitVisible(`[data-testid="node-status-label"]`),
	)
	b.Screenshot("listed")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="node-status-label"]`)); got != "reachable" {
		t.Fatalf("status %q", got)
	}
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="flash"]`)); !strings.Contains(got, "default") || !strings.Contains(got, "homelab") {
		t.Fatalf("flash %q", got)
	}
	nodes := nodesOf(t, e.testServer, u.ID)
	if len(nodes) != 1 || !nodes[0].IsDefault || nodes[0].TLSFingerprint != pve1.Fingerprint() ||
		nodes[0].SSHPassword != nodesRootPassword || nodes[0].TokenSecret != nodesTokenSecret {
		t.Fatalf("stored %+v", nodes)
	}

	// Test again: the status cell comes back stamped with the time.
	b.Run(
		browsertest.Click(`[data-testid="node-test"]`),
		chromedp.WaitVisible(`[data-testid="node-status-tested"]`),
	)
	b.Screenshot("tested-again")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="node-status-tested"]`)); !strings.HasPrefix(got, "tested at ") {
		t.Fatalf("tested stamp %q", got)
	}
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="node-status-label"]`)); got != "reachable" {
		t.Fatalf("status after test again %q", got)
	}
}
