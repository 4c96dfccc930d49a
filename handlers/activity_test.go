package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"corral/store"
)

func activityKinds(res *response) []string {
	var kinds []string
	res.Doc.Find(`[data-testid="activity-row"]`).Each(func(_ int, s *goquery.Selection) {
		k, _ := s.Attr("data-kind")
		kinds = append(kinds, k)
	})
	return kinds
}

// TestActivity: everyone reads their own entries, administrators every
// account's; the kind and date filters and the pages work as plain links.
func TestActivity(t *testing.T) {
	s, alice, bob, ac, bc := adminSetup(t)
	ctx := t.Context()

	// bob copies a built-in template (audited as template.copy); alice
	// disables and enables him (entries about bob).
	var builtin string
	list, _ := s.DB.Templates(ctx, bob.ID, store.TemplateFilter{})
	for _, tm := range list {
		if tm.Source == store.SourceBuiltin {
			builtin = tm.ID
		}
	}
	bc.get("/templates/" + builtin)
	expectStatus(t, bc.post("/templates/"+builtin+"/copy", nil), http.StatusSeeOther)
	expectStatus(t, ac.post("/settings/users/"+bob.ID+"/disable", nil), http.StatusSeeOther)
	expectStatus(t, ac.post("/settings/users/"+bob.ID+"/enable", nil), http.StatusSeeOther)
	bc.login("bob", "bob-password")

	res := bc.get("/settings/activity")
	expectStatus(t, res, http.StatusOK)
	kinds := strings.Join(activityKinds(res), " ")
	for _, want := range []string{"login.ok", "template.copy", "account.disable", "account.enable"} {
		if !strings.Contains(kinds, want) {
			t.Errorf("bob's activity lacks %s: %s", want, kinds)
		}
	}
	if strings.Count(kinds, "login.ok") != 2 {
		t.Errorf("bob sees someone else's sign-in: %s", kinds)
	}
	if res.Doc.Find(`[data-testid="filter-user"]`).Length() != 0 || res.Doc.Find(`[data-testid="activity-who"]`).Length() != 0 {
		t.Error("a member is offered other accounts")
	}
	if got := activityKinds(bc.get("/settings/activity?kind=template")); len(got) != 1 || got[0] != "template.copy" {
		t.Errorf("bob's template entries: %v", got)
	}
	// A member cannot ask for another account's entries.
	if got := activityKinds(bc.get("/settings/activity?user=" + alice.ID)); strings.Contains(strings.Join(got, " "), "account.create") || len(got) != 5 {
		t.Errorf("bob asking for alice's entries got %v", got)
	}

	all := ac.get("/settings/activity")
	if all.Doc.Find(`[data-testid="filter-user"]`).Length() != 1 || all.Doc.Find(`[data-testid="activity-who"]`).Length() == 0 {
		t.Fatal("the administrator is not offered every account")
	}
	if n := strings.Count(strings.Join(activityKinds(all), " "), "login.ok"); n != 3 {
		t.Errorf("the administrator sees %d sign-ins, want 3", n)
	}
	onlyBob := activityKinds(ac.get("/settings/activity?user=" + bob.ID))
	if len(onlyBob) != 5 {
		t.Errorf("administrator filtering bob: %v", onlyBob)
	}

	// Old entries: a date range finds them; a bad date is explained.
	day := time.Date(2025, 1, 15, 12, 0, 0, 0, time.Local)
	for i := range 120 {
		if err := s.DB.Audit(ctx, store.AuditEntry{Time: day.Add(time.Duration(i) * time.Second), Kind: "node.add", UserID: bob.ID, Username: "bob", Target: "pve"}); err != nil {
			t.Fatal(err)
		}
	}
	q := url.Values{"from": {"2025-01-15"}, "to": {"2025-01-15"}}
	page := bc.get("/settings/activity?" + q.Encode())
	if n := len(activityKinds(page)); n != 50 {
		t.Fatalf("first page of the day: %d rows", n)
	}
	seen := 50
	for page.Doc.Find(`[data-testid="activity-older"]`).Length() == 1 {
		next, _ := page.Doc.Find(`[data-testid="activity-older"]`).Attr("href")
		if !strings.Contains(next, "from=2025-01-15") {
			t.Fatalf("the next page forgets the filter: %s", next)
		}
		page = bc.get(next)
		seen += len(activityKinds(page))
		if page.Doc.Find(`[data-testid="activity-newest"]`).Length() != 1 {
			t.Fatal("no way back to the newest")
		}
	}
	if seen != 120 {
		t.Fatalf("%d entries over the pages, want 120", seen)
	}
	if n := len(activityKinds(bc.get("/settings/activity?from=2025-01-16&to=2025-01-20"))); n != 0 {
		t.Fatalf("%d entries in an empty range", n)
	}
	bad := bc.get("/settings/activity?from=yesterday&kind=nonsense")
	expectStatus(t, bad, http.StatusOK)
	if !strings.Contains(bad.Doc.Find(`[data-testid="filter-error"]`).Text(), "not a date") {
		t.Fatalf("bad date:\n%s", bad.Body)
	}
	if n := len(activityKinds(bc.get("/settings/activity?before=garbage"))); n != 50 {
		t.Fatalf("a garbled cursor gives %d rows, want the first page", n)
	}
}

// TestTemplates_Audited: creating, changing, sharing, copying and deleting
// a template each leave an entry in the template category.
func TestTemplates_Audited(t *testing.T) {
	s := newTestServer(t)
	alice := s.withUser(t, "alice", "alice-password")
	c := s.client(t)
	c.login("alice", "alice-password")
	ctx := t.Context()
	c.get("/templates/new")
	loc := location(t, c.post("/templates/new", validForm("mine")))
	id := strings.TrimPrefix(loc, "/templates/")
	c.get(loc + "/edit")
	expectStatus(t, c.post(loc+"/edit", validForm("mine, changed")), http.StatusSeeOther)
	tm := store.Template{ID: id}
	expectStatus(t, c.post("/templates/"+tm.ID+"/share", url.Values{"shared": {"1"}}), http.StatusSeeOther)
	expectStatus(t, c.post("/templates/"+tm.ID+"/copy", nil), http.StatusSeeOther)
	expectStatus(t, c.post("/templates/"+tm.ID+"/delete", nil), http.StatusSeeOther)
	page, err := s.DB.AuditLog(ctx, store.AuditQuery{Category: store.AuditTemplate})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range page.Entries {
		kinds = append(kinds, e.Kind)
		if e.UserID != alice.ID {
			t.Errorf("entry without its author: %+v", e)
		}
	}
	if got := strings.Join(kinds, " "); got != "template.delete template.copy template.share template.update template.create" {
		t.Fatalf("template entries: %s", got)
	}
}
