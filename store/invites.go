package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// InviteTTL is how long an invite or password-reset link works.
const InviteTTL = 24 * time.Hour

// Invite purposes: a new account choosing its first password, or an
// existing one whose password an administrator reset.
const (
	PurposeInvite = "invite"
	PurposeReset  = "reset"
)

const inviteTokenLen = 32

// Invite is a live invite link, as the page that redeems it needs it.
type Invite struct {
	UserID   string
	Username string
	Purpose  string // PurposeInvite or PurposeReset
	Expires  time.Time
}

// inviteRecord is stored under the SHA-256 of the token: the token itself
// exists only in the link, so a copy of the database opens no account.
type inviteRecord struct {
	V       int       `json:"v"`
	UserID  string    `json:"uid"`
	Purpose string    `json:"purpose"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// inviteKey hashes a token into its database key; ok is false for a value
// that is not a well-formed token.
func inviteKey(token string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != inviteTokenLen {
		return nil, false
	}
	sum := sha256.Sum256(raw)
	return sum[:], true
}

// CreateInvitedUser adds an account without a password (see User.Pending)
// together with a link its owner uses to choose one, in one transaction.
// It returns the account and the link's token, which is shown once and
// never stored.
func (db *DB) CreateInvitedUser(ctx context.Context, username, role string) (User, string, error) {
	var token string
	u, err := db.insertUser(ctx, username, "", role, false, func(tx *bolt.Tx, rec userRecord) error {
		var err error
		token, err = db.putInvite(tx, rec.ID, PurposeInvite)
		return err
	})
	if err != nil {
		return User{}, "", err
	}
	return u, token, nil
}

// ResetPassword signs the account out everywhere, clears its password and
// replaces any earlier link with a new one, whose token it returns. An
// account still waiting for its first password gets a fresh invite.
func (db *DB) ResetPassword(ctx context.Context, userID string) (string, error) {
	var token string
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		purpose, err := resetPurpose(tx, rec)
		if err != nil {
			return err
		}
		rec.Hash = ""
		if err := put(tx.Bucket([]byte(bucketUsers)), []byte(rec.ID), rec); err != nil {
			return err
		}
		if _, err := deleteUserSessions(tx, userID); err != nil {
			return err
		}
		if err := deleteUserInvites(tx, userID); err != nil {
			return err
		}
		token, err = db.putInvite(tx, userID, purpose)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: reset password of %q: %w", userID, err)
	}
	return token, nil
}

// Invite returns the live link token names. An unknown, used or expired
// token, or one for a disabled account, is ErrNotFound.
func (db *DB) Invite(ctx context.Context, token string) (Invite, error) {
	var inv Invite
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		inv, err = db.liveInvite(tx, token)
		return err
	})
	if err != nil {
		return Invite{}, fmt.Errorf("store: invite: %w", err)
	}
	return inv, nil
}

// RedeemInvite sets the password of the account token invites and uses
// the link up: of two people racing with one link, one wins and the other
// gets ErrNotFound. The account's other sessions end.
func (db *DB) RedeemInvite(ctx context.Context, token, password string) (User, error) {
	if _, err := db.Invite(ctx, token); err != nil {
		return User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return User{}, err
	}
	hash, err := db.hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		inv, err := db.liveInvite(tx, token)
		if err != nil {
			return err
		}
		rec, err := userByID(tx, inv.UserID)
		if err != nil {
			return err
		}
		rec.Hash = hash
		if err := put(tx.Bucket([]byte(bucketUsers)), []byte(rec.ID), rec); err != nil {
			return err
		}
		if _, err := deleteUserSessions(tx, rec.ID); err != nil {
			return err
		}
		u = rec.user()
		return deleteUserInvites(tx, rec.ID)
	})
	if err != nil {
		return User{}, fmt.Errorf("store: redeem invite: %w", err)
	}
	return u, nil
}

// PurgeExpiredInvites deletes links past their expiry and returns how many.
func (db *DB) PurgeExpiredInvites(ctx context.Context) (int, error) {
	now := db.now()
	var n int
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteInvitesWhere(tx, func(rec inviteRecord) bool { return !now.Before(rec.Expires) })
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge invites: %w", err)
	}
	return n, nil
}

// resetPurpose says whether a new link for rec resets a password or still
// invites: an account that never had a password keeps being invited.
func resetPurpose(tx *bolt.Tx, rec userRecord) (string, error) {
	if rec.Hash != "" || !rec.LastSignIn.IsZero() {
		return PurposeReset, nil
	}
	purpose := PurposeInvite
	err := tx.Bucket([]byte(bucketInvites)).ForEach(func(_, v []byte) error {
		var inv inviteRecord
		if err := decode(v, &inv); err == nil && inv.UserID == rec.ID {
			purpose = inv.Purpose
		}
		return nil
	})
	return purpose, err
}

func (db *DB) putInvite(tx *bolt.Tx, userID, purpose string) (string, error) {
	raw := make([]byte, inviteTokenLen)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go ≥ 1.24)
	token := base64.RawURLEncoding.EncodeToString(raw)
	key, _ := inviteKey(token)
	now := db.now().UTC()
	rec := inviteRecord{V: recordVersion, UserID: userID, Purpose: purpose, Created: now, Expires: now.Add(InviteTTL)}
	return token, put(tx.Bucket([]byte(bucketInvites)), key, rec)
}

func (db *DB) liveInvite(tx *bolt.Tx, token string) (Invite, error) {
	key, ok := inviteKey(token)
	if !ok {
		return Invite{}, ErrNotFound
	}
	v := tx.Bucket([]byte(bucketInvites)).Get(key)
	if v == nil {
		return Invite{}, ErrNotFound
	}
	var rec inviteRecord
	if err := decode(v, &rec); err != nil {
		return Invite{}, err
	}
	if !db.now().Before(rec.Expires) {
		return Invite{}, ErrNotFound
	}
	u, err := userByID(tx, rec.UserID)
	if err != nil || u.Disabled {
		return Invite{}, ErrNotFound
	}
	return Invite{UserID: u.ID, Username: u.Username, Purpose: rec.Purpose, Expires: rec.Expires}, nil
}

// deleteUserInvites removes every link of one account. There are only a
// few live links at any time, so a scan is cheaper than an index.
func deleteUserInvites(tx *bolt.Tx, userID string) error {
	_, err := deleteInvitesWhere(tx, func(rec inviteRecord) bool { return rec.UserID == userID })
	return err
}

func deleteInvitesWhere(tx *bolt.Tx, match func(inviteRecord) bool) (int, error) {
	b := tx.Bucket([]byte(bucketInvites))
	var doomed [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var rec inviteRecord
		if err := decode(v, &rec); err != nil || match(rec) {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Delete after the walk: deleting under ForEach skips keys.
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}
