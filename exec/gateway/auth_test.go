package gateway

import (
	"testing"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// identSession is just enough of a session for identity.
type identSession struct {
	gliderssh.Session
	user  string
	perms *ssh.Permissions
	key   gliderssh.PublicKey
}

func (s identSession) User() string                   { return s.user }
func (s identSession) PublicKey() gliderssh.PublicKey { return s.key }
func (s identSession) Permissions() gliderssh.Permissions {
	return gliderssh.Permissions{Permissions: s.perms}
}

func TestIdentity(t *testing.T) {
	alice := UserRef{ID: "u-alice", Name: "alice"}
	aliceKey, bobKey := newSigner(t).PublicKey(), newSigner(t).PublicKey()
	tests := []struct {
		name string
		s    identSession
		ok   bool
	}{
		{"password", identSession{user: "alice+105", perms: loginPermissions(alice, "alice+105", "password", nil)}, true},
		{"key", identSession{user: "alice", perms: loginPermissions(alice, "alice", "publickey", aliceKey), key: aliceKey}, true},
		{"no permissions", identSession{user: "alice"}, false},
		{"user name changed after login", identSession{user: "bob", perms: loginPermissions(alice, "alice", "password", nil)}, false},
		{"other key in session", identSession{user: "alice", perms: loginPermissions(alice, "alice", "publickey", aliceKey), key: bobKey}, false},
		{"key method without key", identSession{user: "alice", perms: loginPermissions(alice, "alice", "publickey", aliceKey)}, false},
		{"password login with a key", identSession{user: "alice", perms: loginPermissions(alice, "alice", "password", nil), key: bobKey}, false},
		{"unknown method", identSession{user: "alice", perms: loginPermissions(alice, "alice", "none", nil)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := identity(tt.s)
			if ok != tt.ok || ok && got != alice {
				t.Errorf("identity = %+v, %v; want ok=%v", got, ok, tt.ok)
			}
		})
	}
}
