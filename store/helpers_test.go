package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"corral/proxmox/pvesim/simtest"
)

// testKey is a fixed sealing key for tests.
var testKey = bytes.Repeat([]byte{7}, KeySize)

// newFakeClock is a settable clock for expiry tests.
func newFakeClock() *simtest.Clock {
	return simtest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// mustOpen opens a fresh database in a temp dir with cheap password hashing
// (the real parameters are covered by TestPassword_DefaultParams).
func mustOpen(t testing.TB, opts ...func(*Options)) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "corral.db")
	o := Options{Key: testKey}
	for _, f := range opts {
		f(&o)
	}
	db, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	db.kdf = kdfParams{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

func withClock(c *simtest.Clock) func(*Options) {
	return func(o *Options) { o.Now = c.Now }
}

func mustUser(t testing.TB, db *DB, name string) User {
	t.Helper()
	u, err := db.CreateUser(context.Background(), name, "password-"+name)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

// rawFile returns the database file's bytes (bbolt may still hold it open).
func rawFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
