package handlers_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"corral/handlers"
)

func newAuthorizedKey(t *testing.T, comment string) (line, fingerprint string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + " " + comment, ssh.FingerprintSHA256(k)
}

func TestSSHKeysPage(t *testing.T) {
	s := newTestServer(t, func(d *handlers.Deps) {
		d.SSHGateway = handlers.SSHGatewayInfo{Fingerprint: "SHA256:gatewaykey", Port: "2222"}
	})
	alice := s.withUser(t, "alice", "correct horse")
	s.withUser(t, "bob", "battery staple")
	a := s.client(t)
	a.login("alice", "correct horse")

	res := a.get("/settings/ssh-keys")
	expectStatus(t, res, http.StatusOK)
	if got := res.Doc.Find(`[data-testid="gateway-fingerprint"]`).Text(); got != "SHA256:gatewaykey" {
		t.Fatalf("gateway fingerprint shown = %q", got)
	}
	if !strings.Contains(res.Doc.Find(`[data-testid="gateway-examples"]`).Text(), "alice+105@") {
		t.Fatal("page does not show the alice+105 form")
	}

	line, fp := newAuthorizedKey(t, "alice@laptop")
	res = a.post("/settings/ssh-keys", url.Values{"label": {""}, "key": {line}})
	expectStatus(t, res, http.StatusSeeOther)
	res = a.get("/settings/ssh-keys")
	row := res.Doc.Find(`[data-testid="ssh-key"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), fp) || !strings.Contains(row.Text(), "alice@laptop") {
		t.Fatalf("key list: %q", row.Text())
	}

	for key, want := range map[string]string{
		line:                                  "already added",
		"ssh-ed25519 notbase64!!":             "Paste exactly one public key",
		"-----BEGIN OPENSSH PRIVATE KEY-----": "That is a private key",
		"":                                    "Paste a public key",
	} {
		res = a.post("/settings/ssh-keys", url.Values{"key": {key}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if got := res.Doc.Find(`[data-testid="key-error"]`).Text(); !strings.Contains(got, want) {
			t.Errorf("key %.20q: error %q, want %q", key, got, want)
		}
	}

	// Bob sees none of alice's keys and cannot delete them.
	b := s.client(t)
	b.login("bob", "battery staple")
	if b.get("/settings/ssh-keys").Doc.Find(`[data-testid="ssh-key"]`).Length() != 0 {
		t.Fatal("bob sees alice's key")
	}
	expectStatus(t, b.post("/settings/ssh-keys/delete", url.Values{"fingerprint": {fp}}), http.StatusNotFound)
	if keys, _ := s.DB.SSHKeys(context.Background(), alice.ID); len(keys) != 1 {
		t.Fatal("bob's delete removed alice's key")
	}

	expectStatus(t, a.post("/settings/ssh-keys/delete", url.Values{"fingerprint": {fp}, "_csrf": {"forged"}}), http.StatusForbidden)
	expectStatus(t, a.post("/settings/ssh-keys/delete", url.Values{"fingerprint": {fp}}), http.StatusSeeOther)
	if keys, _ := s.DB.SSHKeys(context.Background(), alice.ID); len(keys) != 0 {
		t.Fatal("key not deleted")
	}
	entries, _ := s.DB.AuditEntries(context.Background(), 20)
	var added, deleted bool
	for _, e := range entries {
		added = added || e.Kind == "sshkey.add"
		deleted = deleted || e.Kind == "sshkey.delete"
	}
	if !added || !deleted {
		t.Fatal("key changes were not audited")
	}
}

// TestSSHKeysPrivateKeyNeverEchoed pastes a real private key: it is
// refused, and nothing of it comes back in the page. Messages carry the
// rule, not the store's internal prefixes.
func TestSSHKeysPrivateKeyNeverEchoed(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "correct horse")
	a := s.client(t)
	a.login("alice", "correct horse")
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "alice@laptop")
	if err != nil {
		t.Fatal(err)
	}
	pemText := string(pem.EncodeToMemory(block))
	res := a.post("/settings/ssh-keys", url.Values{"label": {"laptop"}, "key": {pemText}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := res.Doc.Find(`textarea[name="key"]`).Text(); got != "" {
		t.Fatalf("the textarea holds %q", got)
	}
	body := strings.Split(strings.TrimSpace(pemText), "\n")
	for _, line := range body[1 : len(body)-1] {
		if strings.Contains(res.Body, line) {
			t.Fatalf("private key material %q is in the page", line)
		}
	}
	if got := res.Doc.Find(`[data-testid="key-error"]`).Text(); !strings.HasPrefix(got, "That is a private key") {
		t.Errorf("error %q", got)
	}

	long := strings.Repeat("x", 200)
	line, _ := newAuthorizedKey(t, "x")
	res = a.post("/settings/ssh-keys", url.Values{"label": {long}, "key": {line}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := res.Doc.Find(`[data-testid="key-error"]`).Text(); !strings.HasPrefix(got, "Label must be at most") || strings.Contains(got, "invalid") {
		t.Errorf("label error %q", got)
	}
}
