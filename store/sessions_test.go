package store

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/sessions"
)

const cookieName = "corral_session"

// login saves a session holding uid and returns its cookie.
func login(t *testing.T, s *SessionStore, uid string) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	w := httptest.NewRecorder()
	sess, err := s.New(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.IsNew {
		t.Fatal("session from a cookieless request is not new")
	}
	sess.Values[SessionUserKey] = uid
	sess.Values["csrf"] = "token-" + uid
	if err := s.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	return onlyCookie(t, w)
}

func onlyCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != cookieName {
		t.Fatalf("cookies = %v", cs)
	}
	return cs[0]
}

// load reads the session a cookie names.
func load(t *testing.T, s *SessionStore, c *http.Cookie) *sessions.Session {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if c != nil {
		r.AddCookie(c)
	}
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestSessionStore_RoundTrip(t *testing.T) {
	db, path := mustOpen(t)
	s := db.Sessions(cookieName, time.Hour)
	c := login(t, s, "user-1")

	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.MaxAge != 3600 {
		t.Errorf("cookie attributes = %+v", c)
	}
	sess := load(t, s, c)
	if sess.IsNew || sess.ID != c.Value {
		t.Fatalf("IsNew=%v ID=%q, want the saved session", sess.IsNew, sess.ID)
	}
	if sess.Values[SessionUserKey] != "user-1" || sess.Values["csrf"] != "token-user-1" {
		t.Fatalf("values = %v", sess.Values)
	}
	if bytes.Contains(rawFile(t, path), []byte(c.Value)) {
		t.Fatal("the cookie value appears in the database file")
	}

	t.Run("SecureOverTLS", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "https://corral.test/", nil)
		w := httptest.NewRecorder()
		sess, _ := s.New(r, cookieName)
		if err := s.Save(r, w, sess); err != nil {
			t.Fatal(err)
		}
		if !onlyCookie(t, w).Secure {
			t.Fatal("cookie set over TLS is not Secure")
		}
	})
	t.Run("NonStringValue", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		sess, _ := s.New(r, cookieName)
		sess.Values["n"] = 1
		if err := s.Save(r, httptest.NewRecorder(), sess); err == nil {
			t.Fatal("non-string value saved")
		}
	})
}

func TestSessionStore_Fresh(t *testing.T) {
	db, _ := mustOpen(t)
	s := db.Sessions(cookieName, time.Hour)
	for name, c := range map[string]*http.Cookie{
		"none":      nil,
		"malformed": {Name: cookieName, Value: "not a session id!"},
		"unknown":   {Name: cookieName, Value: newSessionID()},
	} {
		sess := load(t, s, c)
		if !sess.IsNew || sess.ID != "" || len(sess.Values) != 0 {
			t.Errorf("%s: got IsNew=%v ID=%q values=%v, want a fresh session", name, sess.IsNew, sess.ID, sess.Values)
		}
	}
}

func TestSessionStore_Expiry(t *testing.T) {
	clock := newFakeClock()
	db, _ := mustOpen(t, withClock(clock))
	s := db.Sessions(cookieName, time.Hour)
	old := login(t, s, "u1")
	clock.Add(30 * time.Minute)
	fresh := login(t, s, "u2")
	clock.Add(31 * time.Minute)

	if !load(t, s, old).IsNew {
		t.Fatal("expired session still loads")
	}
	if load(t, s, fresh).IsNew {
		t.Fatal("live session lost")
	}
	n, err := db.PurgeExpiredSessions(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want 1", n, err)
	}
	if n, _ := db.PurgeExpiredSessions(t.Context()); n != 0 {
		t.Fatalf("second purge = %d, want 0", n)
	}
	// The purged session is gone from the user index too.
	if n, _ := db.DeleteUserSessions(t.Context(), "u1"); n != 0 {
		t.Fatalf("index still holds %d purged session(s)", n)
	}
	if load(t, s, fresh).IsNew {
		t.Fatal("purge removed a live session")
	}
}

func TestSessionStore_Logout(t *testing.T) {
	db, _ := mustOpen(t)
	s := db.Sessions(cookieName, time.Hour)
	c := login(t, s, "u1")

	r := httptest.NewRequest(http.MethodPost, "/logout", nil)
	r.AddCookie(c)
	w := httptest.NewRecorder()
	sess, _ := s.Get(r, cookieName)
	sess.Options.MaxAge = -1
	if err := s.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	if out := onlyCookie(t, w); out.MaxAge >= 0 || out.Value != "" {
		t.Errorf("logout cookie = %+v, want an expiring empty cookie", out)
	}
	if !load(t, s, c).IsNew {
		t.Fatal("session survives logout")
	}
}

func TestSessionStore_Rotate(t *testing.T) {
	db, _ := mustOpen(t)
	s := db.Sessions(cookieName, time.Hour)
	c := login(t, s, "u1")

	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.AddCookie(c)
	w := httptest.NewRecorder()
	sess := load(t, s, c)
	if err := s.Rotate(r, w, sess); err != nil {
		t.Fatal(err)
	}
	nc := onlyCookie(t, w)
	if nc.Value == c.Value || sess.ID != nc.Value {
		t.Fatalf("rotate kept the id: old %q new %q session %q", c.Value, nc.Value, sess.ID)
	}
	if !load(t, s, c).IsNew {
		t.Fatal("old id still valid after rotate")
	}
	if got := load(t, s, nc); got.IsNew || got.Values[SessionUserKey] != "u1" {
		t.Fatalf("rotated session = IsNew %v values %v", got.IsNew, got.Values)
	}
}

func TestDB_DeleteSessions(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	s := db.Sessions(cookieName, time.Hour)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	a1, a2, b1 := login(t, s, alice.ID), login(t, s, alice.ID), login(t, s, bob.ID)

	t.Run("DeleteSession", func(t *testing.T) {
		if err := db.DeleteSession(ctx, a1.Value); err != nil {
			t.Fatal(err)
		}
		if !load(t, s, a1).IsNew || load(t, s, a2).IsNew {
			t.Fatal("DeleteSession removed the wrong session")
		}
	})
	t.Run("SetPasswordDeletesUserSessions", func(t *testing.T) {
		a3 := login(t, s, alice.ID)
		if err := db.SetPassword(ctx, alice.ID, "new password"); err != nil {
			t.Fatal(err)
		}
		if !load(t, s, a2).IsNew || !load(t, s, a3).IsNew {
			t.Fatal("alice's sessions survive a password change")
		}
		if load(t, s, b1).IsNew {
			t.Fatal("bob's session was deleted by alice's password change")
		}
	})
	t.Run("DeleteUserSessions", func(t *testing.T) {
		login(t, s, bob.ID)
		n, err := db.DeleteUserSessions(ctx, bob.ID)
		if err != nil || n != 2 {
			t.Fatalf("DeleteUserSessions = %d, %v; want 2", n, err)
		}
		if !load(t, s, b1).IsNew {
			t.Fatal("bob's session survives")
		}
	})
}
