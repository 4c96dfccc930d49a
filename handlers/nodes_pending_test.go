package handlers_test

import (
	"testing"
	"time"

	"corral/handlers"
	"corral/store"
)

func TestNodes_PendingBounds(t *testing.T) {
	m := handlers.NewPendingNodes()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := handlers.PendingNode{Node: store.Node{Name: "x"}, Mode: "add"}

	id := m.Hold(now, "alice", p)
	if _, ok := m.Take(now, "bob", id); ok {
		t.Fatal("bob took alice's entry")
	}
	if got, ok := m.Take(now.Add(9*time.Minute), "alice", id); !ok || got.Node.Name != "x" {
		t.Fatal("alice could not take her entry")
	}
	if _, ok := m.Take(now, "alice", id); ok {
		t.Fatal("an entry was taken twice")
	}

	old := m.Hold(now, "alice", p)
	if _, ok := m.Take(now.Add(10*time.Minute), "alice", old); ok {
		t.Fatal("an expired entry was taken")
	}

	// One user cannot fill the map: their oldest entries make room.
	first := m.Hold(now, "alice", p)
	for i := range 10 {
		m.Hold(now.Add(time.Duration(i+1)*time.Second), "alice", p)
	}
	if m.Len() > 4 {
		t.Fatalf("alice holds %d entries", m.Len())
	}
	if _, ok := m.Take(now, "alice", first); ok {
		t.Fatal("the oldest entry survived eviction")
	}
	// Many users: bounded in all, expired entries pruned first.
	for i := range 1000 {
		m.Hold(now, "user"+string(rune('a'+i%26))+string(rune('a'+i/26)), p)
	}
	if m.Len() > 256 {
		t.Fatalf("%d entries held", m.Len())
	}
	m.Hold(now.Add(time.Hour), "carol", p)
	if m.Len() != 1 {
		t.Fatalf("expired entries not pruned: %d left", m.Len())
	}
}
