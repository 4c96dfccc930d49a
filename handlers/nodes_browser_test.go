package handlers_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/ssh"

	"corral/handlers/browsertest"
)

// TestNodes_Browser adds a node through the real form in Chromium, checks
// the fingerprints on the confirm page, trusts them, and sees the node as
// the default with its live status.
func TestNodes_Browser(t *testing.T) {
	e := nodesSetup(t)
	u := e.withUser(t, "alice", "correct horse")
	pve1 := e.sim.Node("pve1")

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
		browsertest.SendKeys(`#name`, "pve1"),
		browsertest.SendKeys(`#host`, pve1.Host()),
		chromedp.SetValue(`#port`, strconv.Itoa(pve1.Port())),
		browsertest.SendKeys(`#token_id`, nodesTokenID),
		browsertest.SendKeys(`#token_secret`, nodesTokenSecret),
		chromedp.SetValue(`#ssh_port`, strconv.Itoa(sshPort(t, pve1.SSHAddr()))),
		browsertest.SendKeys(`#ssh_password`, nodesRootPassword),
	)
	b.Screenshot("form-filled")

	// A privilege-separated token without ACLs: the trap is explained.
	e.sim.AddToken(pvesimToken("corral@pve", "bare", nodesOtherSecret, false))
	b.Run(
		chromedp.SetValue(`#token_id`, "corral@pve!bare"),
		chromedp.SetValue(`#token_secret`, nodesOtherSecret),
		browsertest.Click(`[data-testid="node-submit"]`),
		chromedp.WaitVisible(`[data-testid="probe-error"]`),
	)
	b.Screenshot("no-privileges")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="problem-title"]`)); got != "The API token has no privileges" {
		t.Fatalf("problem %q", got)
	}
	if got := browsertest.Get(b, chromedp.Value(`#token_secret`)); got != "" {
		t.Fatal("the secret was sent back into the form")
	}
	b.Run(
		chromedp.SetValue(`#token_id`, nodesTokenID),
		browsertest.SendKeys(`#token_secret`, nodesTokenSecret),
		browsertest.SendKeys(`#ssh_password`, nodesRootPassword),
	)

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
	if html := browsertest.Get(b, chromedp.OuterHTML(`html`)); strings.Contains(html, nodesTokenSecret) || strings.Contains(html, nodesRootPassword) {
		t.Fatal("a secret is in the confirm page")
	}

	b.Run(
		browsertest.Click(`[data-testid="node-confirm-submit"]`),
		chromedp.WaitVisible(`[data-testid="node-default"]`),
		chromedp.WaitVisible(`[data-testid="node-status-label"]`),
	)
	b.Screenshot("listed")
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="node-status-label"]`)); got != "reachable" {
		t.Fatalf("status %q", got)
	}
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="flash"]`)); !strings.Contains(got, "default") {
		t.Fatalf("flash %q", got)
	}
	nodes := nodesOf(t, e.testServer, u.ID)
	if len(nodes) != 1 || !nodes[0].IsDefault || nodes[0].TLSFingerprint != pve1.Fingerprint() {
		t.Fatalf("stored %+v", nodes)
	}
}
