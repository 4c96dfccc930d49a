package handlers_test

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/exec/access"
	"corral/exec/gateway"
)

// TestUsers_DisabledOnGateway: a disabled account is refused by the SSH
// gateway with its password and with its key, told why in a banner, and
// disabling it from the web cuts the connection it already had.
func TestUsers_DisabledOnGateway(t *testing.T) {
	s, _, bob, ac, _ := adminSetup(t)
	key := throttleKey(t)
	if _, err := s.DB.AddSSHKey(t.Context(), bob.ID, "laptop", string(ssh.MarshalAuthorizedKey(key.PublicKey()))); err != nil {
		t.Fatal(err)
	}
	hostKey := throttleKey(t)
	gw, err := gateway.NewServer(gateway.Config{HostKey: hostKey, Logger: slog.New(slog.DiscardHandler)}, gateway.Deps{
		Auth:      access.GatewayAuth{Accounts: s.DB},
		Directory: emptyDirectory{},
		Audit:     access.GatewayAuditor{Log: s.DB, Keys: s.DB, SignIns: s.DB},
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gw.Serve(l)
	t.Cleanup(func() { gw.Close() })
	s.H.UseGateway(gw)
	dial := func(auth ssh.AuthMethod) (*ssh.Client, string, error) {
		var banner strings.Builder
		c, err := ssh.Dial("tcp", l.Addr().String(), &ssh.ClientConfig{
			User: "bob", Auth: []ssh.AuthMethod{auth}, HostKeyCallback: ssh.FixedHostKey(hostKey.PublicKey()),
			BannerCallback: func(m string) error { banner.WriteString(m); return nil }, Timeout: time.Minute,
		})
		return c, banner.String(), err
	}

	open, _, err := dial(ssh.PublicKeys(key))
	if err != nil {
		t.Fatalf("bob's key before disabling: %v", err)
	}
	defer open.Close()
	if u, _ := s.DB.UserByID(t.Context(), bob.ID); u.LastSignIn.IsZero() {
		t.Error("an SSH sign-in is not recorded as the last sign-in")
	}
	expectStatus(t, ac.post("/settings/users/"+bob.ID+"/disable", nil), http.StatusSeeOther)
	done := make(chan error, 1)
	go func() { done <- open.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("bob's SSH connection outlived disabling")
	}
	for name, auth := range map[string]ssh.AuthMethod{"password": ssh.Password("bob-password"), "key": ssh.PublicKeys(key)} {
		c, banner, err := dial(auth)
		if err == nil {
			c.Close()
			t.Fatalf("disabled bob signed in with his %s", name)
		}
		if !strings.Contains(banner, "disabled") {
			t.Errorf("%s refusal without a reason: banner %q", name, banner)
		}
	}
	if _, banner, _ := dial(ssh.Password("wrong")); strings.Contains(banner, "disabled") {
		t.Error("a wrong password learns that the account is disabled")
	}
}
