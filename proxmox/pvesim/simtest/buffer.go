package simtest

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// WaitLimit is how long WaitFor waits before it fails the test.
const WaitLimit = time.Minute

// Buffer collects what goroutines write (a log, a session's output) while
// the test reads it, or waits until it holds a string. The zero value is
// ready to use.
type Buffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	sig chan struct{} // holds a token after a write nobody waited for yet
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.signal() <- struct{}{}:
	default:
	}
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Count is how many times sub was written so far.
func (b *Buffer) Count(sub string) int { return strings.Count(b.String(), sub) }

// WaitFor blocks until the buffer contains want, and fails the test after
// WaitLimit.
func (b *Buffer) WaitFor(t testing.TB, want string) {
	t.Helper()
	timer := time.NewTimer(WaitLimit)
	defer timer.Stop()
	for {
		got, sig := b.State()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-sig:
		case <-timer.C:
			t.Fatalf("waiting for %q: nothing after %v; have %q", want, WaitLimit, got)
		}
	}
}

// State is what was written so far, and a channel that receives after the
// next write (or at once, for a write nobody waited on yet): waiting on it
// after reading got cannot miss a write.
func (b *Buffer) State() (got string, written <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String(), b.signal()
}

// signal is the channel a write signals on; callers hold mu.
func (b *Buffer) signal() chan struct{} {
	if b.sig == nil {
		b.sig = make(chan struct{}, 1)
	}
	return b.sig
}
