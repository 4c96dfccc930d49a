package store

import (
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the schema this binary writes. It is stored in the meta
// bucket under metaSchema; a file with a higher number is refused.
const SchemaVersion = 4

var (
	metaSchema   = []byte("schema")
	metaKeyCheck = []byte("keycheck")
)

const (
	keyCheckPlaintext = "corral key check"
	keyCheckAD        = "meta/keycheck"
)

// migrations returns the schema steps in order: step i upgrades a file from
// schema i to i+1. Buckets are created before the steps run, so a step only
// rewrites records. len(migrations()) must equal SchemaVersion.
func migrations() []func(tx *bolt.Tx) error {
	return []func(tx *bolt.Tx) error{
		// 0 → 1: the initial layout; buckets alone are enough.
		func(*bolt.Tx) error { return nil },
		// 1 → 2: templates and package buckets belong to one account.
		migrateOwnTemplates,
		// 2 → 3: accounts have a role; the oldest is the administrator.
		migrateRoles,
		// 3 → 4: a job's plan and services are typed records.
		migrateJobRecords,
	}
}

// migrate brings the file up to SchemaVersion and checks the sealing key.
// It returns the schema the file had before.
func migrate(tx *bolt.Tx, seal *sealer) (int, error) {
	meta, err := tx.CreateBucketIfNotExists([]byte(bucketMeta))
	if err != nil {
		return 0, fmt.Errorf("create meta bucket: %w", err)
	}
	from := 0
	if v := meta.Get(metaSchema); v != nil {
		from, err = strconv.Atoi(string(v))
		if err != nil {
			return 0, fmt.Errorf("schema version %q: %w", v, err)
		}
	}
	if from > SchemaVersion {
		return from, fmt.Errorf("%w (schema %d, this binary knows %d); upgrade corral", ErrSchemaTooNew, from, SchemaVersion)
	}
	for _, name := range topLevelBuckets {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return from, fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	steps := migrations()
	for v := from; v < SchemaVersion; v++ {
		if err := steps[v](tx); err != nil {
			return from, fmt.Errorf("migrate schema %d to %d: %w", v, v+1, err)
		}
	}
	if err := meta.Put(metaSchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return from, fmt.Errorf("write schema version: %w", err)
	}
	return from, checkKey(meta, seal)
}

// checkKey records a sealed known value on first open and verifies it
// afterwards, so a wrong key fails at startup rather than as garbage later.
func checkKey(meta *bolt.Bucket, seal *sealer) error {
	stored := meta.Get(metaKeyCheck)
	if stored == nil {
		return meta.Put(metaKeyCheck, seal.seal(keyCheckPlaintext, keyCheckAD))
	}
	pt, err := seal.open(stored, keyCheckAD)
	if errors.Is(err, ErrUnseal) || (err == nil && pt != keyCheckPlaintext) {
		return fmt.Errorf("%w (set CORRAL_SECRET_KEY or restore %s from the same backup as corral.db)", ErrWrongKey, KeyFileName)
	}
	return err
}
