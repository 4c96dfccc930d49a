package handlers_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	gssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim"
)

// nodesNoPctHost is an SSH server on loopback that accepts the login but
// has no pct, like a plain Linux box.
func nodesNoPctHost(t *testing.T, password string) int {
	t.Helper()
	signer := newHostSigner(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &gssh.Server{
		Handler: func(s gssh.Session) {
			fmt.Fprintf(s.Stderr(), "bash: %s: command not found\n", strings.Fields(s.RawCommand())[0])
			_ = s.Exit(127)
		},
		PasswordHandler: func(_ gssh.Context, pw string) bool { return pw == password },
	}
	srv.AddHostKey(signer)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return strconv.Itoa(port)
}

// TestNodes_ProbeFailures: every way a new node can fail its test, in
// either phase, gets its own message, naming the host; nothing is stored,
// and the form comes back filled in with the secrets held for the retry.
func TestNodes_ProbeFailures(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	e.sim.AddToken(pvesim.TokenSpec{User: "corral@pve", ID: "bare", Secret: nodesOtherSecret, Privsep: true})
	noPct := nodesNoPctHost(t, nodesRootPassword)
	host := e.sim.Node("pve1").Host()
	// The SSH server without pct listens on 127.0.0.1; the API reaches
	// pve1 through a relay there.
	apiRelay := startRelay(t, e.sim.Node("pve1").Addr())

	cases := []struct {
		name   string
		modify func(url.Values)
		title  string
		want   []string // in the problem text
	}{
		{"WrongHost", func(f url.Values) { f.Set("host", "nonexistent.invalid") },
			"Host not found", []string{"nonexistent.invalid", "DNS"}},
		{"Refused", func(f url.Values) { f.Set("port", closedPort(t)) },
			"Connection refused", []string{host, "8006"}},
		{"BadToken", func(f url.Values) { f.Set("token_secret", "00000000-0000-4000-8000-000000000000") },
			"API token rejected", []string{nodesTokenID, "401"}},
		{"TokenWithoutPrivileges", func(f url.Values) {
			f.Set("token_id", "corral@pve!bare")
			f.Set("token_secret", nodesOtherSecret)
		}, "The API token has no privileges", []string{"Privilege Separation", "pveum acl modify / --tokens 'corral@pve!bare' --roles Corral", "pveum acl modify / --users 'corral@pve' --roles Corral", "VM.Allocate", "Sys.Audit"}},
		{"SSHPasswordWrong", func(f url.Values) { f.Set("ssh_password", "wrong password") },
			"SSH login refused", []string{host, `"root"`, "password"}},
		{"SSHRefused", func(f url.Values) { f.Set("ssh_port", closedPort(t)) },
			"SSH not reachable", []string{host}},
		{"PctMissing", func(f url.Values) {
			f.Set("host", "127.0.0.1")
			f.Set("port", apiRelay.port())
			f.Set("ssh_port", strconv.Itoa(noPct))
		},
			"pct not found", []string{"127.0.0.1:" + strconv.Itoa(noPct), "pct"}},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := e.nodesForm(t, "pve1", "n-"+tc.name)
			tc.modify(form)
			res := c.nodesTry("/settings/nodes", form)
			expectStatus(t, res, http.StatusUnprocessableEntity)
			if got := nodesText(res, "problem-title"); got != tc.title {
				t.Fatalf("title %q, want %q\n%s", got, tc.title, nodesText(res, "probe-error"))
			}
			all := nodesText(res, "probe-error")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problem text lacks %q:\n%s", w, all)
				}
			}
			msg := nodesText(res, "problem-message")
			if prev, dup := seen[msg]; dup {
				t.Errorf("same message as %s: %q", prev, msg)
			}
			seen[msg] = tc.name
			if v, _ := res.Doc.Find(`#name`).Attr("value"); v != "n-"+tc.name {
				t.Errorf("typed name not kept: %q", v)
			}
			if res.Doc.Find(`[data-testid="node-form"] input[name="pending"]`).Length() != 1 ||
				res.Doc.Find(`#token_secret`).AttrOr("placeholder", "") != "kept from your last try; leave empty to use it" {
				t.Errorf("the typed secrets are not held for the retry:\n%s", nodesText(res, "node-form"))
			}
			if len(nodesOf(t, e.testServer, u.ID)) != 0 {
				t.Fatal("a node that failed its test was stored")
			}
		})
	}
	if got := len(nodesAudit(t, e.testServer, "node.add")); got != 0 {
		t.Fatalf("%d node.add audit entries for failed tests", got)
	}
}

// TestNodes_Retrust: a rotated certificate or host key shows up in the
// status, and re-pinning is an explicit step showing old and new side by
// side.
func TestNodes_Retrust(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	n := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "one"))
	pve1 := e.sim.Node("pve1")
	oldFP, oldKey := pve1.Fingerprint(), n.SSHHostKey

	if err := pve1.RotateCertificate(); err != nil {
		t.Fatal(err)
	}
	res := c.get("/settings/nodes/"+n.ID+"/status", "HX-Request", "true")
	if got := nodesText(res, "node-status-label"); got != "certificate changed" {
		t.Fatalf("status %q", got)
	}
	if res.Doc.Find(`[data-testid="node-retrust"]`).Length() != 1 {
		t.Fatal("no re-trust link")
	}
	// An edit with a new secret also stops at the changed certificate.
	form := e.nodesForm(t, "pve1", "one")
	res = c.post("/settings/nodes/"+n.ID, form)
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="keys-changed"]`).Length() != 1 || nodesText(res, "tls-old") != oldFP {
		t.Fatalf("edit does not show the changed certificate:\n%s", res.Body)
	}
	if nodesOf(t, e.testServer, u.ID)[0].TLSFingerprint != oldFP {
		t.Fatal("edit re-pinned without confirmation")
	}

	// Re-trust is a form post with the CSRF token, not a link.
	status := c.get("/settings/nodes/"+n.ID+"/status", "HX-Request", "true")
	retrust := status.Doc.Find(`form[action="/settings/nodes/` + n.ID + `/retrust"]`)
	if retrust.AttrOr("method", "") != "post" || retrust.Find(`input[name="_csrf"]`).Length() != 1 || retrust.Find(`[data-testid="node-retrust"]`).Length() != 1 {
		t.Fatalf("re-trust is not a POST form:\n%s", status.Body)
	}
	res = c.post("/settings/nodes/"+n.ID+"/retrust", nil)
	expectStatus(t, res, http.StatusOK)
	if nodesText(res, "tls-old") != oldFP || nodesText(res, "tls-fingerprint") != pve1.Fingerprint() {
		t.Fatalf("old/new fingerprints %q / %q", nodesText(res, "tls-old"), nodesText(res, "tls-fingerprint"))
	}
	if res.Doc.Find(`[data-testid="ssh-old"]`).Length() != 0 {
		t.Fatal("the unchanged host key is shown as changed")
	}
	pending, _ := res.Doc.Find(`input[name="pending"]`).Attr("value")
	expectStatus(t, c.post("/settings/nodes/confirm", url.Values{"pending": {pending}}), http.StatusSeeOther)
	got := nodesOf(t, e.testServer, u.ID)[0]
	if got.TLSFingerprint != pve1.Fingerprint() || got.SSHHostKey != oldKey || got.TokenSecret != nodesTokenSecret {
		t.Fatalf("after re-trust: %q", got.TLSFingerprint)
	}
	if a := nodesAudit(t, e.testServer, "node.retrust"); len(a) != 1 || !strings.Contains(a[0].Detail, oldFP) {
		t.Fatalf("retrust audit %+v", a)
	}
	if nodesText(c.get("/settings/nodes/"+n.ID+"/status", "HX-Request", "true"), "node-status-label") != "reachable" {
		t.Fatal("not reachable after re-trust")
	}

	// Same for the SSH host key.
	if err := pve1.RotateHostKey(); err != nil {
		t.Fatal(err)
	}
	res = c.post("/settings/nodes/"+n.ID+"/test", nil, "HX-Request", "true")
	if got := nodesText(res, "node-status-label"); got != "host key changed" {
		t.Fatalf("status %q", got)
	}
	res = c.post("/settings/nodes/"+n.ID+"/retrust", nil)
	if nodesText(res, "ssh-old") != ssh.FingerprintSHA256(mustParseKey(t, oldKey)) ||
		nodesText(res, "ssh-fingerprint") != ssh.FingerprintSHA256(pve1.SSHHostKey()) {
		t.Fatalf("host keys shown %q / %q", nodesText(res, "ssh-old"), nodesText(res, "ssh-fingerprint"))
	}
	pending, _ = res.Doc.Find(`input[name="pending"]`).Attr("value")
	expectStatus(t, c.post("/settings/nodes/confirm", url.Values{"pending": {pending}}), http.StatusSeeOther)
	if nodesOf(t, e.testServer, u.ID)[0].SSHHostKey != authorizedKey(pve1.SSHHostKey()) {
		t.Fatal("host key not re-pinned")
	}

	// Nothing changed: nothing to re-trust.
	expectStatus(t, c.post("/settings/nodes/"+n.ID+"/retrust", nil), http.StatusSeeOther)

	// A rejected token shows in the status too.
	e.sim.RemoveToken(nodesTokenID)
	res = c.get("/settings/nodes/"+n.ID+"/status", "HX-Request", "true")
	if got := nodesText(res, "node-status-label"); got != "token rejected" {
		t.Fatalf("status %q", got)
	}
	// And a node that is down.
	if err := pve1.SetDown(true); err != nil {
		t.Fatal(err)
	}
	res = c.get("/settings/nodes/"+n.ID+"/status", "HX-Request", "true")
	if got := nodesText(res, "node-status-label"); got != "unreachable" {
		t.Fatalf("status %q", got)
	}
}

func mustParseKey(t *testing.T, authorized string) ssh.PublicKey {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestNodes_Isolation: every node route given another user's node id
// answers 404 and changes nothing; a pending confirmation is bound to its
// user.
func TestNodes_Isolation(t *testing.T) {
	e := nodesSetup(t)
	alice, au := e.nodesLogin(t, "alice")
	bob, bu := e.nodesLogin(t, "bob")
	a := e.nodesAdd(t, alice, au.ID, e.nodesForm(t, "pve1", "mine"))
	e.nodesAdd(t, bob, bu.ID, e.nodesForm(t, "pve2", "bobs"))

	form := e.nodesForm(t, "pve1", "stolen")
	for _, r := range []struct{ method, path string }{
		{"GET", "/settings/nodes/" + a.ID},
		{"POST", "/settings/nodes/" + a.ID},
		{"GET", "/settings/nodes/" + a.ID + "/status"},
		{"POST", "/settings/nodes/" + a.ID + "/test"},
		{"POST", "/settings/nodes/" + a.ID + "/retrust"},
		{"POST", "/settings/nodes/" + a.ID + "/default"},
		{"POST", "/settings/nodes/" + a.ID + "/delete"},
	} {
		var res *response
		if r.method == "GET" {
			res = bob.get(r.path)
		} else {
			res = bob.post(r.path, form)
		}
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s as bob: %d, want 404", r.method, r.path, res.StatusCode)
		}
	}
	got := nodesOf(t, e.testServer, au.ID)
	if len(got) != 1 || got[0].Name != "mine" || !got[0].IsDefault || !got[0].Updated.Equal(a.Updated) {
		t.Fatalf("alice's node changed: %+v", got)
	}
	if list := bob.get("/settings/nodes"); strings.Contains(list.Body, "mine") || strings.Contains(list.Body, a.ID) {
		t.Fatal("bob's list shows alice's node")
	}

	// Bob cannot redeem alice's pending confirmation; she still can.
	res := alice.post("/settings/nodes", e.nodesForm(t, "pve3", "third"))
	pending := pendingID(t, res)
	expectStatus(t, bob.post("/settings/nodes/confirm", url.Values{"pending": {pending}}), http.StatusSeeOther)
	if len(nodesOf(t, e.testServer, bu.ID)) != 1 {
		t.Fatal("bob stored alice's pending node")
	}
	expectStatus(t, alice.post("/settings/nodes/confirm", url.Values{"pending": {pending}}), http.StatusSeeOther)
	if len(nodesOf(t, e.testServer, au.ID)) != 2 {
		t.Fatal("alice's pending node was lost")
	}
}
