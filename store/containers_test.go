package store

import (
	"errors"
	"testing"
)

func TestDB_Containers(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	n1 := mustNode(t, db, alice.ID, "n1")
	n2 := mustNode(t, db, alice.ID, "n2")

	c, err := db.CreateContainer(ctx, Container{UserID: alice.ID, NodeID: n1.ID, VMID: 105, Hostname: "web", TemplateID: "t1", JobID: "j1"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == "" || c.Lifecycle != LifecycleCreating || c.Created.IsZero() || c.UserID != alice.ID {
		t.Fatalf("created = %+v", c)
	}
	if _, err := db.CreateContainer(ctx, Container{UserID: alice.ID, NodeID: n2.ID, VMID: 106}); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, bad := range []Container{
			{UserID: alice.ID, NodeID: n1.ID, VMID: 5},
			{UserID: alice.ID, NodeID: n1.ID, VMID: 107, Lifecycle: "gone"},
		} {
			if _, err := db.CreateContainer(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v: err = %v", bad, err)
			}
		}
	})
	t.Run("Count", func(t *testing.T) {
		for node, want := range map[string]int{n1.ID: 1, n2.ID: 1, "other": 0} {
			if got, err := db.CountContainersOnNode(ctx, alice.ID, node); err != nil || got != want {
				t.Errorf("count on %s = %d, %v; want %d", node, got, err, want)
			}
		}
	})
	t.Run("Update", func(t *testing.T) {
		c.Lifecycle = LifecycleReady
		if err := db.UpdateContainer(ctx, alice.ID, c); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateContainer(ctx, bob.ID, c); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob updated alice's container: %v", err)
		}
		list, err := db.Containers(ctx, alice.ID)
		if err != nil || len(list) != 2 || list[0].ID != c.ID || list[0].Lifecycle != LifecycleReady || !list[0].Created.Equal(c.Created) {
			t.Fatalf("Containers = %+v, %v", list, err)
		}
	})
	t.Run("Isolation", func(t *testing.T) {
		if list, _ := db.Containers(ctx, bob.ID); len(list) != 0 {
			t.Fatalf("bob sees %v", list)
		}
		if err := db.DeleteContainer(ctx, bob.ID, c.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob deleted alice's container: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := db.DeleteContainer(ctx, alice.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteContainer(ctx, alice.ID, c.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete err = %v", err)
		}
		if n, _ := db.CountContainersOnNode(ctx, alice.ID, n1.ID); n != 0 {
			t.Fatalf("count after delete = %d", n)
		}
	})
}
