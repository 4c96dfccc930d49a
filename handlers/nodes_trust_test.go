package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim"
)

// nothingReached fails when an impostor saw a request or a login attempt.
func nothingReached(t *testing.T, step string, api *captureTLS, sshd *captureSSH) {
	t.Helper()
	if api != nil {
		if got := api.requests(); len(got) != 0 {
			t.Fatalf("%s: requests reached the unconfirmed certificate: %q", step, got)
		}
	}
	if sshd != nil {
		if got := sshd.attempts(); len(got) != 0 {
			t.Fatalf("%s: login attempts reached the unconfirmed host key: %q", step, got)
		}
	}
}

// expectNoGetRoute fails unless the GET found no route (Echo answers 404
// or 405 for a path served only by POST).
func expectNoGetRoute(t *testing.T, res *response) {
	t.Helper()
	if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET %s: status %d, want no such route", res.Request.URL.Path, res.StatusCode)
	}
}

// TestNodes_EditAddressAsksForSecrets: an edit that points the node at
// another host or port with the secret fields left empty asks for the
// secrets again, and nothing, stored secret or request, reaches the new
// address. Secrets typed for it wait until the user confirmed its keys.
func TestNodes_EditAddressAsksForSecrets(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	n := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "one"))
	api, sshd := startCaptureTLS(t), startCaptureSSH(t)

	unchanged := func(t *testing.T) {
		t.Helper()
		got := nodesOf(t, e.testServer, u.ID)[0]
		if got.Port != n.Port || got.SSHPort != n.SSHPort || got.Host != n.Host || got.TLSFingerprint != n.TLSFingerprint ||
			got.TokenSecret != nodesTokenSecret || got.SSHPassword != nodesRootPassword {
			t.Fatalf("the node changed: %+v", got)
		}
	}
	emptySecrets := func(modify func(url.Values)) url.Values {
		f := e.nodesForm(t, "pve1", "one")
		f.Del("token_secret")
		f.Del("ssh_password")
		modify(f)
		return f
	}
	cases := []struct {
		name       string
		modify     func(url.Values)
		wantErrors []string
	}{
		{"APIPort", func(f url.Values) { f.Set("port", api.port()) }, []string{"token_secret"}},
		{"SSHPort", func(f url.Values) { f.Set("ssh_port", sshd.port()) }, []string{"ssh_password"}},
		{"Host", func(f url.Values) {
			f.Set("host", "localhost")
			f.Set("port", api.port())
			f.Set("ssh_port", sshd.port())
		}, []string{"token_secret", "ssh_password"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.post("/settings/nodes/"+n.ID, emptySecrets(tc.modify))
			expectStatus(t, res, http.StatusUnprocessableEntity)
			for _, field := range []string{"token_secret", "ssh_password"} {
				msg := nodesText(res, "error-"+field)
				if want := slices.Contains(tc.wantErrors, field); want != strings.Contains(msg, "again") {
					t.Errorf("%s: error %q, want one asking again: %v", field, msg, want)
				}
			}
			nothingReached(t, tc.name, api, sshd)
			unchanged(t)
		})
	}

	// Typed again, the secrets still wait for the new keys to be confirmed.
	f := emptySecrets(cases[2].modify)
	f.Set("token_secret", nodesOtherSecret)
	f.Set("ssh_password", "typed-for-the-new-host")
	res := c.post("/settings/nodes/"+n.ID, f)
	expectStatus(t, res, http.StatusOK)
	if nodesText(res, "tls-fingerprint") != api.fingerprint() || nodesText(res, "tls-old") != n.TLSFingerprint ||
		nodesText(res, "ssh-fingerprint") != ssh.FingerprintSHA256(sshd.key) {
		t.Fatalf("the confirm page does not show the new keys next to the old:\n%s", nodesText(res, "node-confirm"))
	}
	nothingReached(t, "scan", api, sshd)
	unchanged(t)

	// Confirmed, the typed token goes to exactly that certificate; the
	// stored one never does.
	res = c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	got := api.requests()
	if len(got) == 0 || !strings.Contains(got[0], nodesOtherSecret) {
		t.Fatalf("after confirmation the typed token did not go to the confirmed certificate: %q", got)
	}
	for _, r := range got {
		if strings.Contains(r, nodesTokenSecret) {
			t.Fatalf("the stored token reached a new address: %q", r)
		}
	}
	unchanged(t)
}

// TestNodes_RetrustSendsNothingBeforeConfirmation: when an impostor takes
// over a node's address with another certificate or host key, the status
// shows it, re-trust is a CSRF-checked POST (GET does nothing), and its scan
// sends the impostor no secret; only the user's confirmation does.
func TestNodes_RetrustSendsNothingBeforeConfirmation(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	pve1 := e.sim.Node("pve1")
	apiRelay, sshRelay := startRelay(t, pve1.Addr()), startRelay(t, pve1.SSHAddr())
	form := e.nodesForm(t, "pve1", "one")
	form.Set("host", "127.0.0.1") // where the relays listen
	form.Set("port", apiRelay.port())
	form.Set("ssh_port", sshRelay.port())
	n := e.nodesAdd(t, c, u.ID, form)
	if n.TLSFingerprint != pve1.Fingerprint() {
		t.Fatal("not pinned to the node behind the relay")
	}

	t.Run("Certificate", func(t *testing.T) {
		api := startCaptureTLS(t)
		apiRelay.switchTo(api.addr())
		t.Cleanup(func() { apiRelay.switchTo(pve1.Addr()) })

		res := c.post("/settings/nodes/"+n.ID+"/test", nil, "HX-Request", "true")
		if got := nodesText(res, "node-status-label"); got != "certificate changed" {
			t.Fatalf("status %q", got)
		}
		nothingReached(t, "status", api, nil)

		expectNoGetRoute(t, c.get("/settings/nodes/"+n.ID+"/retrust"))
		nothingReached(t, "GET retrust", api, nil)
		res = c.post("/settings/nodes/"+n.ID+"/retrust", url.Values{"_csrf": {"forged"}})
		expectStatus(t, res, http.StatusForbidden)
		nothingReached(t, "forged POST retrust", api, nil)

		res = c.post("/settings/nodes/"+n.ID+"/retrust", nil)
		expectStatus(t, res, http.StatusOK)
		if nodesText(res, "tls-old") != pve1.Fingerprint() || nodesText(res, "tls-fingerprint") != api.fingerprint() {
			t.Fatalf("old/new %q / %q", nodesText(res, "tls-old"), nodesText(res, "tls-fingerprint"))
		}
		nothingReached(t, "POST retrust", api, nil)

		// The user's confirmation is what sends the token there.
		res = c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if got := nodesText(res, "problem-title"); got != "API token rejected" {
			t.Fatalf("problem %q", got)
		}
		if got := api.requests(); len(got) == 0 || !strings.Contains(got[0], nodesTokenSecret) {
			t.Fatalf("confirmed, the token did not go out: %q", got)
		}
		if got := nodesOf(t, e.testServer, u.ID)[0]; got.TLSFingerprint != pve1.Fingerprint() {
			t.Fatal("a failed re-trust re-pinned the node")
		}
	})

	t.Run("HostKey", func(t *testing.T) {
		sshd := startCaptureSSH(t)
		sshRelay.switchTo(sshd.addr())
		t.Cleanup(func() { sshRelay.switchTo(pve1.SSHAddr()) })

		res := c.post("/settings/nodes/"+n.ID+"/test", nil, "HX-Request", "true")
		if got := nodesText(res, "node-status-label"); got != "host key changed" {
			t.Fatalf("status %q", got)
		}
		nothingReached(t, "status", nil, sshd)
		expectNoGetRoute(t, c.get("/settings/nodes/"+n.ID+"/retrust"))
		nothingReached(t, "GET retrust", nil, sshd)

		res = c.post("/settings/nodes/"+n.ID+"/retrust", nil)
		expectStatus(t, res, http.StatusOK)
		if nodesText(res, "ssh-old") != ssh.FingerprintSHA256(pve1.SSHHostKey()) || nodesText(res, "ssh-fingerprint") != ssh.FingerprintSHA256(sshd.key) {
			t.Fatalf("old/new %q / %q", nodesText(res, "ssh-old"), nodesText(res, "ssh-fingerprint"))
		}
		if res.Doc.Find(`[data-testid="tls-old"]`).Length() != 0 {
			t.Fatal("the unchanged certificate is shown as changed")
		}
		nothingReached(t, "POST retrust", nil, sshd)

		res = c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if got := nodesText(res, "problem-title"); got != "SSH login refused" {
			t.Fatalf("problem %q\n%s", got, e.log.String())
		}
		if got := sshd.attempts(); len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), nodesRootPassword) {
			t.Fatalf("confirmed, the password did not go out: %q", got)
		}
		if got := nodesOf(t, e.testServer, u.ID)[0]; got.SSHHostKey != authorizedKey(pve1.SSHHostKey()) {
			t.Fatal("a failed re-trust re-pinned the node")
		}
	})
}

// TestNodes_AddSendsNothingBeforeConfirmation: adding a node fetches its
// keys with no credential; an endpoint swapped between the two phases gets
// nothing either, because the authenticated checks run over exactly the
// keys the user confirmed. A retry reuses the held secrets and keys.
func TestNodes_AddSendsNothingBeforeConfirmation(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	api, sshd := startCaptureTLS(t), startCaptureSSH(t)

	// Straight at two impostors: the confirm page shows their keys, and
	// that is all they get.
	form := e.nodesForm(t, "pve1", "one")
	form.Set("host", "127.0.0.1") // where the impostors and relays listen
	form.Set("port", api.port())
	form.Set("ssh_port", sshd.port())
	res := c.post("/settings/nodes", form)
	expectStatus(t, res, http.StatusOK)
	if nodesText(res, "tls-fingerprint") != api.fingerprint() || nodesText(res, "ssh-fingerprint") != ssh.FingerprintSHA256(sshd.key) {
		t.Fatal("the confirm page does not show the presented keys")
	}
	nothingReached(t, "add", api, sshd)

	// Swapped between the phases: the real node is confirmed, an impostor answers.
	pve1 := e.sim.Node("pve1")
	apiRelay, sshRelay := startRelay(t, pve1.Addr()), startRelay(t, pve1.SSHAddr())
	form.Set("port", apiRelay.port())
	form.Set("ssh_port", sshRelay.port())
	res = c.post("/settings/nodes", form)
	if nodesText(res, "tls-fingerprint") != pve1.Fingerprint() {
		t.Fatal("the relay does not reach pve1")
	}
	apiRelay.switchTo(api.addr())
	res = c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := nodesText(res, "problem-title"); got != "Certificate changed" {
		t.Fatalf("problem %q", got)
	}
	nothingReached(t, "certificate swapped", api, sshd)

	apiRelay.switchTo(pve1.Addr())
	res = c.post("/settings/nodes", form)
	sshRelay.switchTo(sshd.addr())
	res = c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := nodesText(res, "problem-title"); got != "SSH host key changed" {
		t.Fatalf("problem %q", got)
	}
	nothingReached(t, "host key swapped", api, sshd)
	if len(nodesOf(t, e.testServer, u.ID)) != 0 {
		t.Fatal("a node that failed its test was stored")
	}

	// The real node back: the retry needs neither the secrets nor another
	// confirmation of the keys already confirmed.
	sshRelay.switchTo(pve1.SSHAddr())
	retry := url.Values{"pending": {pendingID(t, res)}}
	for _, k := range []string{"name", "host", "port", "token_id", "ssh_user", "ssh_port"} {
		retry.Set(k, form.Get(k))
	}
	expectStatus(t, c.post("/settings/nodes", retry), http.StatusSeeOther)
	nodes := nodesOf(t, e.testServer, u.ID)
	if len(nodes) != 1 || nodes[0].TokenSecret != nodesTokenSecret || nodes[0].SSHPassword != nodesRootPassword ||
		nodes[0].TLSFingerprint != pve1.Fingerprint() || nodes[0].SSHHostKey != authorizedKey(pve1.SSHHostKey()) {
		t.Fatalf("stored %+v", nodes)
	}
}

// TestNodes_RetryKeepsSecrets: a failed test keeps what was typed
// server-side (never in the page), so fixing one field is enough; the held
// secrets belong to their user only.
func TestNodes_RetryKeepsSecrets(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	bob, bu := e.nodesLogin(t, "bob")
	e.sim.AddToken(pvesim.TokenSpec{User: "corral@pve", ID: "bare", Secret: nodesOtherSecret, Privsep: true})

	retryWith := func(res *response, fields map[string]string) url.Values {
		t.Helper()
		f := url.Values{"pending": {pendingID(t, res)}}
		res.Doc.Find(`[data-testid="node-form"] input[type="text"]`).Each(func(_ int, s *goquerySelection) {
			f.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
		})
		for k, v := range fields {
			f.Set(k, v)
		}
		return f
	}

	// A wrong token secret: typing the right one is all the retry needs.
	form := e.nodesForm(t, "pve1", "one")
	form.Set("token_secret", "00000000-0000-4000-8000-000000000000")
	res := c.nodesTry("/settings/nodes", form)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if res.Doc.Find(`[data-testid="secrets-held"]`).Length() != 1 ||
		res.Doc.Find(`#ssh_password`).AttrOr("placeholder", "") != "kept from your last try; leave empty to use it" {
		t.Fatalf("the form does not say the secrets are kept:\n%s", nodesText(res, "node-form"))
	}
	res.Doc.Find(`input[type="password"], textarea`).Each(func(_ int, s *goquerySelection) {
		if v := s.AttrOr("value", "") + s.Text(); v != "" {
			t.Errorf("secret field %s rendered with a value", s.AttrOr("name", ""))
		}
	})
	// Bob cannot use alice's held secrets: his form asks for them.
	stolen := retryWith(res, map[string]string{"name": "stolen"})
	res2 := bob.post("/settings/nodes", stolen)
	expectStatus(t, res2, http.StatusUnprocessableEntity)
	if res2.Doc.Find(`[data-testid="error-ssh_password"]`).Length() != 1 || len(nodesOf(t, e.testServer, bu.ID)) != 0 {
		t.Fatal("bob used alice's held secrets")
	}
	// Alice's id was not used up by bob's try.
	res = c.post("/settings/nodes", retryWith(res, map[string]string{"token_secret": nodesTokenSecret}))
	expectStatus(t, res, http.StatusSeeOther)
	one := nodesOf(t, e.testServer, u.ID)
	if len(one) != 1 || one[0].SSHPassword != nodesRootPassword || one[0].TokenSecret != nodesTokenSecret {
		t.Fatalf("stored %+v", one)
	}

	// A wrong API port: fixing it asks for the token secret again (it was
	// typed for the other address); the SSH password, whose address did not
	// change, is still kept.
	form = e.nodesForm(t, "pve1", "three")
	form.Set("port", closedPort(t))
	res = c.post("/settings/nodes", form)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := nodesText(res, "problem-title"); got != "Connection refused" {
		t.Fatalf("problem %q", got)
	}
	res = c.post("/settings/nodes", retryWith(res, map[string]string{"port": strconv.Itoa(e.sim.Node("pve1").Port())}))
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if msg := nodesText(res, "error-token_secret"); !strings.Contains(msg, "again") {
		t.Fatalf("token secret error %q", msg)
	}
	if res.Doc.Find(`[data-testid="error-ssh_password"]`).Length() != 0 ||
		res.Doc.Find(`#ssh_password`).AttrOr("placeholder", "") != "kept from your last try; leave empty to use it" {
		t.Fatal("the SSH password typed for an unchanged address was dropped")
	}
	res = c.nodesTry("/settings/nodes", retryWith(res, map[string]string{"token_secret": nodesTokenSecret}))
	expectStatus(t, res, http.StatusSeeOther)
	if got := nodesOf(t, e.testServer, u.ID); len(got) != 2 || got[1].SSHPassword != nodesRootPassword {
		t.Fatalf("stored %+v", got)
	}

	// A token without privileges: grant them on the node, retry with nothing typed.
	form = e.nodesForm(t, "pve2", "two")
	form.Set("token_id", "corral@pve!bare")
	form.Set("token_secret", nodesOtherSecret)
	res = c.nodesTry("/settings/nodes", form)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := nodesText(res, "problem-title"); got != "The API token has no privileges" {
		t.Fatalf("problem %q", got)
	}
	e.sim.AddToken(pvesim.TokenSpec{User: "corral@pve", ID: "bare", Secret: nodesOtherSecret, Privsep: true, Privileges: pvesim.CorralACL()})
	expectStatus(t, c.post("/settings/nodes", retryWith(res, nil)), http.StatusSeeOther)
	if got := nodesOf(t, e.testServer, u.ID); len(got) != 3 || got[2].TokenSecret != nodesOtherSecret {
		t.Fatalf("stored %+v", got)
	}

	// An edit with a wrong SSH password: retyping it fixes it, the token is kept.
	n := one[0]
	edit := e.nodesForm(t, "pve1", "one")
	edit.Set("ssh_password", "wrong password")
	edit.Del("token_secret")
	res = c.nodesTry("/settings/nodes/"+n.ID, edit)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := nodesText(res, "problem-title"); got != "SSH login refused" {
		t.Fatalf("problem %q", got)
	}
	if res.Doc.Find(`#token_secret`).AttrOr("placeholder", "") != "stored; leave empty to keep it" {
		t.Fatal("the stored token is not offered for the retry")
	}
	expectStatus(t, c.post("/settings/nodes/"+n.ID, retryWith(res, map[string]string{"ssh_password": nodesRootPassword})), http.StatusSeeOther)
	if got := nodesOf(t, e.testServer, u.ID)[0]; got.SSHPassword != nodesRootPassword || got.TokenSecret != nodesTokenSecret {
		t.Fatal("the edit changed the secrets")
	}
}
