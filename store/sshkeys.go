package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/ssh"
)

// SSHKey is a public key a user registered for the SSH gateway.
type SSHKey struct {
	Fingerprint   string // "SHA256:…", as ssh-keygen -l prints it
	Label         string
	Type          string // e.g. "ssh-ed25519"
	AuthorizedKey string // one authorized_keys line, without comment
	Created       time.Time
	LastUsed      time.Time // zero until first used
}

type sshKeyRecord struct {
	V             int       `json:"v"`
	Fingerprint   string    `json:"fingerprint"`
	Label         string    `json:"label"`
	Type          string    `json:"type"`
	AuthorizedKey string    `json:"authorized_key"`
	Created       time.Time `json:"created"`
	LastUsed      time.Time `json:"last_used"`
}

func (r sshKeyRecord) key() SSHKey {
	return SSHKey{
		Fingerprint: r.Fingerprint, Label: r.Label, Type: r.Type,
		AuthorizedKey: r.AuthorizedKey, Created: r.Created, LastUsed: r.LastUsed,
	}
}

const maxSSHKeyLabelLen = 100

// AddSSHKey registers an authorized_keys line for the user. An empty label
// takes the key's comment. Unparseable keys give ErrInvalid, a key the user
// already has gives ErrConflict.
func (db *DB) AddSSHKey(ctx context.Context, userID, label, authorizedKey string) (SSHKey, error) {
	pub, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(authorizedKey))
	if err != nil || strings.TrimSpace(string(rest)) != "" {
		return SSHKey{}, fmt.Errorf("%w: paste exactly one public key in authorized_keys format (e.g. the contents of ~/.ssh/id_ed25519.pub)", ErrInvalid)
	}
	label = strings.TrimSpace(label)
	if label == "" {
		label = comment
	}
	if len(label) > maxSSHKeyLabelLen {
		return SSHKey{}, fmt.Errorf("%w: label must be at most %d characters", ErrInvalid, maxSSHKeyLabelLen)
	}
	rec := sshKeyRecord{
		V:             recordVersion,
		Fingerprint:   ssh.FingerprintSHA256(pub),
		Label:         label,
		Type:          pub.Type(),
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
		Created:       db.now().UTC(),
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := userByID(tx, userID); err != nil {
			return fmt.Errorf("user %q: %w", userID, err)
		}
		b, err := createUserBucket(tx, bucketSSHKeys, userID)
		if err != nil {
			return err
		}
		if b.Get([]byte(rec.Fingerprint)) != nil {
			return fmt.Errorf("%w: key %s is already registered", ErrConflict, rec.Fingerprint)
		}
		return put(b, []byte(rec.Fingerprint), rec)
	})
	if err != nil {
		return SSHKey{}, fmt.Errorf("store: add ssh key: %w", err)
	}
	return rec.key(), nil
}

// SSHKeys returns the user's keys, oldest first.
func (db *DB) SSHKeys(ctx context.Context, userID string) ([]SSHKey, error) {
	var out []SSHKey
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := userBucket(tx, bucketSSHKeys, userID)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var rec sshKeyRecord
			if err := decode(v, &rec); err != nil {
				return err
			}
			out = append(out, rec.key())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: ssh keys: %w", err)
	}
	slices.SortFunc(out, func(a, b SSHKey) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// DeleteSSHKey removes one of the user's keys by fingerprint.
func (db *DB) DeleteSSHKey(ctx context.Context, userID, fingerprint string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := userBucket(tx, bucketSSHKeys, userID)
		if b == nil || b.Get([]byte(fingerprint)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(fingerprint))
	})
	if err != nil {
		return fmt.Errorf("store: delete ssh key %s: %w", fingerprint, err)
	}
	return nil
}

// UserForSSHKey returns the user named username if key (the wire form,
// ssh.PublicKey.Marshal()) is one of their registered keys. Any mismatch
// gives ErrBadCredentials; a disabled account's own key gives ErrDisabled.
// It records nothing: an SSH client may merely offer a key it cannot sign
// with; TouchSSHKey records a completed login.
func (db *DB) UserForSSHKey(ctx context.Context, username string, key []byte) (User, error) {
	pub, err := ssh.ParsePublicKey(key)
	if err != nil {
		return User{}, ErrBadCredentials
	}
	fp := []byte(ssh.FingerprintSHA256(pub))
	var user User
	err = db.bolt.View(func(tx *bolt.Tx) error {
		u, err := userByName(tx, username)
		if err != nil {
			return ErrBadCredentials
		}
		b := userBucket(tx, bucketSSHKeys, u.ID)
		if b == nil {
			return ErrBadCredentials
		}
		v := b.Get(fp)
		if v == nil {
			return ErrBadCredentials
		}
		var rec sshKeyRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		stored, _, _, _, err := ssh.ParseAuthorizedKey([]byte(rec.AuthorizedKey))
		if err != nil || !bytes.Equal(stored.Marshal(), key) {
			return ErrBadCredentials
		}
		if u.Disabled {
			return ErrDisabled
		}
		user = u.user()
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("store: ssh key login %q: %w", username, err)
	}
	return user, nil
}

// TouchSSHKey records that the user signed in with the key (its "last used").
func (db *DB) TouchSSHKey(ctx context.Context, userID, fingerprint string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := userBucket(tx, bucketSSHKeys, userID)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(fingerprint))
		if v == nil {
			return ErrNotFound
		}
		var rec sshKeyRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		rec.LastUsed = db.now().UTC()
		return put(b, []byte(fingerprint), rec)
	})
	if err != nil {
		return fmt.Errorf("store: touch ssh key %s: %w", fingerprint, err)
	}
	return nil
}
