package store

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestDB_Invite walks a link's life: made with a pending account, read,
// used once, and then dead; the token never reaches the file.
func TestDB_Invite(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	db, path := mustOpen(t, withClock(clock))
	mustUser(t, db, "alice")

	bob, token, err := db.CreateInvitedUser(ctx, "bob", RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	if !bob.Pending || bob.IsAdmin() {
		t.Fatalf("invited account %+v", bob)
	}
	if _, err := db.Authenticate(ctx, "bob", ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("sign-in of an account without a password: %v", err)
	}
	if bytes.Contains(rawFile(t, path), []byte(token)) {
		t.Fatal("the invite token is stored in the file")
	}
	inv, err := db.Invite(ctx, token)
	if err != nil || inv.UserID != bob.ID || inv.Username != "bob" || inv.Purpose != PurposeInvite || !inv.Expires.Equal(clock.Now().Add(InviteTTL)) {
		t.Fatalf("Invite = %+v, %v", inv, err)
	}
	for _, bad := range []string{"", "nope", token + "x", token[:len(token)-2] + "AA"} {
		if _, err := db.Invite(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Invite(%q) = %v", bad, err)
		}
	}
	if _, err := db.RedeemInvite(ctx, token, "short"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a too short password: %v", err)
	}
	u, err := db.RedeemInvite(ctx, token, "bob's new password")
	if err != nil || u.ID != bob.ID || u.Pending {
		t.Fatalf("RedeemInvite = %+v, %v", u, err)
	}
	if _, err := db.Authenticate(ctx, "bob", "bob's new password"); err != nil {
		t.Fatalf("sign-in with the chosen password: %v", err)
	}
	if _, err := db.RedeemInvite(ctx, token, "another password"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a used link works again: %v", err)
	}
}

func TestDB_InviteExpires(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	db, _ := mustOpen(t, withClock(clock))
	mustUser(t, db, "alice")
	_, token, err := db.CreateInvitedUser(ctx, "bob", RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	_, keep, _ := db.CreateInvitedUser(ctx, "carol", RoleMember)
	clock.Add(InviteTTL - time.Second)
	if _, err := db.Invite(ctx, token); err != nil {
		t.Fatalf("a link just short of 24 h: %v", err)
	}
	clock.Add(time.Second)
	if _, err := db.RedeemInvite(ctx, token, "bob's new password"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an expired link: %v", err)
	}
	_, fresh, _ := db.CreateInvitedUser(ctx, "dave", RoleMember)
	n, err := db.PurgeExpiredInvites(ctx)
	if err != nil || n != 2 {
		t.Fatalf("PurgeExpiredInvites = %d, %v; want bob's and carol's", n, err)
	}
	if _, err := db.Invite(ctx, keep); !errors.Is(err, ErrNotFound) {
		t.Fatal("carol's expired link is still there")
	}
	if _, err := db.Invite(ctx, fresh); err != nil {
		t.Fatalf("dave's fresh link was purged: %v", err)
	}
}

// TestDB_ResetPassword: a reset signs the account out, stops the old
// password, replaces the earlier link, and a disabled account's link dies.
func TestDB_ResetPassword(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	mustUser(t, db, "alice")
	bob := mustUser(t, db, "bob")
	s := db.Sessions(cookieName, time.Hour)
	c := login(t, s, bob.ID)
	first, err := db.ResetPassword(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !load(t, s, c).IsNew {
		t.Fatal("bob is still signed in after a reset")
	}
	if _, err := db.Authenticate(ctx, "bob", "password-bob"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("the old password still works: %v", err)
	}
	second, err := db.ResetPassword(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Invite(ctx, first); !errors.Is(err, ErrNotFound) {
		t.Fatal("the first link survives a second reset")
	}
	if inv, err := db.Invite(ctx, second); err != nil || inv.Purpose != PurposeReset {
		t.Fatalf("second link %+v, %v", inv, err)
	}
	if err := db.SetUserDisabled(ctx, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Invite(ctx, second); !errors.Is(err, ErrNotFound) {
		t.Fatal("a disabled account's link works")
	}
	// A pending account's reset is a fresh invite.
	_, tok, _ := db.CreateInvitedUser(ctx, "carol", RoleMember)
	carol, _ := db.UserByName(ctx, "carol")
	again, _ := db.ResetPassword(ctx, carol.ID)
	if inv, err := db.Invite(ctx, again); err != nil || inv.Purpose != PurposeInvite {
		t.Fatalf("pending account's new link %+v, %v", inv, err)
	}
	if _, err := db.Invite(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Fatal("carol's first link survives")
	}
}

// TestDB_InviteRace: of two people using one link at once, one wins.
func TestDB_InviteRace(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	mustUser(t, db, "alice")
	_, token, err := db.CreateInvitedUser(ctx, "bob", RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = db.RedeemInvite(ctx, token, "password number "+string(rune('a'+i))) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrNotFound):
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d redemptions succeeded: %v", won, errs)
	}
}
