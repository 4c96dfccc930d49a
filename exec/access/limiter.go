package access

import (
	"context"
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
	// judged is closed, and replaced, whenever an attempt in flight is
	// judged (Fail) or given back (Release): Reserve waits on it.
	judged chan struct{}
}

type attempt struct {
	at       time.Time
	id       uint64
	inFlight bool // reserved, its password not judged yet
}

// maxJudgeWait bounds how long Reserve waits for attempts in flight to be
// judged; an attempt nobody judges counts as a failure after it.
const maxJudgeWait = 10 * time.Second

// maxLimiterKeys bounds memory under a spray of made-up user names: past
// it, keys whose attempts all left the window are dropped.
const maxLimiterKeys = 10000

// NewLoginLimiter allows max failed attempts per key within window.
func NewLoginLimiter(max int, window time.Duration, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{max: max, window: window, now: now, fails: map[string][]attempt{}, judged: make(chan struct{})}
}

// Attempt is one password attempt reserved by Reserve.
type Attempt struct {
	l    *LoginLimiter
	id   uint64
	keys []string
}

// Reserve counts one attempt against every key before the password is
// checked: checking first and counting after the slow hash let concurrent
// guesses all pass the check. The attempt is in flight until Fail counts
// it as a failure or Release gives it back (the password was right, or was
// never judged).
//
// While any key has used up its tries with failures, Reserve counts
// nothing and reports ok false, and wait is how long until the oldest
// counted failure leaves the window. When only attempts still in flight
// fill a key's tries, Reserve waits for them to be judged rather than
// refusing: several people behind one address signing in at once with
// right passwords are not failures. An attempt in flight for longer than
// maxJudgeWait, or a ctx that ends first, counts as a failure.
func (l *LoginLimiter) Reserve(ctx context.Context, keys ...string) (a *Attempt, ok bool, wait time.Duration) {
	for {
		l.mu.Lock()
		now := l.now()
		if len(l.fails) >= maxLimiterKeys {
			for k := range l.fails {
				l.prune(k, now)
			}
		}
		var pending time.Duration // until an attempt in flight counts as failed
		for _, k := range keys {
			f := l.prune(k, now)
			failed := slices.DeleteFunc(slices.Clone(f), func(t attempt) bool { return !t.failed(now) })
			switch {
			case len(failed) >= l.max:
				// Until the failure that used up the last try leaves the window.
				wait = max(wait, failed[len(failed)-l.max].at.Add(l.window).Sub(now))
			case len(f) >= l.max:
				for _, t := range f {
					if !t.failed(now) {
						pending = max(pending, t.at.Add(maxJudgeWait).Sub(now))
					}
				}
			}
		}
		if wait > 0 {
			l.mu.Unlock()
			return nil, false, wait
		}
		if pending == 0 {
			l.seq++
			a = &Attempt{l: l, id: l.seq, keys: slices.Clone(keys)}
			for _, k := range keys {
				l.fails[k] = append(l.fails[k], attempt{at: now, id: a.id, inFlight: true})
			}
			l.mu.Unlock()
			return a, true, 0
		}
		judged := l.judged
		l.mu.Unlock()
		t := time.NewTimer(pending)
		select {
		case <-judged:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, false, pending
		}
		t.Stop()
	}
}

// failed reports whether t counts as a failure: judged so, or left in
// flight past maxJudgeWait.
func (t attempt) failed(now time.Time) bool {
	return !t.inFlight || now.Sub(t.at) >= maxJudgeWait
}

// Fail counts the attempt as a failure: the password was wrong.
func (a *Attempt) Fail() {
	l := a.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range a.keys {
		for i := range l.fails[k] {
			if l.fails[k][i].id == a.id {
				l.fails[k][i].inFlight = false
			}
		}
	}
	l.wake()
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
	l.wake()
}

// wake tells waiting Reserves that an attempt was judged; callers hold mu.
func (l *LoginLimiter) wake() {
	close(l.judged)
	l.judged = make(chan struct{})
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
