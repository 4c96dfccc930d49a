package store

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestDB_ChangePassword: the right current password is needed; the
// session making the change stays, the user's others end, others' stay.
func TestDB_ChangePassword(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	s := db.Sessions(cookieName, time.Hour)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	here, there, bobs := login(t, s, alice.ID), login(t, s, alice.ID), login(t, s, bob.ID)

	if err := db.ChangePassword(ctx, alice.ID, "wrong", "new password 1", here.Value); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := db.ChangePassword(ctx, alice.ID, "password-alice", "short", here.Value); !errors.Is(err, ErrInvalid) {
		t.Fatalf("too short a new password: %v", err)
	}
	if load(t, s, there).IsNew {
		t.Fatal("a refused change signed a session out")
	}
	if err := db.ChangePassword(ctx, alice.ID, "password-alice", "new password 1", here.Value); err != nil {
		t.Fatal(err)
	}
	if load(t, s, here).IsNew || !load(t, s, there).IsNew || load(t, s, bobs).IsNew {
		t.Fatal("want: this session kept, alice's other one ended, bob's kept")
	}
	if list, _ := db.UserSessions(ctx, alice.ID, here.Value); len(list) != 1 || !list[0].Current {
		t.Fatalf("alice's sessions after the change: %+v", list)
	}
	if _, err := db.Authenticate(ctx, "alice", "new password 1"); err != nil {
		t.Fatal(err)
	}
}

// TestSessionStore_Seen: the account page's browser, address and last
// seen, written at most once a minute per session.
func TestSessionStore_Seen(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	db, _ := mustOpen(t, withClock(clock))
	s := db.Sessions(cookieName, time.Hour)
	alice := mustUser(t, db, "alice")
	c := login(t, s, alice.ID)
	start := clock.Now()

	if err := s.Seen(ctx, c.Value, "192.0.2.7", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"); err != nil {
		t.Fatal(err)
	}
	clock.Add(30 * time.Second)
	_ = s.Seen(ctx, c.Value, "192.0.2.8", "other")
	list, err := db.UserSessions(ctx, alice.ID, c.Value)
	if err != nil || len(list) != 1 {
		t.Fatalf("UserSessions = %+v, %v", list, err)
	}
	got := list[0]
	if got.Remote != "192.0.2.7" || got.Agent != "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" || !got.LastSeen.Equal(start) || !got.Current {
		t.Fatalf("after a second use within the minute: %+v", got)
	}
	clock.Add(31 * time.Second)
	_ = s.Seen(ctx, c.Value, "192.0.2.8", "other")
	list, _ = db.UserSessions(ctx, alice.ID, "")
	if got := list[0]; got.Remote != "192.0.2.8" || !got.LastSeen.Equal(clock.Now()) || got.Current {
		t.Fatalf("after a minute: %+v", got)
	}
	// A save (as every login or CSRF refresh does) keeps what Seen wrote.
	sess := load(t, s, c)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	if err := s.Save(r, httptest.NewRecorder(), sess); err != nil {
		t.Fatal(err)
	}
	list, _ = db.UserSessions(ctx, alice.ID, "")
	if list[0].Remote != "192.0.2.8" {
		t.Fatalf("a save forgot the address: %+v", list[0])
	}
	if err := s.Seen(ctx, "not-a-session", "x", "y"); err != nil {
		t.Fatalf("Seen of a malformed id: %v", err)
	}
}

// TestDB_RevokeSession: a user ends one of their sessions by its listed
// id; another user's id is not found.
func TestDB_RevokeSession(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	s := db.Sessions(cookieName, time.Hour)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	a1, a2, a3, b1 := login(t, s, alice.ID), login(t, s, alice.ID), login(t, s, alice.ID), login(t, s, bob.ID)
	bobs, _ := db.UserSessions(ctx, bob.ID, b1.Value)
	if err := db.RevokeSession(ctx, alice.ID, bobs[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("alice revokes bob's session: %v", err)
	}
	for _, bad := range []string{"", "x", "AAAA"} {
		if err := db.RevokeSession(ctx, alice.ID, bad); !errors.Is(err, ErrNotFound) {
			t.Fatalf("RevokeSession(%q) = %v", bad, err)
		}
	}
	mine, _ := db.UserSessions(ctx, alice.ID, a1.Value)
	var other string
	for _, m := range mine {
		if !m.Current {
			other = m.ID
		}
	}
	if err := db.RevokeSession(ctx, alice.ID, other); err != nil {
		t.Fatal(err)
	}
	if left, _ := db.UserSessions(ctx, alice.ID, a1.Value); len(left) != 2 {
		t.Fatalf("%d sessions left, want 2", len(left))
	}
	n, err := db.RevokeOtherSessions(ctx, alice.ID, a1.Value)
	if err != nil || n != 1 {
		t.Fatalf("RevokeOtherSessions = %d, %v", n, err)
	}
	if load(t, s, a1).IsNew || !load(t, s, a2).IsNew || !load(t, s, a3).IsNew || load(t, s, b1).IsNew {
		t.Fatal("want only a1 of alice's and bob's session left")
	}
}
