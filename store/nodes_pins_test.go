package store

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Pins, sealing and name uniqueness of node records, beyond nodes_test.go.

// TestDB_NodePinsRoundTrip: everything the add flow pins and learns comes
// back unchanged, on create and on update.
func TestDB_NodePinsRoundTrip(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")
	in := testNode(alice.ID, "pve1")
	in.SSHPassword, in.SSHKey = "", "-----BEGIN OPENSSH PRIVATE KEY-----\nk3y-Plaintext-Q\n-----END OPENSSH PRIVATE KEY-----"
	in.TLSFingerprint = "80:D4:F2:DF"
	in.SSHHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOn"
	in.ClusterName, in.ClusterKey, in.PVEVersion = "homelab", "cluster:homelab:abc", "9.1.2"
	n, err := db.CreateNode(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Node(ctx, alice.ID, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TLSFingerprint != in.TLSFingerprint || got.SSHHostKey != in.SSHHostKey || got.ClusterKey != in.ClusterKey ||
		got.ClusterName != in.ClusterName || got.PVEVersion != in.PVEVersion || got.SSHKey != in.SSHKey || got.SSHPassword != "" {
		t.Fatalf("round trip = %+v", got)
	}
	edit := got
	edit.TLSFingerprint, edit.SSHHostKey, edit.SSHKey, edit.TokenSecret = "AA:BB", "ssh-ed25519 AAAAnew", "", ""
	up, err := db.UpdateNode(ctx, alice.ID, edit)
	if err != nil {
		t.Fatal(err)
	}
	if up.TLSFingerprint != "AA:BB" || up.SSHHostKey != "ssh-ed25519 AAAAnew" || up.SSHKey != in.SSHKey || up.TokenSecret != in.TokenSecret {
		t.Fatalf("re-pin = %+v", up)
	}
}

// TestDB_NodeSealingAcrossUsers: the SSH key is sealed too, and a sealed
// value copied onto another user's record does not open.
func TestDB_NodeSealingAcrossUsers(t *testing.T) {
	ctx := t.Context()
	db, path := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	in := testNode(alice.ID, "pve1")
	in.SSHPassword, in.SSHKey = "", "PRIVATE-k3y-Plaintext-Q"
	a, err := db.CreateNode(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b := mustNode(t, db, bob.ID, "pve1")
	if raw := rawFile(t, path); bytes.Contains(raw, []byte("k3y-Plaintext-Q")) {
		t.Fatal("the SSH key is in plaintext in the database file")
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		ra, err := nodeRecordByID(tx, alice.ID, a.ID)
		if err != nil {
			return err
		}
		rb, err := nodeRecordByID(tx, bob.ID, b.ID)
		if err != nil {
			return err
		}
		rb.SSHPassword, rb.SSHKey = nil, ra.SSHKey
		return put(userBucket(tx, bucketNodes, bob.ID), []byte(rb.ID), rb)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Node(ctx, bob.ID, b.ID); !errors.Is(err, ErrUnseal) {
		t.Fatalf("alice's key on bob's record: err = %v, want ErrUnseal", err)
	}
}

// TestDB_NodeNameConcurrent: many simultaneous adds of one name leave
// exactly one node, and it is the default.
func TestDB_NodeNameConcurrent(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for range 16 {
		wg.Go(func() {
			_, err := db.CreateNode(ctx, testNode(alice.ID, "same"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || conflicts != 15 {
		t.Fatalf("%d created, %d conflicts; want 1 and 15", ok, conflicts)
	}
	if d := defaults(t, db, alice.ID); len(d) != 1 {
		t.Fatalf("defaults = %v", d)
	}
}
