package access_test

import (
	"testing"
	"time"

	"corral/exec/access"
)

func TestLoginLimiter_PerAccount(t *testing.T) {
	l := access.NewLoginLimiter(5, time.Minute, nil)
	for i := 0; i < 5; i++ {
		if _, ok, _ := l.Reserve("user:alice", "addr:10.0.0."+string(rune('1'+i))); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	if _, ok, wait := l.Reserve("user:alice", "addr:10.0.0.9"); ok || wait <= 0 {
		t.Fatal("5 failures on one account from 5 addresses did not block the account")
	}
	if _, ok, _ := l.Reserve("user:bob", "addr:10.0.0.9"); !ok {
		t.Fatal("another account from a fresh address was blocked")
	}
}

func TestLoginLimiter_Release(t *testing.T) {
	l := access.NewLoginLimiter(2, time.Minute, nil)
	for i := 0; i < 10; i++ {
		a, ok, _ := l.Reserve("user:alice", "addr:10.0.0.1")
		if !ok {
			t.Fatalf("attempt %d refused although every earlier one was released", i)
		}
		a.Release()
	}
	l.Reserve("user:alice", "addr:10.0.0.1")
	a, _, _ := l.Reserve("user:alice", "addr:10.0.0.1")
	if _, ok, _ := l.Reserve("user:alice", "addr:10.0.0.1"); ok {
		t.Fatal("two failures did not block")
	}
	a.Release()
	if _, ok, _ := l.Reserve("user:alice", "addr:10.0.0.1"); !ok {
		t.Fatal("a released attempt still counted")
	}
}
