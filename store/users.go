package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// User is an account. The password hash never leaves the package.
type User struct {
	ID       string
	Username string
	Created  time.Time
}

type userRecord struct {
	V        int       `json:"v"`
	ID       string    `json:"id"`
	Username string    `json:"username"`
	Hash     string    `json:"hash"`
	Created  time.Time `json:"created"`
}

func (r userRecord) user() User {
	return User{ID: r.ID, Username: r.Username, Created: r.Created}
}

const maxUsernameLen = 32

// ValidateUsername enforces 1–32 characters from [a-zA-Z0-9._-], starting
// with a letter or digit; the error wraps ErrInvalid and names the rule.
func ValidateUsername(name string) error {
	if name == "" || len(name) > maxUsernameLen {
		return fmt.Errorf("%w: username must be 1 to %d characters", ErrInvalid, maxUsernameLen)
	}
	for i, c := range name {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return fmt.Errorf("%w: username must start with a letter or digit", ErrInvalid)
		}
		if !alnum && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: username may contain only letters, digits, '.', '_' and '-'", ErrInvalid)
		}
	}
	return nil
}

// usernameKey is the case-insensitive index key; names are ASCII only.
func usernameKey(name string) []byte {
	return []byte(strings.ToLower(name))
}

// CountUsers returns the number of accounts.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketUsers)).ForEach(func(_, _ []byte) error {
			n++
			return nil
		})
	})
	return n, err
}

// CreateUser adds an account. It fails with ErrInvalid (naming the rule) or
// ErrConflict when the name is taken in any letter case.
func (db *DB) CreateUser(ctx context.Context, username, password string) (User, error) {
	return db.createUser(ctx, username, password, false)
}

// CreateFirstUser adds the first account, only while no account exists;
// otherwise it fails with ErrSetupDone. The check and the insert share one
// transaction, so of two racing setups exactly one wins.
func (db *DB) CreateFirstUser(ctx context.Context, username, password string) (User, error) {
	return db.createUser(ctx, username, password, true)
}

func (db *DB) createUser(ctx context.Context, username, password string, first bool) (User, error) {
	if err := ValidateUsername(username); err != nil {
		return User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return User{}, err
	}
	// Hash outside the transaction: it is slow on purpose.
	hash, err := db.hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	rec := userRecord{
		V:        recordVersion,
		ID:       newID(),
		Username: username,
		Hash:     hash,
		Created:  db.now().UTC(),
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket([]byte(bucketUsers))
		k, _ := users.Cursor().First()
		if first && k != nil {
			return ErrSetupDone
		}
		names := tx.Bucket([]byte(bucketUsernames))
		if names.Get(usernameKey(username)) != nil {
			return fmt.Errorf("%w: username %q is taken", ErrConflict, username)
		}
		if err := names.Put(usernameKey(username), []byte(rec.ID)); err != nil {
			return err
		}
		if err := put(users, []byte(rec.ID), rec); err != nil {
			return err
		}
		if k == nil { // the first account takes what a migration left unowned
			return adoptUnclaimed(tx, rec.ID)
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return rec.user(), nil
}

// Authenticate checks a username (any letter case) and password. Unknown
// users and wrong passwords both give ErrBadCredentials, after the same
// amount of hashing work.
func (db *DB) Authenticate(ctx context.Context, username, password string) (User, error) {
	var rec userRecord
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		r, err := userByName(tx, username)
		if err == nil {
			rec, found = r, true
			return nil
		}
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: authenticate: %w", err)
	}
	if !found {
		db.dummyOnce.Do(func() { db.dummyHash = hashPassword("no such user", db.kdf) })
		if _, err := db.verify(ctx, password, db.dummyHash); err != nil {
			return User{}, err
		}
		return User{}, ErrBadCredentials
	}
	ok, err := db.verify(ctx, password, rec.Hash)
	if err != nil {
		return User{}, fmt.Errorf("store: authenticate %q: %w", rec.Username, err)
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	return rec.user(), nil
}

// UserByID returns the account with the given id.
func (db *DB) UserByID(ctx context.Context, id string) (User, error) {
	var rec userRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = userByID(tx, id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", id, err)
	}
	return rec.user(), nil
}

// UserByName returns the account with the given name, in any letter case.
func (db *DB) UserByName(ctx context.Context, name string) (User, error) {
	var rec userRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = userByName(tx, name)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", name, err)
	}
	return rec.user(), nil
}

// SetPassword replaces a user's password and, in the same transaction,
// deletes all of that user's sessions (the caller signs the user in again
// if the change came from a live session).
func (db *DB) SetPassword(ctx context.Context, userID, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := db.hash(ctx, password)
	if err != nil {
		return err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		rec.Hash = hash
		if err := put(tx.Bucket([]byte(bucketUsers)), []byte(rec.ID), rec); err != nil {
			return err
		}
		_, err = deleteUserSessions(tx, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set password for %q: %w", userID, err)
	}
	return nil
}

func userByID(tx *bolt.Tx, id string) (userRecord, error) {
	var rec userRecord
	v := tx.Bucket([]byte(bucketUsers)).Get([]byte(id))
	if v == nil {
		return rec, ErrNotFound
	}
	return rec, decode(v, &rec)
}

func userByName(tx *bolt.Tx, name string) (userRecord, error) {
	id := tx.Bucket([]byte(bucketUsernames)).Get(usernameKey(name))
	if id == nil {
		return userRecord{}, ErrNotFound
	}
	return userByID(tx, string(id))
}
