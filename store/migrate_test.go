package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openFixture opens a copy of a database written by an older corral (see
// testdata/README.md); Open migrates the copy in place.
func openFixture(t *testing.T, name string) (*DB, string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "corral.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	db.kdf = kdfParams{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

func templateNames(list []Template) []string {
	var out []string
	for _, t := range list {
		out = append(out, t.Name+"/"+string(t.Source))
	}
	return out
}

// TestMigrate_Schema1TemplatesGoToFirstAccount opens a database written by
// schema 1, where templates and buckets were shared by every account: they
// now belong to the first account, bob sees only the built-ins, the
// built-ins nobody changed are served from code, and the failed job still
// points at its template, which its owner may retry from.
func TestMigrate_Schema1TemplatesGoToFirstAccount(t *testing.T) {
	ctx := context.Background()
	db, path := openFixture(t, "schema1.db")
	alice, err := db.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := db.UserByName(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "bob", "bob-password-1"); err != nil {
		t.Fatalf("sign-in after migration: %v", err)
	}

	mine, err := db.Templates(ctx, alice.ID, TemplateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Debian base/builtin", "Docker host/custom", "Docker host/builtin", "Flaky app/custom", "Static web server/builtin", "web3-dev/filesystem"}
	if got := templateNames(mine); !slices.Equal(got, want) {
		t.Fatalf("alice's templates %q, want %q", got, want)
	}
	var flaky, docker Template
	for _, tm := range mine {
		switch {
		case tm.Name == "Flaky app":
			flaky = tm
		case tm.Name == "Docker host" && tm.Source == SourceCustom:
			docker = tm
		case tm.Source == SourceFilesystem && tm.Path != "/srv/templates/web3-dev":
			t.Errorf("import path lost: %+v", tm)
		}
		if tm.Source != SourceBuiltin && (tm.Owner != alice.ID || !tm.EditableBy(alice.ID) || tm.Shared) {
			t.Errorf("%s is not alice's own private template: %+v", tm.Name, tm)
		}
	}
	if docker.Scripts[0].Content != "#!/bin/bash\nset -euo pipefail\nsystemctl enable --now docker\necho edited by alice\n" {
		t.Errorf("alice's edit of the built-in was lost: %q", docker.Scripts[0].Content)
	}

	theirs, _ := db.Templates(ctx, bob.ID, TemplateFilter{})
	if got := templateNames(theirs); !slices.Equal(got, []string{"Debian base/builtin", "Docker host/builtin", "Static web server/builtin"}) {
		t.Errorf("bob's templates %q", got)
	}
	for _, tm := range mine {
		if tm.Source == SourceBuiltin {
			continue
		}
		if _, err := db.Template(ctx, bob.ID, tm.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob reads %s: %v", tm.Name, err)
		}
		if err := db.DeleteTemplate(ctx, bob.ID, tm.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob deletes %s: %v", tm.Name, err)
		}
	}

	buckets, _ := db.PackageBuckets(ctx, alice.ID)
	if len(buckets) != 1 || buckets[0].Name != "base" || len(buckets[0].Packages) != 2 || buckets[0].Packages[1].Install == "" {
		t.Errorf("alice's buckets %+v", buckets)
	}
	if theirs, _ := db.PackageBuckets(ctx, bob.ID); len(theirs) != 0 {
		t.Errorf("bob's buckets %+v", theirs)
	}

	// The failed job's plan still names the template, now alice's.
	nodes, _ := db.Nodes(ctx, alice.ID)
	cts, _ := db.Containers(ctx, alice.ID)
	if len(nodes) != 1 || len(cts) != 1 {
		t.Fatalf("nodes %d containers %d", len(nodes), len(cts))
	}
	j, err := db.Job(ctx, alice.ID, cts[0].JobID)
	if err != nil || j.State != JobFailed {
		t.Fatalf("job %+v %v", j, err)
	}
	var plan struct{ TemplateID string }
	if err := json.Unmarshal(j.Plan, &plan); err != nil || plan.TemplateID != flaky.ID {
		t.Errorf("plan's template %q, Flaky app is %q (%v)", plan.TemplateID, flaky.ID, err)
	}

	// Schema and leftovers, then a second open changes nothing.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		if v := string(meta.Get(metaSchema)); v != strconv.Itoa(SchemaVersion) || SchemaVersion != 3 {
			t.Errorf("schema %q", v)
		}
		if meta.Get(metaTemplatesSeeded) != nil {
			t.Error("the schema-1 seeding mark is still there")
		}
		for _, name := range []string{bucketTemplates, bucketPkgBuckets} {
			_ = tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
				if v != nil {
					t.Errorf("%s still holds a shared record %s", name, k)
				}
				return nil
			})
		}
		return nil
	})
	if cerr := raw.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	db2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	again, _ := db2.Templates(ctx, alice.ID, TemplateFilter{})
	if got := templateNames(again); !slices.Equal(got, want) {
		t.Errorf("after reopening: %q", got)
	}
}

// TestMigrate_Schema1WithoutAccounts: templates imported before anyone
// signed up wait for the first account, which takes them; later accounts
// do not.
func TestMigrate_Schema1WithoutAccounts(t *testing.T) {
	ctx := context.Background()
	db, _ := openFixture(t, "schema1-nousers.db")
	first, err := db.CreateFirstUser(ctx, "carol", "carol-password-1")
	if err != nil {
		t.Fatal(err)
	}
	second := mustUser(t, db, "dave")
	list, _ := db.Templates(ctx, first.ID, TemplateFilter{})
	if got := templateNames(list); !slices.Equal(got, []string{"Debian base/builtin", "Docker host/builtin", "Static web server/builtin", "web3-dev/filesystem"}) {
		t.Errorf("first account's templates %q", got)
	}
	if b, _ := db.PackageBuckets(ctx, first.ID); len(b) != 1 || b[0].Name != "base" {
		t.Errorf("first account's buckets %+v", b)
	}
	if list, _ := db.Templates(ctx, second.ID, TemplateFilter{}); len(list) != 3 {
		t.Errorf("second account's templates %q", templateNames(list))
	}
	if b, _ := db.PackageBuckets(ctx, second.ID); len(b) != 0 {
		t.Errorf("second account's buckets %+v", b)
	}
}

// TestMigrate_Schema2AccountsGetRoles opens a database written by schema 2,
// before accounts had roles: the oldest account (not the first in the
// file) is the administrator, the others are members, and everything else
// they had is still theirs.
func TestMigrate_Schema2AccountsGetRoles(t *testing.T) {
	ctx := context.Background()
	db, path := openFixture(t, "schema2.db")
	db.now = func() time.Time { return time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC) } // the fixture's sessions still live
	want := map[string]string{"alice": RoleAdmin, "bob": RoleMember, "carol": RoleMember}
	list, err := db.Accounts(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("Accounts = %+v, %v", list, err)
	}
	users := map[string]User{}
	for _, a := range list {
		users[a.Username] = a.User
		if a.Role != want[a.Username] || a.Disabled || a.Pending || !a.LastSignIn.IsZero() {
			t.Errorf("%s after migration: %+v", a.Username, a.User)
		}
		if _, err := db.Authenticate(ctx, a.Username, a.Username+"-password-2"); err != nil {
			t.Errorf("%s cannot sign in: %v", a.Username, err)
		}
	}
	for name, n := range map[string]int{"alice": 1, "bob": 2, "carol": 0} {
		if got, _ := db.UserSessions(ctx, users[name].ID, ""); len(got) != n {
			t.Errorf("%s has %d sessions, want %d", name, len(got), n)
		}
	}
	if nodes, _ := db.Nodes(ctx, users["bob"].ID); len(nodes) != 1 || nodes[0].TokenSecret != "secret-bob" {
		t.Errorf("bob's nodes %+v", nodes)
	}
	shared := 0
	for _, tm := range mustTemplates(t, db, users["carol"].ID) {
		if tm.Name == "Bob's app" && tm.Shared && tm.Owner == users["bob"].ID {
			shared++
		}
	}
	if shared != 1 {
		t.Error("carol no longer sees bob's shared template")
	}
	if keys, _ := db.SSHKeys(ctx, users["carol"].ID); len(keys) != 1 {
		t.Errorf("carol's keys %+v", keys)
	}
	log, err := db.AuditLog(ctx, AuditQuery{})
	if err != nil || len(log.Entries) != 4 || log.Entries[0].Category != AuditSSH || log.Entries[3].Category != AuditSignIn {
		t.Fatalf("audit log %+v, %v", log.Entries, err)
	}
	if mine, _ := db.AuditLog(ctx, AuditQuery{UserID: users["bob"].ID, Username: "bob"}); len(mine.Entries) != 1 || mine.Entries[0].Kind != "login.failed" {
		t.Errorf("bob's own entries %+v", mine.Entries)
	}
	// The promoted administrator is protected like any last one.
	if err := db.SetUserRole(ctx, users["alice"].ID, RoleMember); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demoting the migrated administrator: %v", err)
	}

	// A second open changes nothing.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	again, _ := db2.Accounts(ctx)
	for _, a := range again {
		if a.Role != want[a.Username] {
			t.Errorf("after reopening %s is %s", a.Username, a.Role)
		}
	}
}

func mustTemplates(t *testing.T, db *DB, userID string) []Template {
	t.Helper()
	list, err := db.Templates(context.Background(), userID, TemplateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}
