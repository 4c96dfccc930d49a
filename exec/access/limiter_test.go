package access_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"corral/exec/access"
)

func TestLoginLimiter_PerAccount(t *testing.T) {
	l := access.NewLoginLimiter(5, time.Minute, nil)
	for i := 0; i < 5; i++ {
		a, ok, _ := l.Reserve(t.Context(), "user:alice", "addr:10.0.0."+string(rune('1'+i)))
		if !ok {
			t.Fatalf("attempt %d refused", i)
		}
		a.Fail()
	}
	if _, ok, wait := l.Reserve(t.Context(), "user:alice", "addr:10.0.0.9"); ok || wait <= 0 {
		t.Fatal("5 failures on one account from 5 addresses did not block the account")
	}
	if _, ok, _ := l.Reserve(t.Context(), "user:bob", "addr:10.0.0.9"); !ok {
		t.Fatal("another account from a fresh address was blocked")
	}
}

func TestLoginLimiter_Release(t *testing.T) {
	l := access.NewLoginLimiter(2, time.Minute, nil)
	for i := 0; i < 10; i++ {
		a, ok, _ := l.Reserve(t.Context(), "user:alice", "addr:10.0.0.1")
		if !ok {
			t.Fatalf("attempt %d refused although every earlier one was released", i)
		}
		a.Release()
	}
	a1, _, _ := l.Reserve(t.Context(), "user:alice", "addr:10.0.0.1")
	a1.Fail()
	a2, _, _ := l.Reserve(t.Context(), "user:alice", "addr:10.0.0.1")
	a2.Fail()
	if _, ok, _ := l.Reserve(t.Context(), "user:alice", "addr:10.0.0.1"); ok {
		t.Fatal("two failures did not block")
	}
	a2.Release()
	if _, ok, _ := l.Reserve(t.Context(), "user:alice", "addr:10.0.0.1"); !ok {
		t.Fatal("a released attempt still counted")
	}
}

// TestLoginLimiter_RightPasswordsAtOnce: twenty people behind one address
// (a household's NAT, a proxy) signing in at the same moment with right
// passwords are all let in: attempts still being checked make the others
// wait for the verdict instead of counting as failures.
func TestLoginLimiter_RightPasswordsAtOnce(t *testing.T) {
	l := access.NewLoginLimiter(5, time.Minute, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := range 20 {
		wg.Go(func() {
			<-start
			a, ok, _ := l.Reserve(ctx, fmt.Sprintf("user:person%d", i), "addr:192.0.2.1")
			if !ok {
				mu.Lock()
				refused++
				mu.Unlock()
				return
			}
			a.Release() // the password was right
		})
	}
	close(start)
	wg.Wait()
	if refused != 0 {
		t.Fatalf("%d of 20 right passwords from one address were refused", refused)
	}
}

// TestLoginLimiter_GuessesAtOnce: two hundred guesses at once from one
// address get no more tries than guesses one after another, because each
// waits for the verdicts of those in flight.
func TestLoginLimiter_GuessesAtOnce(t *testing.T) {
	l := access.NewLoginLimiter(5, time.Minute, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	checked := 0
	for i := range 200 {
		wg.Go(func() {
			<-start
			a, ok, _ := l.Reserve(ctx, fmt.Sprintf("user:victim%d", i), "addr:198.51.100.7")
			if !ok {
				return
			}
			mu.Lock()
			checked++
			mu.Unlock()
			a.Fail() // a wrong guess
		})
	}
	close(start)
	wg.Wait()
	if checked != 5 {
		t.Fatalf("%d of 200 guesses at once were checked, want 5", checked)
	}
}

// TestLoginLimiter_UnjudgedCountsAsFailure: an attempt nobody judges, or a
// caller that gives up waiting, does not hold the door open.
func TestLoginLimiter_UnjudgedCountsAsFailure(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := access.NewLoginLimiter(1, time.Minute, clock)
	if _, ok, _ := l.Reserve(t.Context(), "addr:1"); !ok {
		t.Fatal("first attempt refused")
	}
	// In flight and never judged: a second attempt waits, and gives up
	// with its context.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, ok, wait := l.Reserve(ctx, "addr:1"); ok || wait <= 0 {
		t.Fatalf("an attempt behind one still in flight got ok %v, wait %v", ok, wait)
	}
	// Long after, the unjudged attempt counts as a failure: refused at
	// once, without waiting.
	mu.Lock()
	now = now.Add(20 * time.Second)
	mu.Unlock()
	if _, ok, wait := l.Reserve(t.Context(), "addr:1"); ok || wait <= 0 {
		t.Fatalf("an unjudged attempt 20 s old did not count as a failure: ok %v, wait %v", ok, wait)
	}
}
