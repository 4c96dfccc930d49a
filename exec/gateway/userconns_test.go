package gateway

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestGateway_DisconnectUser: an account that is disabled loses its open
// connections at once, a running command included; other users keep
// theirs.
func TestGateway_DisconnectUser(t *testing.T) {
	env := startGateway(t, nil)
	byPassword := env.mustDial(t, "alice")
	byKey := env.mustDial(t, "alice", ssh.PublicKeys(env.aliceKey))
	bob := env.mustDial(t, "bob")

	s, err := byPassword.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stdin, _ := s.StdinPipe()
	defer stdin.Close()
	stdout, _ := s.StdoutPipe()
	if err := s.Start("105 -- sh -c 'echo up; cat'"); err != nil {
		t.Fatal(err)
	}
	readUntil(t, stdout, "up")

	if n := env.srv.DisconnectUser("u-alice"); n != 2 {
		t.Fatalf("DisconnectUser closed %d connections, want 2", n)
	}
	if err := s.Wait(); err == nil {
		t.Fatal("the running command ended cleanly; want it cut")
	}
	for name, c := range map[string]*ssh.Client{"password": byPassword, "key": byKey} {
		if _, err := c.NewSession(); err == nil {
			t.Errorf("alice's %s connection still opens sessions", name)
		}
	}
	if _, _, code := run(t, bob, "205 -- true", ""); code != 0 {
		t.Fatalf("bob's connection suffered: %d", code)
	}
	if n := env.srv.DisconnectUser("u-alice"); n != 0 {
		t.Fatalf("closed connections are still tracked: %d", n)
	}
}
