package exec

import (
	"sync"
	"time"
)

// WindowLimiter is an in-memory Limiter: after Max failures within Window a
// key is refused until Window has passed since its last failure, even with
// the right password. Success clears the key.
type WindowLimiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time // time.Now when nil

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	n    int
	last time.Time
}

// NewWindowLimiter returns a limiter allowing max failures per window.
func NewWindowLimiter(max int, window time.Duration) *WindowLimiter {
	return &WindowLimiter{Max: max, Window: window}
}

func (l *WindowLimiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Allow reports whether key may try to log in now.
func (l *WindowLimiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil {
		return true
	}
	if l.now().Sub(f.last) >= l.Window {
		delete(l.keys, key)
		return true
	}
	return f.n < l.Max
}

// Failure records a failed attempt for key.
func (l *WindowLimiter) Failure(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = make(map[string]*failures)
	}
	now := l.now()
	if len(l.keys) >= maxLimiterKeys {
		l.pruneLocked(now)
	}
	f := l.keys[key]
	if f == nil || now.Sub(f.last) >= l.Window {
		f = &failures{}
		l.keys[key] = f
	}
	f.n++
	f.last = now
}

// maxLimiterKeys bounds memory under a spray of made-up user names: past
// it, expired keys are dropped.
const maxLimiterKeys = 10000

func (l *WindowLimiter) pruneLocked(now time.Time) {
	for k, f := range l.keys {
		if now.Sub(f.last) >= l.Window {
			delete(l.keys, k)
		}
	}
}

// Success forgets key's failures.
func (l *WindowLimiter) Success(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}
