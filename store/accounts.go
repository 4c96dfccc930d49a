package store

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Account management: what administrators (and the corral user command)
// do to accounts. Every change that could leave nobody able to manage
// accounts is refused with ErrLastAdmin inside the transaction that would
// make it, so two administrators demoting each other cannot both win.

// Account is a user as the accounts list shows it.
type Account struct {
	User
	Nodes int // nodes the account has registered
}

// Accounts lists every account, oldest first.
func (db *DB) Accounts(ctx context.Context) ([]Account, error) {
	var out []Account
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketUsers)).ForEach(func(_, v []byte) error {
			var rec userRecord
			if err := decode(v, &rec); err != nil {
				return err
			}
			a := Account{User: rec.user()}
			if b := userBucket(tx, bucketNodes, rec.ID); b != nil {
				a.Nodes = b.Stats().KeyN
			}
			out = append(out, a)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: accounts: %w", err)
	}
	slices.SortFunc(out, func(a, b Account) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// RecordSignIn notes that the user just signed in (web or SSH gateway).
func (db *DB) RecordSignIn(ctx context.Context, userID string) error {
	err := db.changeUser(userID, func(tx *bolt.Tx, rec *userRecord) error {
		rec.LastSignIn = db.now().UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record sign-in of %q: %w", userID, err)
	}
	return nil
}

// SetUserDisabled disables or enables an account. Disabling ends its web
// sessions and invite links in the same transaction; its data stays.
func (db *DB) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	err := db.changeUser(userID, func(tx *bolt.Tx, rec *userRecord) error {
		if disabled && rec.Role == RoleAdmin && !rec.Disabled {
			if err := keepAnAdmin(tx, rec.ID); err != nil {
				return err
			}
		}
		rec.Disabled = disabled
		if !disabled {
			return nil
		}
		if _, err := deleteUserSessions(tx, rec.ID); err != nil {
			return err
		}
		return deleteUserInvites(tx, rec.ID)
	})
	if err != nil {
		return fmt.Errorf("store: disable %q: %w", userID, err)
	}
	return nil
}

// SetUserRole makes an account an administrator or a member.
func (db *DB) SetUserRole(ctx context.Context, userID, role string) error {
	if role != RoleAdmin && role != RoleMember {
		return fmt.Errorf("store: set role: %w: role must be %s or %s", ErrInvalid, RoleAdmin, RoleMember)
	}
	err := db.changeUser(userID, func(tx *bolt.Tx, rec *userRecord) error {
		if rec.Role == RoleAdmin && role != RoleAdmin && !rec.Disabled {
			if err := keepAnAdmin(tx, rec.ID); err != nil {
				return err
			}
		}
		rec.Role = role
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set role of %q: %w", userID, err)
	}
	return nil
}

// Removed counts what DeleteUser took out of Corral's records.
type Removed struct {
	Nodes, Containers, Templates, Jobs int
}

// DeleteUser removes an account and everything Corral keeps for it:
// sessions, invite links, SSH keys, nodes, container records, templates,
// package buckets, jobs with their logs, and container events. Nothing on
// Proxmox is touched. An account with nodes is refused with ErrHasNodes
// unless withNodes says its nodes go too; one with a container being
// created is refused with ErrJobRunning. The audit log keeps its entries.
func (db *DB) DeleteUser(ctx context.Context, userID string, withNodes bool) (Removed, error) {
	var gone Removed
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		if rec.Role == RoleAdmin && !rec.Disabled {
			if err := keepAnAdmin(tx, rec.ID); err != nil {
				return err
			}
		}
		gone = Removed{
			Nodes:      keyCount(userBucket(tx, bucketNodes, userID)),
			Containers: keyCount(userBucket(tx, bucketContainers, userID)),
			Templates:  keyCount(userBucket(tx, bucketTemplates, userID)),
		}
		if gone.Nodes > 0 && !withNodes {
			return fmt.Errorf("%w: %s has %d node(s)", ErrHasNodes, rec.Username, gone.Nodes)
		}
		jobs, err := userJobIDs(tx, userID)
		if err != nil {
			return err
		}
		gone.Jobs = len(jobs)
		if _, err := deleteUserSessions(tx, userID); err != nil {
			return err
		}
		if err := deleteUserInvites(tx, userID); err != nil {
			return err
		}
		if err := deleteUserEvents(tx, userID); err != nil {
			return err
		}
		logs := tx.Bucket([]byte(bucketJobLogs))
		for _, id := range jobs {
			if logs.Bucket([]byte(id)) != nil {
				if err := logs.DeleteBucket([]byte(id)); err != nil {
					return err
				}
			}
		}
		for _, parent := range []string{bucketNodes, bucketContainers, bucketSSHKeys, bucketTemplates, bucketPkgBuckets, bucketJobs} {
			if userBucket(tx, parent, userID) == nil {
				continue
			}
			if err := tx.Bucket([]byte(parent)).DeleteBucket([]byte(userID)); err != nil {
				return fmt.Errorf("%s: %w", parent, err)
			}
		}
		if err := tx.Bucket([]byte(bucketUsernames)).Delete(usernameKey(rec.Username)); err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketUsers)).Delete([]byte(userID))
	})
	if err != nil {
		return Removed{}, fmt.Errorf("store: delete account %q: %w", userID, err)
	}
	return gone, nil
}

// changeUser reads, changes and writes one user record in one transaction.
func (db *DB) changeUser(userID string, change func(tx *bolt.Tx, rec *userRecord) error) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := userByID(tx, userID)
		if err != nil {
			return err
		}
		if err := change(tx, &rec); err != nil {
			return err
		}
		return put(tx.Bucket([]byte(bucketUsers)), []byte(rec.ID), rec)
	})
}

// keepAnAdmin refuses a change that takes account except out of the
// enabled administrators when it is the only one.
func keepAnAdmin(tx *bolt.Tx, except string) error {
	others := 0
	err := tx.Bucket([]byte(bucketUsers)).ForEach(func(k, v []byte) error {
		var rec userRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		if rec.ID != except && rec.Role == RoleAdmin && !rec.Disabled {
			others++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// userJobIDs lists the ids of the user's jobs; a queued or running one
// makes the account busy.
func userJobIDs(tx *bolt.Tx, userID string) ([]string, error) {
	b := userBucket(tx, bucketJobs, userID)
	if b == nil {
		return nil, nil
	}
	var ids []string
	err := b.ForEach(func(k, v []byte) error {
		var rec jobRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		if rec.State.Active() {
			return fmt.Errorf("%w: %s (CT %d)", ErrJobRunning, rec.Hostname, rec.VMID)
		}
		ids = append(ids, string(k))
		return nil
	})
	return ids, err
}

// deleteUserEvents removes the user's container and job events with their
// index entries. Events are keyed by a global sequence, so the records are
// found by a walk; deleting an account is rare.
func deleteUserEvents(tx *bolt.Tx, userID string) error {
	prefix := []byte(userID + "\x00")
	for _, name := range []string{bucketEventsByCt, bucketEventsByJob} {
		if err := deletePrefix(tx.Bucket([]byte(name)), prefix); err != nil {
			return err
		}
	}
	events := tx.Bucket([]byte(bucketEvents))
	var doomed [][]byte
	err := events.ForEach(func(k, v []byte) error {
		var rec struct {
			UserID string `json:"uid"`
		}
		if err := decode(v, &rec); err != nil {
			return err
		}
		if rec.UserID == userID {
			doomed = append(doomed, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range doomed {
		if err := events.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix removes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// keyCount is the number of keys in b (nil: none).
func keyCount(b *bolt.Bucket) int {
	if b == nil {
		return 0
	}
	return b.Stats().KeyN
}
