package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	if j.Plan.TemplateID != flaky.ID || len(j.Plan.Scripts) != 2 || !strings.Contains(j.Plan.Scripts[1].Content, "exit 3") {
		t.Errorf("plan %+v, Flaky app is %q", j.Plan, flaky.ID)
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
		if v := string(meta.Get(metaSchema)); v != strconv.Itoa(SchemaVersion) || SchemaVersion != 4 {
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

// TestMigrate_Schema3JobRecords rewrites a job as schema 3 stored it (the
// pipeline's plan JSON in bytes, services with snake-case keys) and opens
// the file again: the job reads back whole, files and services included,
// and its other fields are as they were.
func TestMigrate_Schema3JobRecords(t *testing.T) {
	ctx := context.Background()
	db, path := mustOpen(t)
	alice := mustUser(t, db, "alice")
	n := mustNode(t, db, alice.ID, "n1")
	j, _, err := db.CreateJob(ctx, Plan{UserID: alice.ID, NodeID: n.ID, VMID: 150, Hostname: "web"})
	if err != nil {
		t.Fatal(err)
	}
	j.State, j.Step, j.Done, j.Attempts = JobFailed, "script:0", []string{"create"}, 2
	j.Error = &StepError{Step: "script:0", Message: "boom", ExitCode: 3}
	if err := db.SaveJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	oldPlan, _ := json.Marshal(map[string]any{
		"UserID": alice.ID, "NodeID": n.ID, "PVENode": "pve1", "VMID": 150, "Hostname": "web",
		"Create":   map[string]any{"OSTemplate": "local:vztmpl/debian.tar.zst", "Cores": 2, "Unprivileged": true, "Nesting": true, "Keyctl": true},
		"Packages": []map[string]string{{"Manager": "apt", "Name": "nginx"}, {"Manager": "custom", "Name": "bun", "Check": "command -v bun", "Install": "curl bun"}},
		"Files":    []map[string]any{{"Name": "app.conf", "TargetDir": "/etc/app", "Policy": "backup", "Mode": "0640", "Owner": "root", "Content": []byte("listen 80\n")}},
		"Scripts":  []map[string]string{{"Name": "10-a.sh", "Content": "echo a\n"}},
	})
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketJobs)).Bucket([]byte(alice.ID))
		var rec map[string]any
		if err := json.Unmarshal(b.Get([]byte(j.ID)), &rec); err != nil {
			return err
		}
		rec["plan"] = oldPlan // []byte: base64, as schema 3 kept it
		rec["services"] = []map[string]any{{"name": "nginx", "unit": "nginx.service", "status": "running", "ports": []int{80}, "credential_keys": []string{"TOKEN"}}}
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(j.ID), v); err != nil {
			return err
		}
		return tx.Bucket([]byte(bucketMeta)).Put(metaSchema, []byte("3"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	got, err := db2.Job(ctx, alice.ID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Plan
	wantFile := File{Name: "app.conf", TargetDir: "/etc/app", Policy: PolicyBackup, Mode: "0640", Owner: "root", Content: "listen 80\n"}
	switch {
	case p.VMID != 150 || p.PVENode != "pve1" || p.Create.OSTemplate != "local:vztmpl/debian.tar.zst" || p.Create.Cores != 2:
		t.Errorf("plan %+v", p)
	case p.Create.Features != (Features{Unprivileged: true, Nesting: true, Keyctl: true}):
		t.Errorf("features %+v", p.Create.Features)
	case len(p.Packages) != 2 || p.Packages[1] != (Package{Manager: ManagerCustom, Name: "bun", Check: "command -v bun", Install: "curl bun"}):
		t.Errorf("packages %+v", p.Packages)
	case len(p.Files) != 1 || p.Files[0] != wantFile:
		t.Errorf("files %+v", p.Files)
	case len(p.Scripts) != 1 || p.Scripts[0] != (Script{Name: "10-a.sh", Content: "echo a\n", Enabled: true}):
		t.Errorf("scripts %+v", p.Scripts)
	}
	if len(got.Services) != 1 || got.Services[0].Unit != "nginx.service" || !slices.Equal(got.Services[0].CredentialKeys, []string{"TOKEN"}) || !slices.Equal(got.Services[0].Ports, []int{80}) {
		t.Errorf("services %+v", got.Services)
	}
	if got.State != JobFailed || got.Attempts != 2 || got.Error == nil || got.Error.ExitCode != 3 || !got.IsDone("create") {
		t.Errorf("job %+v", got)
	}
}
