package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEntry is one line of the audit log. Kind is a dotted event name such
// as "login.ok", "login.failed", "node.add" or "ssh.session.start"; its
// first words give the entry's Category. UserID and Username are who acted
// (only a name for failed sign-ins); SubjectID is the account an
// administrator acted on, so its owner sees the entry too. Detail must
// never contain a secret.
type AuditEntry struct {
	Time      time.Time
	Kind      string
	Category  string // set when read, from Kind: see AuditCategory
	UserID    string
	Username  string
	SubjectID string
	Remote    string
	Target    string
	Detail    string
}

type auditRecord struct {
	V         int       `json:"v"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	UserID    string    `json:"uid,omitempty"`
	Username  string    `json:"username,omitempty"`
	SubjectID string    `json:"subject,omitempty"`
	Remote    string    `json:"remote,omitempty"`
	Target    string    `json:"target,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

func (r auditRecord) entry() AuditEntry {
	return AuditEntry{
		Time: r.Time, Kind: r.Kind, Category: AuditCategory(r.Kind), UserID: r.UserID, Username: r.Username,
		SubjectID: r.SubjectID, Remote: r.Remote, Target: r.Target, Detail: r.Detail,
	}
}

// Audit categories, what the activity page filters by.
const (
	AuditSignIn    = "signin"
	AuditNode      = "node"
	AuditContainer = "container"
	AuditTemplate  = "template"
	AuditSSH       = "ssh"
	AuditAccount   = "account"
	AuditOther     = "other"
)

// AuditCategories lists the categories in the order a filter offers them.
var AuditCategories = []string{AuditSignIn, AuditNode, AuditContainer, AuditTemplate, AuditSSH, AuditAccount, AuditOther}

// auditKindPrefixes maps the start of a kind to its category; the first
// match wins, so SSH sign-ins count as sign-ins, not SSH sessions.
var auditKindPrefixes = []struct{ prefix, category string }{
	{"login.", AuditSignIn}, {"logout", AuditSignIn}, {"setup.", AuditSignIn}, {"ssh.auth.", AuditSignIn},
	{"node.", AuditNode},
	{"container.", AuditContainer},
	{"template.", AuditTemplate}, {"bucket.", AuditTemplate},
	{"ssh.", AuditSSH},
	{"account.", AuditAccount}, {"sshkey.", AuditAccount},
}

// AuditCategory is the category of an entry of the given kind.
func AuditCategory(kind string) string {
	for _, p := range auditKindPrefixes {
		if strings.HasPrefix(kind, p.prefix) {
			return p.category
		}
	}
	return AuditOther
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
		SubjectID: e.SubjectID, Remote: e.Remote, Target: e.Target, Detail: e.Detail,
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
			out = append(out, rec.entry())
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit entries: %w", err)
	}
	return out, nil
}

// AuditQuery selects a page of the audit log, newest first.
type AuditQuery struct {
	// UserID limits the page to one account's entries: what it did, what
	// an administrator did to it, and failed sign-ins naming Username.
	// Empty means every account's.
	UserID, Username string
	Category         string    // one of AuditCategories; empty means all
	From, To         time.Time // From inclusive, To exclusive; zero is open
	Before           string    // AuditPage.Next of the previous page; empty starts at the newest
	Limit            int       // entries per page; <= 0 means 50
}

// AuditPage is one page of the audit log. Next, when not empty, continues
// with older entries.
type AuditPage struct {
	Entries []AuditEntry
	Next    string
}

func (q AuditQuery) match(rec auditRecord) bool {
	if q.Category != "" && AuditCategory(rec.Kind) != q.Category {
		return false
	}
	if q.UserID == "" {
		return true
	}
	return rec.UserID == q.UserID || rec.SubjectID == q.UserID ||
		(rec.UserID == "" && q.Username != "" && strings.EqualFold(rec.Username, q.Username))
}

// AuditLog returns one page of entries. Keys sort by time, so the walk
// starts at the newer bound and stops at the older one: a page costs the
// entries it reads, not the size of the log.
func (db *DB) AuditLog(ctx context.Context, q AuditQuery) (AuditPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	var start []byte // exclusive upper bound of the walk; nil is the end
	if !q.To.IsZero() {
		start = timeSeqKey(q.To, 0)
	}
	if q.Before != "" {
		k, err := hex.DecodeString(q.Before)
		if err != nil || len(k) != 16 {
			return AuditPage{}, fmt.Errorf("store: audit log: %w: bad page cursor", ErrInvalid)
		}
		if start == nil || bytes.Compare(k, start) < 0 {
			start = k
		}
	}
	var stop []byte
	if !q.From.IsZero() {
		stop = timeSeqKey(q.From, 0)
	}
	var page AuditPage
	var last []byte // key of the last entry on the page
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketAudit)).Cursor()
		var k, v []byte
		if start == nil {
			k, v = c.Last()
		} else if k, _ = c.Seek(start); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && (stop == nil || bytes.Compare(k, stop) >= 0); k, v = c.Prev() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var rec auditRecord
			if err := decode(v, &rec); err != nil {
				return err
			}
			if !q.match(rec) {
				continue
			}
			if len(page.Entries) == q.Limit {
				page.Next = hex.EncodeToString(last)
				return nil
			}
			page.Entries = append(page.Entries, rec.entry())
			last = bytes.Clone(k)
		}
		return nil
	})
	if err != nil {
		return AuditPage{}, fmt.Errorf("store: audit log: %w", err)
	}
	return page, nil
}

// PurgeAudit deletes the entries older than before and returns how many:
// a range at the start of the bucket, since keys begin with the time.
func (db *DB) PurgeAudit(ctx context.Context, before time.Time) (int, error) {
	end := timeSeqKey(before, 0)
	var n int
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketAudit)).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge audit log: %w", err)
	}
	return n, nil
}
