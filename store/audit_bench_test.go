package store

import (
	"testing"
	"time"
)

// BenchmarkAuditLog reads the first page of a 100,000-entry log (one
// entry a minute, about ten weeks), for everyone and for an account with
// one entry in ten, and pages with a date range: the walk stops after a
// page, whatever the log's size.
func BenchmarkAuditLog(b *testing.B) {
	db, _ := mustOpen(b)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 100_000
	tx, err := db.bolt.Begin(true)
	if err != nil {
		b.Fatal(err)
	}
	bk := tx.Bucket([]byte(bucketAudit))
	for i := range n {
		rec := auditRecord{V: recordVersion, Time: base.Add(time.Duration(i) * time.Minute), Kind: "node.add", UserID: "u-other", Username: "other"}
		if i%10 == 0 {
			rec.UserID, rec.Username, rec.Kind = "u-alice", "alice", "login.ok"
		}
		if err := put(bk, timeSeqKey(rec.Time, uint64(i)), rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    AuditQuery
	}{
		{"everyone", AuditQuery{}},
		{"one account", AuditQuery{UserID: "u-alice", Username: "alice"}},
		{"sign-ins in a week", AuditQuery{Category: AuditSignIn, From: base.Add(30 * 24 * time.Hour), To: base.Add(37 * 24 * time.Hour)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				p, err := db.AuditLog(b.Context(), c.q)
				if err != nil || len(p.Entries) != 50 {
					b.Fatalf("%d entries, %v", len(p.Entries), err)
				}
			}
		})
	}
}
