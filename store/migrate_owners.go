package store

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Schema 2 gives every template and package bucket an owner (issue 13):
// until schema 1 they sat directly in the top-level "templates" and
// "buckets" buckets, shared by every account.

// unclaimedOwner holds, under "templates" and "buckets", what the migration
// found before any account existed; the first account created adopts it.
// No user id starts with a zero byte.
const unclaimedOwner = "\x00unclaimed"

// metaTemplatesSeeded is schema 1's mark that the built-ins were stored
// once; built-ins are no longer stored.
var metaTemplatesSeeded = []byte("templates_seeded")

// migrateOwnTemplates moves schema 1's shared templates and buckets to the
// first account (the oldest; unclaimedOwner while there is none). Stored
// built-ins nobody changed are dropped, since every account now reads the
// built-ins from code; a changed one stays as the owner's own custom copy.
func migrateOwnTemplates(tx *bolt.Tx) error {
	owner, err := firstUserID(tx)
	if err != nil {
		return err
	}
	owner = cmp.Or(owner, unclaimedOwner)
	for _, parent := range []string{bucketTemplates, bucketPkgBuckets} {
		err := moveFlatRecords(tx.Bucket([]byte(parent)), owner, func(v []byte) ([]byte, bool, error) {
			if parent != bucketTemplates {
				return v, true, nil
			}
			return schema1Template(v)
		})
		if err != nil {
			return fmt.Errorf("%s: %w", parent, err)
		}
	}
	return tx.Bucket([]byte(bucketMeta)).Delete(metaTemplatesSeeded)
}

// moveFlatRecords moves the records stored directly in top (not in a nested
// bucket) into top's nested bucket owner, passing each through keep, which
// may rewrite it or drop it.
func moveFlatRecords(top *bolt.Bucket, owner string, keep func(v []byte) ([]byte, bool, error)) error {
	type kv struct{ k, v []byte }
	var recs []kv
	err := top.ForEach(func(k, v []byte) error {
		if v != nil { // nil: a nested bucket
			recs = append(recs, kv{bytes.Clone(k), bytes.Clone(v)})
		}
		return nil
	})
	if err != nil || len(recs) == 0 {
		return err
	}
	dst, err := top.CreateBucketIfNotExists([]byte(owner))
	if err != nil {
		return err
	}
	for _, r := range recs {
		v, ok, err := keep(r.v)
		if err != nil {
			return fmt.Errorf("record %s: %w", r.k, err)
		}
		if ok {
			if err := dst.Put(r.k, v); err != nil {
				return err
			}
		}
		if err := top.Delete(r.k); err != nil {
			return err
		}
	}
	return nil
}

// schema1Template drops a stored built-in that still matches the one
// Corral ships, and turns a changed one into a custom template.
func schema1Template(v []byte) ([]byte, bool, error) {
	var rec templateRecord
	if err := decode(v, &rec); err != nil {
		return nil, false, err
	}
	if rec.Source != SourceBuiltin {
		return v, true, nil
	}
	if unchangedBuiltin(rec.Template) {
		return nil, false, nil
	}
	rec.Source = SourceCustom
	out, err := encode(rec)
	return out, true, err
}

// unchangedBuiltin reports whether t has the recipe of the built-in of the
// same name.
func unchangedBuiltin(t Template) bool {
	mine, err := EncodeTemplateFile(t)
	if err != nil {
		return false
	}
	for _, b := range BuiltinTemplates() {
		if b.Name != t.Name {
			continue
		}
		theirs, err := EncodeTemplateFile(b)
		return err == nil && bytes.Equal(mine, theirs)
	}
	return false
}

// firstUserID is the id of the oldest account, or "" when there is none.
func firstUserID(tx *bolt.Tx) (string, error) {
	var users []userRecord
	err := tx.Bucket([]byte(bucketUsers)).ForEach(func(_, v []byte) error {
		var rec userRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		users = append(users, rec)
		return nil
	})
	if err != nil || len(users) == 0 {
		return "", err
	}
	first := slices.MinFunc(users, func(a, b userRecord) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return first.ID, nil
}

// adoptUnclaimed gives the first account the templates and buckets the
// migration found before any account existed.
func adoptUnclaimed(tx *bolt.Tx, userID string) error {
	for _, parent := range []string{bucketTemplates, bucketPkgBuckets} {
		top := tx.Bucket([]byte(parent))
		src := top.Bucket([]byte(unclaimedOwner))
		if src == nil {
			continue
		}
		dst, err := top.CreateBucketIfNotExists([]byte(userID))
		if err != nil {
			return err
		}
		if err := src.ForEach(func(k, v []byte) error { return dst.Put(bytes.Clone(k), bytes.Clone(v)) }); err != nil {
			return err
		}
		if err := top.DeleteBucket([]byte(unclaimedOwner)); err != nil {
			return err
		}
	}
	return nil
}
