package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"corral/handlers"
)

// TestAccount_PasswordChange: the current password is required; the
// change signs the other session out and keeps this one.
func TestAccount_PasswordChange(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "alice-password")
	here, there := s.client(t), s.client(t)
	here.login("alice", "alice-password")
	there.login("alice", "alice-password")

	here.get("/settings/account")
	res := here.post("/settings/account/password", url.Values{"current": {"wrong"}, "password": {"new-password-1"}, "confirm": {"new-password-1"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.Doc.Find(`[data-field="current"]`).Text(), "not your current password") {
		t.Fatalf("wrong current password:\n%s", res.Body)
	}
	res = here.post("/settings/account/password", url.Values{"current": {"alice-password"}, "password": {"short"}, "confirm": {"other"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if res.Doc.Find(`[data-field="password"]`).Length() != 1 || res.Doc.Find(`[data-field="confirm"]`).Length() != 1 {
		t.Fatalf("want both problems at once:\n%s", res.Body)
	}
	if there.get("/containers").StatusCode != http.StatusOK {
		t.Fatal("a refused change signed the other session out")
	}

	res = here.post("/settings/account/password", url.Values{"current": {"alice-password"}, "password": {"new-password-1"}, "confirm": {"new-password-1"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings/account" {
		t.Fatalf("change: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if got := here.get("/settings/account"); got.StatusCode != http.StatusOK || !strings.Contains(got.Doc.Find(`[data-testid="flash"]`).Text(), "Password changed") {
		t.Fatalf("this session after the change: %d", got.StatusCode)
	}
	if res := there.get("/containers"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other session survived the change: %d", res.StatusCode)
	}
	there.login("alice", "new-password-1")
}

// TestAccount_PasswordGuessesLimited: the current-password check shares
// the sign-in limiter, so a borrowed session cannot guess it.
func TestAccount_PasswordGuessesLimited(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "alice-password")
	c := s.client(t)
	c.login("alice", "alice-password")
	for range 5 {
		c.post("/settings/account/password", url.Values{"current": {"guess"}, "password": {"new-password-1"}, "confirm": {"new-password-1"}})
	}
	res := c.post("/settings/account/password", url.Values{"current": {"alice-password"}, "password": {"new-password-1"}, "confirm": {"new-password-1"}})
	expectStatus(t, res, http.StatusTooManyRequests)
	if _, err := s.DB.Authenticate(t.Context(), "alice", "alice-password"); err != nil {
		t.Fatal("the password changed during the lockout")
	}
}

// TestAccount_Sessions lists where alice is signed in and signs out one,
// then all others; bob's session ids are not alice's to end.
func TestAccount_Sessions(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "alice", "alice-password")
	s.withUser(t, "bob", "bob-password")
	here, laptop, phone, bob := s.client(t), s.client(t), s.client(t), s.client(t)
	here.login("alice", "alice-password")
	laptop.login("alice", "alice-password")
	phone.login("alice", "alice-password")
	bob.login("bob", "bob-password")

	page := here.get("/settings/account")
	rows := page.Doc.Find(`[data-testid="session"]`)
	if rows.Length() != 3 || page.Doc.Find(`[data-testid="session"][data-current="true"]`).Length() != 1 {
		t.Fatalf("sessions listed:\n%s", page.Body)
	}
	if !strings.Contains(rows.First().Text(), "127.0.0.1") || !strings.Contains(rows.First().Text(), "Go-http-client") && !strings.Contains(rows.First().Text(), "Unknown browser") {
		t.Fatalf("session row %q", rows.First().Text())
	}
	if page.Doc.Find(`[data-testid="account-gateway"]`).Length() != 1 {
		t.Fatal("no gateway panel")
	}
	bobID, _ := bob.get("/settings/account").Doc.Find(`[data-testid="session"]`).Attr("data-session-id")
	expectStatus(t, here.post("/settings/account/sessions/"+bobID+"/revoke", nil), http.StatusNotFound)
	if bob.get("/containers").StatusCode != http.StatusOK {
		t.Fatal("alice signed bob out")
	}

	laptopID, _ := laptop.get("/settings/account").Doc.Find(`[data-testid="session"][data-current="true"]`).Attr("data-session-id")
	here.get("/settings/account")
	expectStatus(t, here.post("/settings/account/sessions/"+laptopID+"/revoke", nil), http.StatusSeeOther)
	if laptop.get("/containers").StatusCode != http.StatusSeeOther || phone.get("/containers").StatusCode != http.StatusOK {
		t.Fatal("want the laptop signed out and the phone still in")
	}
	expectStatus(t, here.post("/settings/account/sessions/revoke-others", nil), http.StatusSeeOther)
	if phone.get("/containers").StatusCode != http.StatusSeeOther || here.get("/containers").StatusCode != http.StatusOK {
		t.Fatal("want only this browser left")
	}
	if n := here.get("/settings/account").Doc.Find(`[data-testid="session"]`).Length(); n != 1 {
		t.Fatalf("%d sessions listed after signing out the others", n)
	}
}

// TestAccount_GatewayFingerprint shows the host key to compare with ssh.
func TestAccount_GatewayFingerprint(t *testing.T) {
	s := newTestServer(t, func(d *handlers.Deps) {
		d.SSHGateway = handlers.SSHGatewayInfo{Fingerprint: "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", Port: "2222"}
	})
	s.withUser(t, "alice", "alice-password")
	c := s.client(t)
	c.login("alice", "alice-password")
	page := c.get("/settings/account")
	if got := page.Doc.Find(`[data-testid="account-gateway-fingerprint"]`).Text(); got != "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" {
		t.Fatalf("fingerprint %q", got)
	}
	if !strings.Contains(page.Doc.Find(`[data-testid="account-gateway"]`).Text(), "ssh -p 2222 alice@127.0.0.1") {
		t.Fatalf("gateway panel %q", page.Doc.Find(`[data-testid="account-gateway"]`).Text())
	}
}
