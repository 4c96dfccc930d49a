// Package store keeps every durable Corral record in one bbolt file: users,
// sessions, nodes, containers, ssh keys and the audit log. Secrets are
// sealed with AES-256-GCM before they reach the file.
//
// Each exported method runs exactly one bbolt transaction; unexported
// helpers take a *bolt.Tx so writes that span records stay atomic.
package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options configures Open.
type Options struct {
	// LockTimeout bounds the wait for the file lock (default 1s), so a second
	// process gets ErrLocked instead of hanging.
	LockTimeout time.Duration
	// Key is the 32-byte AES-256-GCM sealing key (see LoadKey).
	Key []byte
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger may be nil.
	Logger *slog.Logger
}

// DB is the Corral database. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	seal *sealer
	now  func() time.Time
	log  *slog.Logger
	kdf  kdfParams
	// hashSlots bounds concurrent password hashing: each argon2id run takes
	// kdf.Memory KiB, and a burst of logins must not exhaust a Pi's RAM.
	hashSlots chan struct{}
	// dummyHash is verified against for unknown users, so Authenticate
	// spends the same time whether or not the user exists. Built lazily
	// because hashing is deliberately slow.
	dummyOnce sync.Once
	dummyHash string
}

// Open opens (creating with mode 0600) the database at path, creates
// missing buckets, runs schema migrations and checks the sealing key, all in
// one transaction.
func Open(path string, opts Options) (*DB, error) {
	seal, err := newSealer(opts.Key)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (lock not free after %s)", ErrLocked, path, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &DB{
		bolt: bdb,
		seal: seal,
		now:  opts.Now,
		log:  opts.Logger,
		kdf:  defaultKDF(),
		// Two slots keep worst-case hashing memory near 40 MiB.
		hashSlots: make(chan struct{}, 1),
	}
	var from int
	err = bdb.Update(func(tx *bolt.Tx) error {
		var err error
		from, err = migrate(tx, seal)
		return err
	})
	if err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if from != SchemaVersion {
		db.log.Info("database migrated", "from_schema", from, "to_schema", SchemaVersion)
	}
	return db, nil
}

// Close releases the file and its lock.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}
