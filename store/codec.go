package store

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// recordVersion is written into every JSON record as "v" so a later
// migration can tell old encodings from new ones.
const recordVersion = 1

// encode is the one record encoding: JSON.
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: encode %T: %w", v, err)
	}
	return b, nil
}

// decode reads a record. bbolt values are valid only inside their
// transaction; json.Unmarshal copies everything it keeps, so the result
// outlives the transaction.
func decode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("store: decode %T: %w", v, err)
	}
	return nil
}

// u64 encodes n as an 8-byte big-endian key, so keys sort numerically.
func u64(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// timeSeqKey builds a key that sorts by time, then by insertion order.
func timeSeqKey(t time.Time, seq uint64) []byte {
	k := u64(uint64(t.UnixNano()))
	return binary.BigEndian.AppendUint64(k, seq)
}

// newID returns a random URL-safe id: 16 bytes, base64url without padding.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// userBucket returns the per-user bucket nested in the top-level bucket
// parent, or nil when the user has none yet.
func userBucket(tx *bolt.Tx, parent, userID string) *bolt.Bucket {
	if userID == "" {
		return nil
	}
	return tx.Bucket([]byte(parent)).Bucket([]byte(userID))
}

// createUserBucket returns the per-user bucket nested in parent, creating it.
func createUserBucket(tx *bolt.Tx, parent, userID string) (*bolt.Bucket, error) {
	b, err := tx.Bucket([]byte(parent)).CreateBucketIfNotExists([]byte(userID))
	if err != nil {
		return nil, fmt.Errorf("store: create %s bucket for user: %w", parent, err)
	}
	return b, nil
}

// put encodes v and stores it under key.
// ownedRecord reads record id from the user's sub-bucket of parent; a
// missing bucket or key is ErrNotFound, so another user's id finds nothing.
func ownedRecord[T any](tx *bolt.Tx, parent, userID, id string) (T, error) {
	var rec T
	b := userBucket(tx, parent, userID)
	if b == nil || id == "" {
		return rec, ErrNotFound
	}
	v := b.Get([]byte(id))
	if v == nil {
		return rec, ErrNotFound
	}
	return rec, decode(v, &rec)
}

func put(b *bolt.Bucket, key []byte, v any) error {
	data, err := encode(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}
