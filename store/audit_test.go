package store

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestDB_Audit(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	db, _ := mustOpen(t, withClock(clock))
	base := clock.Now()

	// Out of order, and two with the same timestamp: the key sorts by time,
	// then by insertion.
	for _, e := range []AuditEntry{
		{Time: base.Add(2 * time.Second), Kind: "node.add", Target: "pve1"},
		{Time: base, Kind: "login.failed", Username: "alice", Remote: "127.0.0.1"},
		{Time: base.Add(2 * time.Second), Kind: "node.delete", Target: "pve1"},
		{Kind: "login.ok", Username: "alice"}, // zero time = now = base
	} {
		if err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Audit(ctx, AuditEntry{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty kind err = %v", err)
	}

	all, err := db.AuditEntries(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range all {
		kinds = append(kinds, e.Kind)
	}
	want := []string{"node.delete", "node.add", "login.ok", "login.failed"}
	if len(kinds) != len(want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds = %v, want %v", kinds, want)
		}
	}
	if all[3].Username != "alice" || all[3].Remote != "127.0.0.1" || !all[3].Time.Equal(base) {
		t.Fatalf("entry = %+v", all[3])
	}
	two, err := db.AuditEntries(ctx, 2)
	if err != nil || len(two) != 2 || two[0].Kind != "node.delete" {
		t.Fatalf("limit 2 = %+v, %v", two, err)
	}
}

func TestAuditCategory(t *testing.T) {
	for kind, want := range map[string]string{
		"login.ok": AuditSignIn, "login.failed": AuditSignIn, "logout": AuditSignIn, "setup.account": AuditSignIn,
		"ssh.auth.success": AuditSignIn, "ssh.auth.failure": AuditSignIn,
		"node.add": AuditNode, "container.delete": AuditContainer, "container.credentials.reveal": AuditContainer,
		"template.share": AuditTemplate, "bucket.create": AuditTemplate,
		"ssh.session.start": AuditSSH, "ssh.denied": AuditSSH, "ssh.upstream.hostkey_mismatch": AuditSSH,
		"account.disable": AuditAccount, "sshkey.add": AuditAccount, "something.new": AuditOther,
	} {
		if got := AuditCategory(kind); got != want {
			t.Errorf("AuditCategory(%q) = %q, want %q", kind, got, want)
		}
	}
}

// TestDB_AuditLog pages through the log newest first with every filter,
// and purges what is older than the retention.
func TestDB_AuditLog(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// 120 entries an hour apart: alice's node changes, bob's sign-ins,
	// an administrator (carol) disabling alice, failed sign-ins as alice.
	for i := range 120 {
		e := AuditEntry{Time: base.Add(time.Duration(i) * time.Hour), Target: strconv.Itoa(i)}
		switch i % 4 {
		case 0:
			e.Kind, e.UserID, e.Username = "node.add", "alice-id", "alice"
		case 1:
			e.Kind, e.UserID, e.Username = "login.ok", "bob-id", "bob"
		case 2:
			e.Kind, e.UserID, e.Username, e.SubjectID = "account.disable", "carol-id", "carol", "alice-id"
		case 3:
			e.Kind, e.Username = "login.failed", "ALICE"
		}
		if err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	targets := func(es []AuditEntry) []int {
		var out []int
		for _, e := range es {
			n, _ := strconv.Atoi(e.Target)
			out = append(out, n)
		}
		return out
	}

	t.Run("pages", func(t *testing.T) {
		var all []int
		q := AuditQuery{Limit: 50}
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("more pages than entries")
			}
			p, err := db.AuditLog(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, targets(p.Entries)...)
			if p.Next == "" {
				break
			}
			q.Before = p.Next
		}
		if len(all) != 120 {
			t.Fatalf("%d entries over the pages", len(all))
		}
		for i, n := range all {
			if n != 119-i {
				t.Fatalf("entry %d is #%d: not newest first without gaps", i, n)
			}
		}
	})
	t.Run("own entries", func(t *testing.T) {
		p, err := db.AuditLog(ctx, AuditQuery{UserID: "alice-id", Username: "alice", Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != 90 {
			t.Fatalf("alice sees %d entries, want her 30 node changes, 30 done to her, 30 failed sign-ins", len(p.Entries))
		}
		for _, e := range p.Entries {
			if e.Kind == "login.ok" {
				t.Fatalf("alice sees bob's sign-in: %+v", e)
			}
		}
	})
	t.Run("category and dates", func(t *testing.T) {
		from, to := base.Add(10*time.Hour), base.Add(30*time.Hour)
		p, err := db.AuditLog(ctx, AuditQuery{Category: AuditSignIn, From: from, To: to, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if got := targets(p.Entries); !slices.Equal(got, []int{29, 27, 25, 23, 21}) || p.Next == "" {
			t.Fatalf("first page %v (next %q)", got, p.Next)
		}
		p, _ = db.AuditLog(ctx, AuditQuery{Category: AuditSignIn, From: from, To: to, Limit: 5, Before: p.Next})
		if got := targets(p.Entries); !slices.Equal(got, []int{19, 17, 15, 13, 11}) || p.Next != "" {
			t.Fatalf("second page %v (next %q)", got, p.Next)
		}
		for _, e := range p.Entries {
			if e.Category != AuditSignIn {
				t.Fatalf("entry %+v has category %q", e, e.Category)
			}
		}
		if _, err := db.AuditLog(ctx, AuditQuery{Before: "zz"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad cursor: %v", err)
		}
	})
	t.Run("purge", func(t *testing.T) {
		n, err := db.PurgeAudit(ctx, base.Add(100*time.Hour))
		if err != nil || n != 100 {
			t.Fatalf("PurgeAudit = %d, %v; want 100", n, err)
		}
		p, _ := db.AuditLog(ctx, AuditQuery{Limit: 200})
		if got := targets(p.Entries); len(got) != 20 || got[19] != 100 {
			t.Fatalf("left %v", got)
		}
		if n, _ := db.PurgeAudit(ctx, base.Add(100*time.Hour)); n != 0 {
			t.Fatalf("second purge removed %d", n)
		}
	})
}
