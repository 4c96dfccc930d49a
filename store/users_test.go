package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestDB_CreateUser(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)

	t.Run("OK", func(t *testing.T) {
		u, err := db.CreateUser(ctx, "Alice", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == "" || u.Username != "Alice" || u.Created.IsZero() {
			t.Fatalf("user = %+v", u)
		}
		got, err := db.UserByName(ctx, "aLiCe")
		if err != nil || got.ID != u.ID {
			t.Fatalf("UserByName = %+v, %v", got, err)
		}
		got, err = db.UserByID(ctx, u.ID)
		if err != nil || got.Username != "Alice" {
			t.Fatalf("UserByID = %+v, %v", got, err)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		_, err := db.CreateUser(ctx, "ALICE", "another password")
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "taken") {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct{ name, pw, msg string }{
			{"", "password1", "1 to 32 characters"},
			{strings.Repeat("a", 33), "password1", "1 to 32 characters"},
			{".bob", "password1", "start with a letter or digit"},
			{"bob smith", "password1", "only letters, digits"},
			{"böb", "password1", "only letters, digits"},
			{"bob", "short", "at least 8 characters"},
		} {
			_, err := db.CreateUser(ctx, tc.name, tc.pw)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("CreateUser(%q, %q) = %v, want ErrInvalid mentioning %q", tc.name, tc.pw, err, tc.msg)
			}
		}
		if _, err := db.CreateUser(ctx, "b.o_b-1", "password1"); err != nil {
			t.Errorf("valid name refused: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := db.UserByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserByName err = %v", err)
		}
		if _, err := db.UserByID(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserByID err = %v", err)
		}
	})
	n, err := db.CountUsers(ctx)
	if err != nil || n != 2 {
		t.Fatalf("CountUsers = %d, %v; want 2", n, err)
	}
}

func TestDB_Authenticate(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	u, err := db.CreateUser(ctx, "alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		got, err := db.Authenticate(ctx, "ALICE", "correct horse")
		if err != nil || got.ID != u.ID {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
	})
	t.Run("ErrBadCredentials", func(t *testing.T) {
		for _, tc := range [][2]string{{"alice", "wrong horse"}, {"bob", "correct horse"}, {"alice", ""}} {
			if _, err := db.Authenticate(ctx, tc[0], tc[1]); !errors.Is(err, ErrBadCredentials) {
				t.Errorf("Authenticate(%q, %q) err = %v", tc[0], tc[1], err)
			}
		}
	})
	t.Run("SetPassword", func(t *testing.T) {
		if err := db.SetPassword(ctx, u.ID, "short"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("short password err = %v", err)
		}
		if err := db.SetPassword(ctx, u.ID, "battery staple"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Authenticate(ctx, "alice", "correct horse"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("old password still works: %v", err)
		}
		if _, err := db.Authenticate(ctx, "alice", "battery staple"); err != nil {
			t.Errorf("new password refused: %v", err)
		}
		if err := db.SetPassword(ctx, "nope", "battery staple"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown user err = %v", err)
		}
	})
}

func TestDB_CreateFirstUser(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := db.CreateFirstUser(ctx, "admin"+string(rune('a'+i)), "password1")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	var ok, done int
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrSetupDone):
			done++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || done != n-1 {
		t.Fatalf("ok=%d setup-done=%d, want 1 and %d", ok, done, n-1)
	}
	if c, _ := db.CountUsers(ctx); c != 1 {
		t.Fatalf("CountUsers = %d, want 1", c)
	}
}

func TestPassword_DefaultParams(t *testing.T) {
	h := hashPassword("correct horse", defaultKDF())
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %q", h)
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct horsE": false, "": false} {
		ok, err := verifyPassword(pw, h)
		if err != nil || ok != want {
			t.Errorf("verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if _, err := verifyPassword("x", "$bcrypt$nope"); err == nil {
		t.Error("malformed hash accepted")
	}
}

func TestDB_HashSlots(t *testing.T) {
	db, _ := mustOpen(t)
	mustUser(t, db, "alice")
	// Occupy every slot; a caller whose context ends must give up rather
	// than queue forever.
	for range cap(db.hashSlots) {
		db.hashSlots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.Authenticate(ctx, "alice", "password-alice"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	for range cap(db.hashSlots) {
		<-db.hashSlots
	}
	if _, err := db.Authenticate(t.Context(), "alice", "password-alice"); err != nil {
		t.Fatalf("after slots free: %v", err)
	}
}
