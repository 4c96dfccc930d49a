package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"corral/store"
)

// detailTemplateFact reads the Template fact of a container's detail page:
// its text and where it links ("" for no link).
func detailTemplateFact(t *testing.T, c *client, n store.Node, vmid int) (string, string) {
	t.Helper()
	res := c.get(fmt.Sprintf("/containers/%s/%d", n.ID, vmid))
	expectStatus(t, res, http.StatusOK)
	dd := res.Doc.Find(`[data-testid="cfg-Template"]`)
	if dd.Length() != 1 {
		t.Fatalf("no Template fact on the detail page of CT %d", vmid)
	}
	return strings.TrimSpace(dd.Text()), dd.Find("a").AttrOr("href", "")
}

// TestContainerDetail_Template (issue 14, bug 5): a container records the
// template it was made from, and its detail page names it, linked while
// the viewer can still see the template.
func TestContainerDetail_Template(t *testing.T) {
	env := jobsTestSetup(t)
	ctx := context.Background()
	db := env.srv.DB
	bob := env.srv.withUser(t, "bob", "bob-password-1")
	script := store.Script{Name: "10-hello.sh", Enabled: true, Content: "echo hello > /root/hello\n"}
	own := jobsRetryTemplate(t, db, env.user.ID, "Hello app", script)
	shared := jobsRetryTemplate(t, db, bob.ID, "Bob's hello", script)
	if _, err := db.ShareTemplate(ctx, bob.ID, shared.ID, true); err != nil {
		t.Fatal(err)
	}
	scratch := jobsTestPlan(env.user, env.node, 198, "scratch")
	for _, p := range []store.Plan{jobsRetryPlan(env, own, 196, "hello", "10-hello.sh"), jobsRetryPlan(env, shared, 197, "bobs", "10-hello.sh"), scratch} {
		id, err := env.runner.Start(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if j := jobsTestWaitEnd(t, env.runner, env.user.ID, id); j.State != store.JobDone {
			t.Fatalf("CT %d: %s %+v", p.VMID, j.State, j.Error)
		}
	}
	cts, _ := db.Containers(ctx, env.user.ID)
	if len(cts) != 3 || cts[0].TemplateID != own.ID || cts[0].TemplateName != "Hello app" || cts[1].TemplateID != shared.ID || cts[2].TemplateID != "" {
		t.Fatalf("containers' templates %+v", cts)
	}

	c := env.srv.client(t)
	c.login("alice", "alice-password-1")
	for _, tc := range []struct {
		vmid       int
		text, link string
	}{
		{196, "Hello app", "/templates/" + own.ID},
		{197, "Bob's hello", "/templates/" + shared.ID},
		{198, "—", ""},
	} {
		if text, link := detailTemplateFact(t, c, env.node, tc.vmid); text != tc.text || link != tc.link {
			t.Errorf("CT %d: Template %q → %q, want %q → %q", tc.vmid, text, link, tc.text, tc.link)
		}
	}
	// Deleted or unshared: the name stays, the link goes.
	if err := db.DeleteTemplate(ctx, env.user.ID, own.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ShareTemplate(ctx, bob.ID, shared.ID, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		vmid int
		text string
	}{{196, "Hello app"}, {197, "Bob's hello"}} {
		if text, link := detailTemplateFact(t, c, env.node, tc.vmid); text != tc.text || link != "" {
			t.Errorf("CT %d after the template went away: %q → %q", tc.vmid, text, link)
		}
	}
}
