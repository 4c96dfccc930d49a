package store

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func newPubKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func authorizedLine(k ssh.PublicKey, comment string) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) + " " + comment + "\n"
}

func TestDB_SSHKeys(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	db, _ := mustOpen(t, withClock(clock))
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	k1, k2 := newPubKey(t), newPubKey(t)

	added, err := db.AddSSHKey(ctx, alice.ID, "", authorizedLine(k1, "alice@laptop"))
	if err != nil {
		t.Fatal(err)
	}
	if added.Label != "alice@laptop" || added.Type != "ssh-ed25519" || added.Fingerprint != ssh.FingerprintSHA256(k1) {
		t.Fatalf("added = %+v", added)
	}
	clock.Add(time.Minute)
	if _, err := db.AddSSHKey(ctx, alice.ID, "desktop", authorizedLine(k2, "x")); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrConflict", func(t *testing.T) {
		if _, err := db.AddSSHKey(ctx, alice.ID, "again", authorizedLine(k1, "")); !errors.Is(err, ErrConflict) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, bad := range []string{"", "ssh-ed25519 AAAA", "hello world", authorizedLine(k1, "a") + authorizedLine(k2, "b")} {
			if _, err := db.AddSSHKey(ctx, alice.ID, "x", bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddSSHKey(%q) err = %v", bad, err)
			}
		}
	})
	t.Run("List", func(t *testing.T) {
		keys, err := db.SSHKeys(ctx, alice.ID)
		if err != nil || len(keys) != 2 || keys[0].Label != "alice@laptop" || keys[1].Label != "desktop" {
			t.Fatalf("SSHKeys = %+v, %v", keys, err)
		}
		if keys, _ := db.SSHKeys(ctx, bob.ID); len(keys) != 0 {
			t.Fatalf("bob sees %v", keys)
		}
	})
	t.Run("UserForSSHKey", func(t *testing.T) {
		clock.Add(time.Hour)
		u, err := db.UserForSSHKey(ctx, "ALICE", k1.Marshal())
		if err != nil || u.ID != alice.ID {
			t.Fatalf("UserForSSHKey = %+v, %v", u, err)
		}
		keys, _ := db.SSHKeys(ctx, alice.ID)
		if !keys[0].LastUsed.IsZero() {
			t.Fatal("a key lookup (which a mere offer triggers) recorded a use")
		}
		if err := db.TouchSSHKey(ctx, alice.ID, keys[0].Fingerprint); err != nil {
			t.Fatal(err)
		}
		if err := db.TouchSSHKey(ctx, bob.ID, keys[0].Fingerprint); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob touched alice's key: %v", err)
		}
		keys, _ = db.SSHKeys(ctx, alice.ID)
		if !keys[0].LastUsed.Equal(clock.Now()) || !keys[1].LastUsed.IsZero() {
			t.Fatalf("LastUsed = %v / %v", keys[0].LastUsed, keys[1].LastUsed)
		}
		for name, tc := range map[string]struct {
			user string
			key  []byte
		}{
			"other user's key": {"bob", k1.Marshal()},
			"unknown key":      {"alice", newPubKey(t).Marshal()},
			"unknown user":     {"carol", k1.Marshal()},
			"garbage":          {"alice", []byte("junk")},
		} {
			if _, err := db.UserForSSHKey(ctx, tc.user, tc.key); !errors.Is(err, ErrBadCredentials) {
				t.Errorf("%s: err = %v", name, err)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := db.DeleteSSHKey(ctx, bob.ID, added.Fingerprint); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob deleted alice's key: %v", err)
		}
		if err := db.DeleteSSHKey(ctx, alice.ID, added.Fingerprint); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UserForSSHKey(ctx, "alice", k1.Marshal()); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("deleted key still logs in: %v", err)
		}
	})
}
