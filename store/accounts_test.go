package store

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestDB_Roles(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	first := mustUser(t, db, "alice")
	second := mustUser(t, db, "bob")
	third, err := db.CreateUserAs(ctx, "carol", "password-carol", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if !first.IsAdmin() || second.IsAdmin() || !third.IsAdmin() {
		t.Fatalf("roles: first %q second %q third %q", first.Role, second.Role, third.Role)
	}
	if _, err := db.CreateUserAs(ctx, "dave", "password-dave", "root"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown role: %v", err)
	}
	setup, _ := mustOpen(t)
	u, err := setup.CreateFirstUser(ctx, "owner", "password-owner")
	if err != nil || !u.IsAdmin() {
		t.Fatalf("setup's account: %+v %v", u, err)
	}
	list, err := db.Accounts(ctx)
	if err != nil || len(list) != 3 || list[0].Username != "alice" || list[2].Username != "carol" {
		t.Fatalf("Accounts = %+v, %v", list, err)
	}
}

// TestDB_LastAdmin: no change may leave Corral without an enabled
// administrator, whichever way it is attempted.
func TestDB_LastAdmin(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice") // admin
	bob := mustUser(t, db, "bob")     // member

	for name, err := range map[string]error{
		"demote":  db.SetUserRole(ctx, alice.ID, RoleMember),
		"disable": db.SetUserDisabled(ctx, alice.ID, true),
		"delete":  func() error { _, err := db.DeleteUser(ctx, alice.ID, true); return err }(),
	} {
		if !errors.Is(err, ErrLastAdmin) {
			t.Errorf("%s the only administrator: %v", name, err)
		}
	}
	if u, _ := db.UserByID(ctx, alice.ID); !u.IsAdmin() || u.Disabled {
		t.Fatalf("alice changed anyway: %+v", u)
	}

	// A disabled administrator does not count as one.
	if err := db.SetUserRole(ctx, bob.ID, RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserDisabled(ctx, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserRole(ctx, alice.ID, RoleMember); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demoted alice while the other administrator is disabled: %v", err)
	}
	if err := db.SetUserDisabled(ctx, bob.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserRole(ctx, alice.ID, RoleMember); err != nil {
		t.Fatalf("demote alice with bob an administrator: %v", err)
	}
	if err := db.SetUserRole(ctx, bob.ID, RoleMember); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demoted bob, the last one: %v", err)
	}
}

// TestDB_LastAdminConcurrent: two administrators demoting each other at
// the same moment cannot both succeed.
func TestDB_LastAdminConcurrent(t *testing.T) {
	ctx := t.Context()
	for range 20 {
		db, _ := mustOpen(t)
		a := mustUser(t, db, "alice")
		b, _ := db.CreateUserAs(ctx, "bob", "password-bob", RoleAdmin)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []string{a.ID, b.ID} {
			wg.Go(func() { errs[i] = db.SetUserRole(ctx, id, RoleMember) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("demotions: %v / %v; want exactly one refused", errs[0], errs[1])
		}
		admins := 0
		list, _ := db.Accounts(ctx)
		for _, u := range list {
			if u.IsAdmin() {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("%d administrators left", admins)
		}
	}
}

// TestDB_DisableUser: a disabled account cannot sign in by password or
// key, and its sessions end; enabling lets it back in.
func TestDB_DisableUser(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	mustUser(t, db, "alice")
	bob := mustUser(t, db, "bob")
	s := db.Sessions(cookieName, time.Hour)
	c := login(t, s, bob.ID)
	key := testAuthorizedKey(t)
	k, err := db.AddSSHKey(ctx, bob.ID, "laptop", key.line)
	if err != nil {
		t.Fatal(err)
	}

	if err := db.SetUserDisabled(ctx, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	if !load(t, s, c).IsNew {
		t.Fatal("bob's session survived disabling")
	}
	if _, err := db.Authenticate(ctx, "bob", "password-bob"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("password sign-in of a disabled account: %v", err)
	}
	if _, err := db.Authenticate(ctx, "bob", "wrong password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a wrong password must not learn that the account is disabled: %v", err)
	}
	if _, err := db.UserForSSHKey(ctx, "bob", key.wire); !errors.Is(err, ErrDisabled) {
		t.Fatalf("key sign-in of a disabled account: %v", err)
	}
	if u, _ := db.UserByID(ctx, bob.ID); !u.Disabled {
		t.Fatal("not marked disabled")
	}

	if err := db.SetUserDisabled(ctx, bob.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "bob", "password-bob"); err != nil {
		t.Fatalf("sign-in after enabling: %v", err)
	}
	if u, err := db.UserForSSHKey(ctx, "bob", key.wire); err != nil || u.ID != bob.ID {
		t.Fatalf("key sign-in after enabling: %v (key %s)", err, k.Fingerprint)
	}
	if err := db.RecordSignIn(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.UserByID(ctx, bob.ID); u.LastSignIn.IsZero() {
		t.Fatal("last sign-in not recorded")
	}
}

// TestDB_DeleteUser: an account goes with everything Corral keeps for it,
// and only with its confirmation when it has nodes; others keep theirs.
func TestDB_DeleteUser(t *testing.T) {
	ctx := t.Context()
	db, path := mustOpen(t)
	alice := mustUser(t, db, "alice")
	bob := mustUser(t, db, "bob")
	s := db.Sessions(cookieName, time.Hour)
	bobSession := login(t, s, bob.ID)
	aliceSession := login(t, s, alice.ID)

	fill := func(u User) (Node, Job) {
		n := mustNode(t, db, u.ID, "pve-"+u.Username)
		j, _, err := db.CreateJob(ctx, Plan{UserID: u.ID, NodeID: n.ID, VMID: 150, Hostname: "web-" + u.Username})
		if err != nil {
			t.Fatal(err)
		}
		j.State = JobFailed
		if err := db.SaveJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AppendJobLog(ctx, u.ID, j.ID, []LogEntry{{Kind: "log", Text: "hello " + u.Username}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AppendEvent(ctx, Event{UserID: u.ID, NodeID: n.ID, VMID: 150, JobID: j.ID, Type: EventError, Message: "boom " + u.Username}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateTemplate(ctx, u.ID, Template{Name: "tmpl-" + u.Username, OSTemplate: "debian-12-standard",
			Scripts: []Script{{Name: "10.sh", Enabled: true, Content: "echo " + u.Username + "\n"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreatePackageBucket(ctx, u.ID, "base-"+u.Username, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddSSHKey(ctx, u.ID, "key", testAuthorizedKey(t).line); err != nil {
			t.Fatal(err)
		}
		return n, j
	}
	fill(alice)
	_, bobJob := fill(bob)
	if _, err := db.ResetPassword(ctx, bob.ID); err != nil { // leaves an invite link
		t.Fatal(err)
	}
	bobSession = login(t, s, bob.ID)

	if _, err := db.DeleteUser(ctx, bob.ID, false); !errors.Is(err, ErrHasNodes) {
		t.Fatalf("delete an account with nodes, unconfirmed: %v", err)
	}
	running := bobJob
	running.State = JobRunning
	if err := db.SaveJob(ctx, running); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteUser(ctx, bob.ID, true); !errors.Is(err, ErrJobRunning) {
		t.Fatalf("delete while a container is being created: %v", err)
	}
	running.State = JobFailed
	if err := db.SaveJob(ctx, running); err != nil {
		t.Fatal(err)
	}
	gone, err := db.DeleteUser(ctx, bob.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if gone != (Removed{Nodes: 1, Containers: 1, Templates: 1, Jobs: 1}) {
		t.Errorf("removed %+v", gone)
	}
	if _, err := db.UserByID(ctx, bob.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob is still there: %v", err)
	}
	if !load(t, s, bobSession).IsNew || load(t, s, aliceSession).IsNew {
		t.Fatal("sessions: bob's must end, alice's must stay")
	}

	// Nothing of bob's is left in any bucket; alice's records all are.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.View(func(tx *bolt.Tx) error {
		for _, name := range topLevelBuckets {
			b := tx.Bucket([]byte(name))
			if b.Bucket([]byte(bob.ID)) != nil {
				t.Errorf("%s/%s is still there", name, bob.ID)
			}
			if name == bucketJobLogs && b.Bucket([]byte(bobJob.ID)) != nil {
				t.Errorf("bob's job log is still there")
			}
			_ = b.ForEach(func(k, v []byte) error {
				if bytes.Contains(k, []byte(bob.ID)) || bytes.Contains(v, []byte(bob.ID)) && name != bucketAudit {
					t.Errorf("%s still names bob: %q", name, k)
				}
				return nil
			})
		}
		for _, name := range []string{bucketNodes, bucketContainers, bucketSSHKeys, bucketTemplates, bucketPkgBuckets, bucketJobs} {
			if keyCount(tx.Bucket([]byte(name)).Bucket([]byte(alice.ID))) != 1 {
				t.Errorf("alice lost her %s", name)
			}
		}
		if tx.Bucket([]byte(bucketInvites)).Stats().KeyN != 0 {
			t.Error("bob's invite link is still there")
		}
		if n := tx.Bucket([]byte(bucketEvents)).Stats().KeyN; n != 1 {
			t.Errorf("%d events left, want alice's one", n)
		}
		return nil
	})
}

// TestDB_DeleteUserNameReusable: a deleted account's name may be taken again.
func TestDB_DeleteUserNameReusable(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	mustUser(t, db, "alice")
	bob := mustUser(t, db, "bob")
	if _, err := db.DeleteUser(ctx, bob.ID, false); err != nil {
		t.Fatal(err)
	}
	again := mustUser(t, db, "Bob")
	if again.ID == bob.ID || again.IsAdmin() {
		t.Fatalf("new bob %+v", again)
	}
}

// testAuthorizedKey is a fresh public key as an authorized_keys line and in wire form.
type testPub struct {
	line string
	wire []byte
}

func testAuthorizedKey(t *testing.T) testPub {
	k := newPubKey(t)
	return testPub{line: authorizedLine(k, "test"), wire: k.Marshal()}
}
