package gateway

import (
	"context"
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

// Reserve implements Limiter. An attempt counts from the start; a right
// password gives it back.
func (l *WindowLimiter) Reserve(_ context.Context, keys ...string) (judged func(right bool), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		if f := l.current(k, now); f != nil && f.n >= l.Max {
			return nil, false
		}
	}
	if l.keys == nil {
		l.keys = make(map[string]*failures)
	}
	if len(l.keys) >= maxLimiterKeys {
		l.pruneLocked(now)
	}
	counted := make(map[string]*failures, len(keys))
	for _, k := range keys {
		f := l.current(k, now)
		if f == nil {
			f = &failures{}
			l.keys[k] = f
		}
		f.n++
		f.last = now
		counted[k] = f
	}
	return func(right bool) {
		if !right {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for k, f := range counted {
			// Only the count this attempt went into; a newer window's
			// count is not this attempt's to lower.
			if l.keys[k] == f && f.n > 0 {
				f.n--
			}
		}
	}, true
}

// current is key's count within the window, or nil; callers hold mu.
func (l *WindowLimiter) current(key string, now time.Time) *failures {
	f := l.keys[key]
	if f != nil && now.Sub(f.last) >= l.Window {
		delete(l.keys, key)
		return nil
	}
	return f
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
