package access

import (
	"slices"
	"sync"
	"time"
)

// LoginLimiter counts password attempts per key (an account or a client
// address) in a sliding window. The web login and the SSH gateway share one,
// so guessing cannot switch doors to get more tries. Only passwords are
// throttled: a registered SSH key is never refused by it.
type LoginLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]attempt
	seq   uint64
}

type attempt struct {
	at time.Time
	id uint64
}

// maxLimiterKeys bounds memory under a spray of made-up user names: past
// it, keys whose attempts all left the window are dropped.
const maxLimiterKeys = 10000

// NewLoginLimiter allows max failed attempts per key within window.
func NewLoginLimiter(max int, window time.Duration, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{max: max, window: window, now: now, fails: map[string][]attempt{}}
}

// Attempt is one password attempt reserved by Reserve.
type Attempt struct {
	l    *LoginLimiter
	id   uint64
	keys []string
}

// Reserve counts one attempt against every key before the password is
// checked: checking first and counting after the slow hash let concurrent
// guesses all pass the check. The attempt stays counted as a failure
// unless Release gives it back. While any key has used up its tries,
// Reserve counts nothing and reports ok false, and wait is how long until
// the oldest counted attempt leaves the window.
func (l *LoginLimiter) Reserve(keys ...string) (a *Attempt, ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.fails) >= maxLimiterKeys {
		for k := range l.fails {
			l.prune(k, now)
		}
	}
	for _, k := range keys {
		f := l.prune(k, now)
		if len(f) >= l.max {
			wait = max(wait, f[len(f)-l.max].at.Add(l.window).Sub(now))
		}
	}
	if wait > 0 {
		return nil, false, wait
	}
	l.seq++
	for _, k := range keys {
		l.fails[k] = append(l.fails[k], attempt{at: now, id: l.seq})
	}
	return &Attempt{l: l, id: l.seq, keys: slices.Clone(keys)}, true, 0
}

// Release gives the attempt back: the password was right, or was never
// judged (an internal error).
func (a *Attempt) Release() {
	l := a.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range a.keys {
		f := slices.DeleteFunc(l.fails[k], func(t attempt) bool { return t.id == a.id })
		if len(f) == 0 {
			delete(l.fails, k)
		} else {
			l.fails[k] = f
		}
	}
}

// Reset forgets the failures of keys (an account after a successful sign-in).
func (l *LoginLimiter) Reset(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.fails, k)
	}
}

// prune drops attempts older than the window; callers hold mu.
func (l *LoginLimiter) prune(k string, now time.Time) []attempt {
	f := l.fails[k]
	i := 0
	for i < len(f) && now.Sub(f[i].at) >= l.window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.fails, k)
		return nil
	}
	l.fails[k] = f
	return f
}
