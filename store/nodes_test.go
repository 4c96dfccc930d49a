package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func testNode(uid, name string) Node {
	return Node{
		UserID: uid, Name: name, Host: "10.0.0.5",
		TokenID: "root@pam!corral", TokenSecret: "tok-secret-" + name,
		SSHUser: "root", SSHPassword: "ssh-pass-" + name,
		TLSFingerprint: "AB:CD", PVENodeName: "pve1",
	}
}

func mustNode(t testing.TB, db *DB, uid, name string) Node {
	t.Helper()
	n, err := db.CreateNode(t.Context(), testNode(uid, name))
	if err != nil {
		t.Fatalf("CreateNode(%q): %v", name, err)
	}
	return n
}

func defaults(t testing.TB, db *DB, uid string) []string {
	t.Helper()
	nodes, err := db.Nodes(t.Context(), uid)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range nodes {
		if n.IsDefault {
			ids = append(ids, n.ID)
		}
	}
	return ids
}

func TestDB_CreateNode(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")

	t.Run("OK", func(t *testing.T) {
		n := mustNode(t, db, alice.ID, "pve-one")
		if n.ID == "" || n.Created.IsZero() || !n.IsDefault || n.Port != 8006 || n.SSHPort != 22 {
			t.Fatalf("node = %+v", n)
		}
		got, err := db.Node(ctx, alice.ID, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.TokenSecret != "tok-secret-pve-one" || got.SSHPassword != "ssh-pass-pve-one" || got.UserID != alice.ID {
			t.Fatalf("round trip = %+v", got)
		}
		second := mustNode(t, db, alice.ID, "pve-two")
		if second.IsDefault {
			t.Fatal("second node became default")
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		_, err := db.CreateNode(ctx, testNode(alice.ID, "PVE-ONE"))
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		bob := mustUser(t, db, "bob")
		if _, err := db.CreateNode(ctx, testNode(bob.ID, "pve-one")); err != nil {
			t.Fatalf("another user's same name refused: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, mod := range []func(*Node){
			func(n *Node) { n.Name = " " },
			func(n *Node) { n.Host = "" },
			func(n *Node) { n.Port = 70000 },
			func(n *Node) { n.SSHKey = "-----BEGIN OPENSSH PRIVATE KEY-----" },
		} {
			n := testNode(alice.ID, "bad")
			mod(&n)
			if _, err := db.CreateNode(ctx, n); !errors.Is(err, ErrInvalid) {
				t.Errorf("node %+v err = %v, want ErrInvalid", n, err)
			}
		}
	})
	t.Run("UnknownUser", func(t *testing.T) {
		if _, err := db.CreateNode(ctx, testNode("ghost", "x")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	nodes, err := db.Nodes(ctx, alice.ID)
	if err != nil || len(nodes) != 2 || nodes[0].Name != "pve-one" || nodes[1].Name != "pve-two" {
		t.Fatalf("Nodes = %v, %v", nodes, err)
	}
	all, err := db.AllNodes(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("AllNodes = %d nodes, %v; want 3", len(all), err)
	}
}

func TestDB_UpdateNode(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")
	n := mustNode(t, db, alice.ID, "pve-one")
	mustNode(t, db, alice.ID, "pve-two")

	t.Run("KeepsEmptySecrets", func(t *testing.T) {
		edit := n
		edit.Host, edit.TokenSecret, edit.SSHPassword = "10.0.0.9", "", ""
		got, err := db.UpdateNode(ctx, alice.ID, edit)
		if err != nil {
			t.Fatal(err)
		}
		if got.Host != "10.0.0.9" || got.TokenSecret != "tok-secret-pve-one" || got.SSHPassword != "ssh-pass-pve-one" {
			t.Fatalf("updated = %+v", got)
		}
		if !got.IsDefault || !got.Created.Equal(n.Created) {
			t.Fatalf("default/created changed: %+v", got)
		}
	})
	t.Run("KeyReplacesPassword", func(t *testing.T) {
		edit := n
		edit.SSHPassword, edit.SSHKey, edit.TokenSecret = "", "PRIVATE KEY", "new-token"
		got, err := db.UpdateNode(ctx, alice.ID, edit)
		if err != nil {
			t.Fatal(err)
		}
		if got.SSHKey != "PRIVATE KEY" || got.SSHPassword != "" || got.TokenSecret != "new-token" {
			t.Fatalf("updated = %+v", got)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		edit := n
		edit.Name = "PVE-TWO"
		if _, err := db.UpdateNode(ctx, alice.ID, edit); !errors.Is(err, ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
}

func TestDB_NodeSealing(t *testing.T) {
	ctx := t.Context()
	db, path := mustOpen(t)
	alice := mustUser(t, db, "alice")
	a := mustNode(t, db, alice.ID, "pve-one")
	b := mustNode(t, db, alice.ID, "pve-two")

	raw := rawFile(t, path)
	for _, secret := range []string{"tok-secret-pve-one", "ssh-pass-pve-one", "tok-secret-pve-two"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("plaintext %q appears in the database file", secret)
		}
	}

	// Copy a's sealed token secret onto b's record, as an attacker with
	// write access to the file might.
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		bk := userBucket(tx, bucketNodes, alice.ID)
		ra, err := nodeRecordByID(tx, alice.ID, a.ID)
		if err != nil {
			return err
		}
		rb, err := nodeRecordByID(tx, alice.ID, b.ID)
		if err != nil {
			return err
		}
		rb.TokenSecret = ra.TokenSecret
		return put(bk, []byte(rb.ID), rb)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Node(ctx, alice.ID, b.ID)
	if !errors.Is(err, ErrUnseal) || !strings.Contains(err.Error(), "copied from another record") {
		t.Fatalf("moved secret err = %v, want ErrUnseal", err)
	}
	if got, err := db.Node(ctx, alice.ID, a.ID); err != nil || got.TokenSecret != "tok-secret-pve-one" {
		t.Fatalf("original record = %+v, %v", got, err)
	}
}

func TestDB_DeleteNode(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")
	n1 := mustNode(t, db, alice.ID, "n1")
	n2 := mustNode(t, db, alice.ID, "n2")
	n3 := mustNode(t, db, alice.ID, "n3")
	if err := db.SetDefaultNode(ctx, alice.ID, n3.ID); err != nil {
		t.Fatal(err)
	}
	if got := defaults(t, db, alice.ID); len(got) != 1 || got[0] != n3.ID {
		t.Fatalf("defaults = %v, want [%s]", got, n3.ID)
	}

	t.Run("ErrNodeInUse", func(t *testing.T) {
		c, err := db.CreateContainer(ctx, Container{UserID: alice.ID, NodeID: n3.ID, VMID: 105, Hostname: "web"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteNode(ctx, alice.ID, n3.ID); !errors.Is(err, ErrNodeInUse) {
			t.Fatalf("err = %v, want ErrNodeInUse", err)
		}
		if err := db.DeleteContainer(ctx, alice.ID, c.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("PromotesOldest", func(t *testing.T) {
		if err := db.DeleteNode(ctx, alice.ID, n3.ID); err != nil {
			t.Fatal(err)
		}
		if got := defaults(t, db, alice.ID); len(got) != 1 || got[0] != n1.ID {
			t.Fatalf("defaults = %v, want oldest %s", got, n1.ID)
		}
		if err := db.DeleteNode(ctx, alice.ID, n2.ID); err != nil {
			t.Fatal(err)
		}
		if got := defaults(t, db, alice.ID); len(got) != 1 || got[0] != n1.ID {
			t.Fatalf("deleting a non-default changed the default: %v", got)
		}
		if err := db.DeleteNode(ctx, alice.ID, n1.ID); err != nil {
			t.Fatal(err)
		}
		if got := defaults(t, db, alice.ID); len(got) != 0 {
			t.Fatalf("defaults = %v, want none", got)
		}
		n4 := mustNode(t, db, alice.ID, "n4")
		if !n4.IsDefault {
			t.Fatal("first node after deleting all is not default")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if err := db.DeleteNode(ctx, alice.ID, n1.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDB_NodeIsolation(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	a := mustNode(t, db, alice.ID, "pve-a")
	mustNode(t, db, bob.ID, "pve-b")

	if _, err := db.Node(ctx, bob.ID, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("read: %v", err)
	}
	edit := a
	edit.Host = "evil.example"
	if _, err := db.UpdateNode(ctx, bob.ID, edit); !errors.Is(err, ErrNotFound) {
		t.Errorf("update: %v", err)
	}
	if err := db.SetDefaultNode(ctx, bob.ID, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("default: %v", err)
	}
	if err := db.DeleteNode(ctx, bob.ID, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete: %v", err)
	}
	if _, err := db.CreateContainer(ctx, Container{UserID: bob.ID, NodeID: a.ID, VMID: 100}); !errors.Is(err, ErrNotFound) {
		t.Errorf("container on another user's node: %v", err)
	}
	got, err := db.Node(ctx, alice.ID, a.ID)
	if err != nil || got.Host != a.Host || !got.IsDefault || !got.Updated.Equal(a.Updated) {
		t.Fatalf("alice's node changed: %+v, %v", got, err)
	}
	if d := defaults(t, db, bob.ID); len(d) != 1 || d[0] == a.ID {
		t.Fatalf("bob's defaults = %v", d)
	}
	if nodes, _ := db.Nodes(ctx, bob.ID); len(nodes) != 1 {
		t.Fatalf("bob sees %d nodes, want 1", len(nodes))
	}
}

// TestDB_DefaultNodeConcurrent hammers one user with adds, deletes and
// default changes while readers check that a user with nodes always has
// exactly one default.
func TestDB_DefaultNodeConcurrent(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")

	check := func() error {
		nodes, err := db.Nodes(ctx, alice.ID)
		if err != nil {
			return err
		}
		d := 0
		for _, n := range nodes {
			if n.IsDefault {
				d++
			}
		}
		if len(nodes) > 0 && d != 1 {
			return fmt.Errorf("%d nodes with %d defaults", len(nodes), d)
		}
		return nil
	}

	const workers, ops = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*ops+workers)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range ops {
				nodes, err := db.Nodes(ctx, alice.ID)
				if err != nil {
					errs <- err
					return
				}
				var pick string
				if len(nodes) > 0 {
					pick = nodes[rng.IntN(len(nodes))].ID
				}
				switch op := rng.IntN(3); {
				case op == 0 || pick == "":
					_, err = db.CreateNode(ctx, testNode(alice.ID, fmt.Sprintf("w%d-%d", w, i)))
				case op == 1:
					err = db.DeleteNode(ctx, alice.ID, pick)
				default:
					err = db.SetDefaultNode(ctx, alice.ID, pick)
				}
				// Another worker may have deleted pick first.
				if err != nil && !errors.Is(err, ErrNotFound) {
					errs <- err
				}
				if err := check(); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := check(); err != nil {
		t.Fatal(err)
	}
}
