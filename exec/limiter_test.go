package exec

import (
	"testing"
	"time"
)

func TestWindowLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewWindowLimiter(3, time.Minute)
	l.Now = func() time.Time { return now }

	for i := 0; i < 3; i++ {
		if !l.Allow("ip:1") {
			t.Fatalf("refused after %d failures", i)
		}
		l.Failure("ip:1")
	}
	if l.Allow("ip:1") {
		t.Fatal("allowed after 3 failures")
	}
	if !l.Allow("ip:2") {
		t.Fatal("other key refused")
	}
	now = now.Add(59 * time.Second)
	if l.Allow("ip:1") {
		t.Fatal("allowed before the window passed")
	}
	now = now.Add(time.Second)
	if !l.Allow("ip:1") {
		t.Fatal("still refused after the window")
	}
	l.Failure("user:a")
	l.Success("user:a")
	l.Failure("user:a")
	l.Failure("user:a")
	if !l.Allow("user:a") {
		t.Fatal("success did not clear the count")
	}
}
