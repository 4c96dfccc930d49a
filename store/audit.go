package store

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEntry is one line of the audit log. Kind is a dotted event name such
// as "login.ok", "login.failed", "node.add" or "ssh.session". Detail must
// never contain a secret.
type AuditEntry struct {
	Time     time.Time
	Kind     string
	UserID   string
	Username string
	Remote   string
	Target   string
	Detail   string
}

type auditRecord struct {
	V        int       `json:"v"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	UserID   string    `json:"uid,omitempty"`
	Username string    `json:"username,omitempty"`
	Remote   string    `json:"remote,omitempty"`
	Target   string    `json:"target,omitempty"`
	Detail   string    `json:"detail,omitempty"`
}

// Audit appends an entry; a zero Time means now. The key is the big-endian
// time followed by a sequence number, so entries sort by time and entries
// with the same time keep their order.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	if e.Kind == "" {
		return fmt.Errorf("store: audit: %w: kind is required", ErrInvalid)
	}
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	rec := auditRecord{
		V: recordVersion, Time: e.Time.UTC(), Kind: e.Kind, UserID: e.UserID, Username: e.Username,
		Remote: e.Remote, Target: e.Target, Detail: e.Detail,
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketAudit))
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return put(b, timeSeqKey(rec.Time, seq), rec)
	})
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Kind, err)
	}
	return nil
}

// AuditEntries returns up to limit entries, newest first; limit <= 0 means
// all of them.
func (db *DB) AuditEntries(ctx context.Context, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketAudit)).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var rec auditRecord
			if err := decode(v, &rec); err != nil {
				return err
			}
			out = append(out, AuditEntry{
				Time: rec.Time, Kind: rec.Kind, UserID: rec.UserID, Username: rec.Username,
				Remote: rec.Remote, Target: rec.Target, Detail: rec.Detail,
			})
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit entries: %w", err)
	}
	return out, nil
}
