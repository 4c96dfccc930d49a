package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"corral/handlers"
	"corral/store"
)

// adminSetup is alice (the first account, an administrator) and bob (a
// member), each signed in with their own client.
func adminSetup(t *testing.T) (s *testServer, alice, bob store.User, ac, bc *client) {
	t.Helper()
	s = newTestServer(t)
	alice = s.withUser(t, "alice", "alice-password")
	bob = s.withUser(t, "bob", "bob-password")
	ac, bc = s.client(t), s.client(t)
	ac.login("alice", "alice-password")
	bc.login("bob", "bob-password")
	return s, alice, bob, ac, bc
}

// adminRoutes is every administrators' route, for a user id.
func adminRoutes(id string) [][2]string {
	return [][2]string{
		{http.MethodGet, "/settings/users"},
		{http.MethodPost, "/settings/users"},
		{http.MethodPost, "/settings/users/" + id + "/disable"},
		{http.MethodPost, "/settings/users/" + id + "/enable"},
		{http.MethodPost, "/settings/users/" + id + "/reset"},
		{http.MethodPost, "/settings/users/" + id + "/role"},
		{http.MethodPost, "/settings/users/" + id + "/delete"},
	}
}

// TestUsers_NotFoundForMembers: every administrators' route answers a
// member 404, exactly like a page that does not exist, and changes
// nothing; an anonymous visitor is sent to sign in.
func TestUsers_NotFoundForMembers(t *testing.T) {
	s, alice, bob, ac, bc := adminSetup(t)
	for _, target := range []string{alice.ID, bob.ID, "no-such-id"} {
		for _, r := range adminRoutes(target) {
			var res *response
			form := url.Values{"username": {"mallory"}, "role": {"admin"}, "remove_nodes": {"1"}}
			if r[0] == http.MethodGet {
				res = bc.get(r[1])
			} else {
				res = bc.post(r[1], form)
			}
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("member %s %s: %d, want 404", r[0], r[1], res.StatusCode)
			}
			if strings.Contains(res.Body, "settings-nav-users") {
				t.Errorf("member sees the Users tab on %s", r[1])
			}
		}
	}
	for _, r := range adminRoutes(bob.ID) {
		anon := s.client(t)
		anon.get("/login")
		var res *response
		if r[0] == http.MethodGet {
			res = anon.get(r[1])
		} else {
			res = anon.post(r[1], nil)
		}
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("anonymous %s %s: %d %s", r[0], r[1], res.StatusCode, res.Header.Get("Location"))
		}
	}
	// Nothing changed: no mallory, alice still the administrator, bob enabled.
	list, _ := s.DB.Accounts(t.Context())
	if len(list) != 2 || !list[0].IsAdmin() || list[1].IsAdmin() || list[1].Disabled || list[1].Pending {
		t.Fatalf("accounts after a member's attempts: %+v", list)
	}
	// The administrator reaches them.
	res := ac.get("/settings/users")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="settings-nav-users"]`).Length() != 1 || res.Doc.Find(`[data-testid="user-row"]`).Length() != 2 {
		t.Fatalf("admin's users page:\n%s", res.Body)
	}
	if bc.get("/settings/account").Doc.Find(`[data-testid="settings-nav-users"]`).Length() != 0 {
		t.Fatal("a member's settings show the Users tab")
	}
}

// TestUsers_InviteFlow: an administrator adds bob2 with a link; the link
// works once, for the person who holds it, without JavaScript.
func TestUsers_InviteFlow(t *testing.T) {
	s, _, _, ac, _ := adminSetup(t)
	res := ac.post("/settings/users", url.Values{"username": {"carol"}})
	expectStatus(t, res, http.StatusOK)
	link, ok := res.Doc.Find(`[data-testid="invite-link"]`).Attr("value")
	if !ok || !strings.HasPrefix(link, s.URL+"/invite/") {
		t.Fatalf("no invite link on the page:\n%s", res.Body)
	}
	path := strings.TrimPrefix(link, s.URL)
	if again := ac.get("/settings/users"); strings.Contains(again.Body, path) {
		t.Fatal("the link is shown again on the next visit")
	}
	if res := ac.post("/settings/users", url.Values{"username": {"Carol"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Doc.Find(`[data-field="username"]`).Text(), "already an account") {
		t.Fatalf("duplicate name: %d\n%s", res.StatusCode, res.Body)
	}
	if res := ac.post("/settings/users", url.Values{"username": {"no spaces"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad name: %d", res.StatusCode)
	}

	carol := s.client(t)
	page := carol.get(path)
	expectStatus(t, page, http.StatusOK)
	if got := page.Doc.Find(`[data-testid="invite-username"]`).Text(); got != "carol" {
		t.Fatalf("invite page names %q", got)
	}
	// A forged post (no token of the page) is refused.
	forged := s.client(t)
	expectStatus(t, forged.post(path, url.Values{"password": {"carol-password"}, "confirm": {"carol-password"}, "_csrf": {"x"}}), http.StatusForbidden)
	res = carol.post(path, url.Values{"password": {"carol-password"}, "confirm": {"different"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if res.Doc.Find(`[data-field="confirm"]`).Length() != 1 {
		t.Fatalf("no message at the repeat field:\n%s", res.Body)
	}
	res = carol.post(path, url.Values{"password": {"carol-password"}, "confirm": {"carol-password"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/containers" {
		t.Fatalf("redeem: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	dash := carol.get("/containers")
	if got := dash.Doc.Find(`[data-testid="username"]`).Text(); got != "carol" {
		t.Fatalf("signed in as %q", got)
	}
	// Used up, for anyone.
	expectStatus(t, s.client(t).get(path), http.StatusNotFound)
	expectStatus(t, carol.post(path, url.Values{"password": {"other-password"}, "confirm": {"other-password"}}), http.StatusNotFound)
	if _, err := s.DB.Authenticate(t.Context(), "carol", "carol-password"); err != nil {
		t.Fatal(err)
	}
	row := ac.get("/settings/users").Doc.Find(`[data-username="carol"]`)
	if strings.Contains(row.Find(`[data-testid="user-last-sign-in"]`).Text(), "never") || row.Find(`[data-testid="user-status"]`).Text() != "Active" {
		t.Fatalf("carol's row after sign-in: %q / %q", row.Find(`[data-testid="user-last-sign-in"]`).Text(), row.Find(`[data-testid="user-status"]`).Text())
	}
}

// TestUsers_LastAdmin: the only administrator cannot demote, disable or
// delete themselves; with a second one, demoting works.
func TestUsers_LastAdmin(t *testing.T) {
	s, alice, bob, ac, _ := adminSetup(t)
	for _, r := range []struct {
		path string
		form url.Values
	}{
		{"/settings/users/" + alice.ID + "/role", url.Values{"role": {"member"}}},
		{"/settings/users/" + alice.ID + "/disable", nil},
		{"/settings/users/" + alice.ID + "/delete", nil},
	} {
		res := ac.post(r.path, r.form)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings/users" {
			t.Fatalf("%s: %d %s", r.path, res.StatusCode, res.Header.Get("Location"))
		}
		flash := ac.get("/settings/users").Doc.Find(`[data-testid="flash"]`).Text()
		if !strings.Contains(flash, "administrator") && !strings.Contains(flash, "your own account") {
			t.Fatalf("%s: flash %q", r.path, flash)
		}
	}
	if u, _ := s.DB.UserByID(t.Context(), alice.ID); !u.IsAdmin() || u.Disabled {
		t.Fatalf("alice after refusals: %+v", u)
	}
	expectStatus(t, ac.post("/settings/users/"+bob.ID+"/role", url.Values{"role": {"admin"}}), http.StatusSeeOther)
	res := ac.post("/settings/users/"+alice.ID+"/role", url.Values{"role": {"member"}})
	if res.Header.Get("Location") != "/settings/account" {
		t.Fatalf("self-demotion goes to %q", res.Header.Get("Location"))
	}
	expectStatus(t, ac.get("/settings/users"), http.StatusNotFound)
}

// TestUsers_DisableResetDelete: what an administrator does to bob reaches
// bob's open session at once.
func TestUsers_DisableResetDelete(t *testing.T) {
	s, _, bob, ac, bc := adminSetup(t)

	expectStatus(t, ac.post("/settings/users/"+bob.ID+"/disable", nil), http.StatusSeeOther)
	if res := bc.get("/containers"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's session survived disabling: %d", res.StatusCode)
	}
	bc.get("/login")
	res := bc.post("/login", url.Values{"username": {"bob"}, "password": {"bob-password"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Doc.Find(`[data-testid="form-error"]`).Text(), "disabled") {
		t.Fatalf("disabled sign-in: %d %q", res.StatusCode, res.Doc.Find(`[data-testid="form-error"]`).Text())
	}
	if got := ac.get("/settings/users").Doc.Find(`[data-username="bob"] [data-testid="user-status"]`).Text(); got != "Disabled" {
		t.Fatalf("bob's status %q", got)
	}
	expectStatus(t, ac.post("/settings/users/"+bob.ID+"/enable", nil), http.StatusSeeOther)
	bc.login("bob", "bob-password")

	// Reset: bob is out, the old password is dead, the link says "new password".
	res = ac.post("/settings/users/"+bob.ID+"/reset", nil)
	expectStatus(t, res, http.StatusOK)
	link, _ := res.Doc.Find(`[data-testid="invite-link"]`).Attr("value")
	if !strings.Contains(res.Doc.Find(`[data-testid="invite-link-panel"]`).Text(), "password was reset") || link == "" {
		t.Fatalf("reset answer:\n%s", res.Body)
	}
	if res := bc.get("/containers"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's session survived the reset: %d", res.StatusCode)
	}
	if _, err := s.DB.Authenticate(t.Context(), "bob", "bob-password"); err == nil {
		t.Fatal("the old password still works")
	}
	if h1 := s.client(t).get(strings.TrimPrefix(link, s.URL)).Doc.Find("h1").Text(); h1 != "Choose a new password" {
		t.Fatalf("reset link page says %q", h1)
	}

	// Delete: refused while bob has a node, unless confirmed.
	if _, err := s.DB.CreateNode(t.Context(), store.Node{UserID: bob.ID, Name: "pve-bob", Host: "127.0.0.1", Port: 8006,
		TokenID: "root@pam!corral", TokenSecret: "s", SSHUser: "root", SSHPassword: "pw", PVENodeName: "pve1", ClusterKey: "standalone:pve1"}); err != nil {
		t.Fatal(err)
	}
	ac.post("/settings/users/"+bob.ID+"/delete", nil)
	if flash := ac.get("/settings/users").Doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(flash, "still has Proxmox nodes") {
		t.Fatalf("flash %q", flash)
	}
	if _, err := s.DB.UserByID(t.Context(), bob.ID); err != nil {
		t.Fatal("bob was deleted without confirmation")
	}
	expectStatus(t, ac.post("/settings/users/"+bob.ID+"/delete", url.Values{"remove_nodes": {"1"}}), http.StatusSeeOther)
	page := ac.get("/settings/users")
	if page.Doc.Find(`[data-username="bob"]`).Length() != 0 || !strings.Contains(page.Doc.Find(`[data-testid="flash"]`).Text(), "1 node(s)") {
		t.Fatalf("after delete:\n%s", page.Body)
	}
	// bob's id is gone: every route answers 404.
	expectStatus(t, ac.post("/settings/users/"+bob.ID+"/enable", nil), http.StatusNotFound)
}

// TestLogPath: an invite token never reaches the request log.
func TestLogPath(t *testing.T) {
	for in, want := range map[string]string{
		"/invite/FmYZA9qu0sU5pWqouFyt5iRUshbs-mUCis9ygvJvZgs": "/invite/(token)",
		"/settings/users": "/settings/users",
	} {
		if got := handlers.LogPath(in); got != want {
			t.Errorf("LogPath(%q) = %q", in, got)
		}
	}
}
