package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// PackageBucket is a named, reusable list of packages belonging to one
// account: each user's buckets live in a bucket of their own under
// "buckets", like templates, and another account's bucket is ErrNotFound.
// Selecting a bucket on a template copies its packages into the template, so
// later bucket edits never change existing templates.
type PackageBucket struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Packages    []Package `json:"packages,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

type bucketRecord struct {
	V int `json:"v"`
	PackageBucket
}

// Limits of package bucket fields.
const (
	MaxBucketName        = 50
	MaxBucketDescription = 200
)

// validate checks name and description; field keys are "name" and
// "description".
func (b *PackageBucket) validate() error {
	b.Name = strings.TrimSpace(b.Name)
	b.Description = strings.TrimSpace(b.Description)
	var v ValidationError
	validateName(&v, "name", b.Name, MaxBucketName, "Name")
	if utf8.RuneCountInString(b.Description) > MaxBucketDescription {
		v.add("description", "Description must be %d characters or less", MaxBucketDescription)
	}
	validatePackages(&v, "packages.", b.Packages)
	return v.err()
}

// PackageBucket returns one of the user's buckets.
func (db *DB) PackageBucket(ctx context.Context, userID, id string) (PackageBucket, error) {
	var b PackageBucket
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		b, err = getBucket(tx, userID, id)
		return err
	})
	if err != nil {
		return PackageBucket{}, fmt.Errorf("store: package bucket %s: %w", id, err)
	}
	return b, nil
}

// PackageBuckets returns the user's buckets ordered by name.
func (db *DB) PackageBuckets(ctx context.Context, userID string) ([]PackageBucket, error) {
	var out []PackageBucket
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = allBuckets(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list package buckets: %w", err)
	}
	return out, nil
}

// CreatePackageBucket adds an empty bucket for the user. It fails with a
// *ValidationError; a name the user already has (any letter case) also
// matches ErrConflict.
func (db *DB) CreatePackageBucket(ctx context.Context, userID, name, description string) (PackageBucket, error) {
	now := db.now().UTC()
	b := PackageBucket{ID: newID(), Name: name, Description: description, Created: now, Updated: now}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := userByID(tx, userID); err != nil {
			return fmt.Errorf("user %q: %w", userID, err)
		}
		bk, err := createUserBucket(tx, bucketPkgBuckets, userID)
		if err != nil {
			return err
		}
		return saveBucket(bk, &b)
	})
	if err != nil {
		return PackageBucket{}, fmt.Errorf("store: create package bucket: %w", err)
	}
	return b, nil
}

// RenamePackageBucket changes a bucket's name and description.
func (db *DB) RenamePackageBucket(ctx context.Context, userID, id, name, description string) (PackageBucket, error) {
	return db.changeBucket(ctx, userID, id, "rename", func(b *PackageBucket) error {
		b.Name, b.Description = name, description
		return nil
	})
}

// DeletePackageBucket removes a bucket. Templates keep the packages they
// copied from it.
func (db *DB) DeletePackageBucket(ctx context.Context, userID, id string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := getBucket(tx, userID, id); err != nil {
			return err
		}
		return userBucket(tx, bucketPkgBuckets, userID).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: delete package bucket %s: %w", id, err)
	}
	return nil
}

// BulkResult says what adding packages to a bucket did.
type BulkResult struct {
	// Added are the packages now in the bucket that were not before.
	Added []Package
	// Duplicates are names skipped because the bucket (or an earlier line)
	// already had them for the same manager.
	Duplicates []string
	// Problems are lines that could not be read, each naming its line.
	Problems []string
}

// AddBucketPackages adds pkgs to bucket id, skipping ones it already holds.
func (db *DB) AddBucketPackages(ctx context.Context, userID, id string, pkgs ...Package) (BulkResult, error) {
	var res BulkResult
	_, err := db.changeBucket(ctx, userID, id, "add packages to", func(b *PackageBucket) error {
		for _, p := range pkgs {
			p.Name, p.Check, p.Install = strings.TrimSpace(p.Name), strings.TrimSpace(p.Check), strings.TrimSpace(p.Install)
			merged := MergePackages(b.Packages, p)
			if len(merged) == len(b.Packages) {
				res.Duplicates = append(res.Duplicates, p.Name)
				continue
			}
			b.Packages = merged
			res.Added = append(res.Added, p)
		}
		return nil
	})
	return res, err
}

// ImportBucketPackages parses a pasted list for manager m (see
// ParsePackageList) and adds its packages to bucket id, reporting
// duplicates and unreadable lines. A list with nothing usable in it fails
// with a *ValidationError on field "packages".
func (db *DB) ImportBucketPackages(ctx context.Context, userID, id string, m PackageManager, text string) (BulkResult, error) {
	pkgs, problems := ParsePackageList(m, text)
	if len(pkgs) == 0 {
		var v ValidationError
		if len(problems) > 0 {
			v.add("packages", "No valid package names found: %s", strings.Join(problems, "; "))
		} else {
			v.add("packages", "No valid package names found: paste one package per line (# starts a comment)")
		}
		return BulkResult{Problems: problems}, fmt.Errorf("store: import packages: %w", &v)
	}
	res, err := db.AddBucketPackages(ctx, userID, id, pkgs...)
	res.Problems = problems
	return res, err
}

// RemoveBucketPackage removes the package of manager m named name.
func (db *DB) RemoveBucketPackage(ctx context.Context, userID, id string, m PackageManager, name string) error {
	_, err := db.changeBucket(ctx, userID, id, "remove package from", func(b *PackageBucket) error {
		key := Package{Manager: m, Name: name}.Key()
		for i, p := range b.Packages {
			if p.Key() == key {
				b.Packages = append(b.Packages[:i], b.Packages[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("package %s %q: %w", m, name, ErrNotFound)
	})
	return err
}

// changeBucket applies change to the user's bucket id and saves it, in one
// transaction.
func (db *DB) changeBucket(ctx context.Context, userID, id, op string, change func(*PackageBucket) error) (PackageBucket, error) {
	var b PackageBucket
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		if b, err = getBucket(tx, userID, id); err != nil {
			return err
		}
		if err := change(&b); err != nil {
			return err
		}
		b.Updated = db.now().UTC()
		return saveBucket(userBucket(tx, bucketPkgBuckets, userID), &b)
	})
	if err != nil {
		return PackageBucket{}, fmt.Errorf("store: %s package bucket %s: %w", op, id, err)
	}
	return b, nil
}

// saveBucket validates b, checks its name is free in the user's bucket bk
// and writes it there.
func saveBucket(bk *bolt.Bucket, b *PackageBucket) error {
	if err := b.validate(); err != nil {
		return err
	}
	taken := false
	err := bk.ForEach(func(k, v []byte) error {
		var rec bucketRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		taken = taken || (string(k) != b.ID && strings.EqualFold(rec.Name, b.Name))
		return nil
	})
	if err != nil {
		return err
	}
	if taken {
		return conflictError("name", "A bucket named %q already exists", b.Name)
	}
	return put(bk, []byte(b.ID), bucketRecord{V: recordVersion, PackageBucket: *b})
}

func getBucket(tx *bolt.Tx, userID, id string) (PackageBucket, error) {
	rec, err := ownedRecord[bucketRecord](tx, bucketPkgBuckets, userID, id)
	return rec.PackageBucket, err
}

func allBuckets(ctx context.Context, tx *bolt.Tx, userID string) ([]PackageBucket, error) {
	var out []PackageBucket
	bk := userBucket(tx, bucketPkgBuckets, userID)
	if bk == nil {
		return nil, nil
	}
	err := bk.ForEach(func(_, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec bucketRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		out = append(out, rec.PackageBucket)
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out, err
}
