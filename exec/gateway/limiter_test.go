package gateway

import (
	"sync"
	"testing"
	"time"
)

func TestWindowLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewWindowLimiter(3, time.Minute)
	l.Now = func() time.Time { return now }
	allowed := func(keys ...string) bool {
		t.Helper()
		_, ok := l.Reserve(t.Context(), keys...)
		return ok
	}

	for i := 0; i < 3; i++ {
		if !allowed("ip:1") {
			t.Fatalf("refused after %d failures", i)
		}
	}
	if allowed("ip:1") {
		t.Fatal("allowed after 3 failures")
	}
	if allowed("ip:2", "ip:1") {
		t.Fatal("allowed while one of the keys is used up")
	}
	if !allowed("ip:2") {
		t.Fatal("other key refused, or counted by the refused attempt")
	}
	now = now.Add(59 * time.Second)
	if allowed("ip:1") {
		t.Fatal("allowed before the window passed")
	}
	now = now.Add(time.Second)
	if !allowed("ip:1") {
		t.Fatal("still refused after the window")
	}

	// Released attempts (right passwords) are not failures.
	for i := 0; i < 5; i++ {
		judged, ok := l.Reserve(t.Context(), "user:b")
		if !ok {
			t.Fatalf("refused after %d released attempts", i)
		}
		judged(true)
	}
	allowed("user:a")
	l.Success("user:a")
	allowed("user:a")
	allowed("user:a")
	if !allowed("user:a") {
		t.Fatal("success did not clear the count")
	}
}

// TestWindowLimiter_Concurrent: attempts that are all in flight at once
// get no more tries than attempts one after the other.
func TestWindowLimiter_Concurrent(t *testing.T) {
	l := NewWindowLimiter(5, time.Minute)
	var mu sync.Mutex
	passed := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			if _, ok := l.Reserve(t.Context(), "ip:1", "user:alice"); ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if passed != 5 {
		t.Fatalf("%d of 200 concurrent attempts passed, want 5", passed)
	}
}
