package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// SoleUser returns the only account and 1, or a zero User and how many
// accounts there are when that is not exactly one: command-line tools act
// for the only account when nobody names one.
func (db *DB) SoleUser(ctx context.Context) (User, int, error) {
	var (
		rec userRecord
		n   int
	)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketUsers)).ForEach(func(_, v []byte) error {
			n++
			if n > 1 {
				return nil
			}
			return decode(v, &rec)
		})
	})
	if err != nil {
		return User{}, 0, fmt.Errorf("store: sole user: %w", err)
	}
	if n != 1 {
		return User{}, n, nil
	}
	return rec.user(), 1, nil
}
