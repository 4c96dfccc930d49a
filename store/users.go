package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Account roles. Administrators manage accounts; they see no more of other
// accounts' nodes, templates, containers or secrets than anyone else.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// User is an account. The password hash never leaves the package.
type User struct {
	ID         string
	Username   string
	Created    time.Time
	Role       string // RoleAdmin or RoleMember
	Disabled   bool
	LastSignIn time.Time // zero until the first sign-in
	// Pending reports an account with no password yet: it waits for its
	// invite link to be used.
	Pending bool
}

// IsAdmin reports whether the account may manage accounts.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

type userRecord struct {
	V          int       `json:"v"`
	ID         string    `json:"id"`
	Username   string    `json:"username"`
	Hash       string    `json:"hash"` // empty until an invite is redeemed
	Created    time.Time `json:"created"`
	Role       string    `json:"role"`
	Disabled   bool      `json:"disabled,omitempty"`
	LastSignIn time.Time `json:"last_sign_in"`
}

func (r userRecord) user() User {
	return User{
		ID: r.ID, Username: r.Username, Created: r.Created, Role: r.Role,
		Disabled: r.Disabled, LastSignIn: r.LastSignIn, Pending: r.Hash == "",
	}
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

// CreateUser adds an account: an administrator when it is the first one,
// a member otherwise. It fails with ErrInvalid (naming the rule) or
// ErrConflict when the name is taken in any letter case.
func (db *DB) CreateUser(ctx context.Context, username, password string) (User, error) {
	return db.createUser(ctx, username, password, RoleMember, false)
}

// CreateUserAs is CreateUser with the role of the new account (the first
// account is an administrator whatever the role says).
func (db *DB) CreateUserAs(ctx context.Context, username, password, role string) (User, error) {
	return db.createUser(ctx, username, password, role, false)
}

// CreateFirstUser adds the first account, only while no account exists;
// otherwise it fails with ErrSetupDone. The check and the insert share one
// transaction, so of two racing setups exactly one wins.
func (db *DB) CreateFirstUser(ctx context.Context, username, password string) (User, error) {
	return db.createUser(ctx, username, password, RoleAdmin, true)
}

func (db *DB) createUser(ctx context.Context, username, password, role string, first bool) (User, error) {
	if err := ValidatePassword(password); err != nil {
		if verr := ValidateUsername(username); verr != nil {
			return User{}, verr
		}
		return User{}, err
	}
	return db.insertUser(ctx, username, password, role, first, nil)
}

// insertUser adds an account with the given role (the first account is
// always an administrator). An empty password leaves the account pending;
// then (inside the same transaction) also runs with the new record, so an
// invite is stored with the account or not at all.
func (db *DB) insertUser(ctx context.Context, username, password, role string, first bool, also func(tx *bolt.Tx, rec userRecord) error) (User, error) {
	if err := ValidateUsername(username); err != nil {
		return User{}, err
	}
	if role != RoleAdmin && role != RoleMember {
		return User{}, fmt.Errorf("%w: role must be %s or %s", ErrInvalid, RoleAdmin, RoleMember)
	}
	var hash string
	if password != "" {
		// Hash outside the transaction: it is slow on purpose.
		var err error
		if hash, err = db.hash(ctx, password); err != nil {
			return User{}, err
		}
	}
	rec := userRecord{
		V:        recordVersion,
		ID:       newID(),
		Username: username,
		Hash:     hash,
		Created:  db.now().UTC(),
		Role:     role,
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket([]byte(bucketUsers))
		k, _ := users.Cursor().First()
		if first && k != nil {
			return ErrSetupDone
		}
		if k == nil {
			rec.Role = RoleAdmin
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
		if also != nil {
			if err := also(tx, rec); err != nil {
				return err
			}
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
// users, accounts still waiting for their invite and wrong passwords all
// give ErrBadCredentials, after the same amount of hashing work. The right
// password of a disabled account gives ErrDisabled.
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
	if !found || rec.Hash == "" {
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
	if rec.Disabled {
		return User{}, fmt.Errorf("store: authenticate %q: %w", rec.Username, ErrDisabled)
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
// deletes all of that user's sessions and unused invite links.
func (db *DB) SetPassword(ctx context.Context, userID, password string) error {
	if err := db.setPassword(ctx, userID, password, ""); err != nil {
		return fmt.Errorf("store: set password for %q: %w", userID, err)
	}
	return nil
}

// ChangePassword is a user changing their own password: current must be
// right (ErrBadCredentials otherwise), and every session of the user but
// keepSession (the cookie value of the one making the change) ends.
func (db *DB) ChangePassword(ctx context.Context, userID, current, next, keepSession string) error {
	if err := ValidatePassword(next); err != nil {
		return err
	}
	var hash string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rec, err := userByID(tx, userID)
		hash = rec.Hash
		return err
	})
	if err != nil {
		return fmt.Errorf("store: change password for %q: %w", userID, err)
	}
	ok, err := db.verify(ctx, current, hash)
	if err != nil || !ok {
		return ErrBadCredentials
	}
	if err := db.setPassword(ctx, userID, next, keepSession); err != nil {
		return fmt.Errorf("store: change password for %q: %w", userID, err)
	}
	return nil
}

// setPassword stores a new hash and ends the user's sessions (except
// keepSession) and invites in one transaction.
func (db *DB) setPassword(ctx context.Context, userID, password, keepSession string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := db.hash(ctx, password)
	if err != nil {
		return err
	}
	keep, _ := sessionKey(keepSession)
	return db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		rec.Hash = hash
		if err := put(tx.Bucket([]byte(bucketUsers)), []byte(rec.ID), rec); err != nil {
			return err
		}
		if err := deleteUserInvites(tx, userID); err != nil {
			return err
		}
		_, err = deleteUserSessionsExcept(tx, userID, keep)
		return err
	})
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
