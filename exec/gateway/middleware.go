package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
)

// Middleware wraps a session handler.
type Middleware func(gliderssh.Handler) gliderssh.Handler

// chain composes the gateway's middleware. The order is load-bearing, and
// the first listed runs first (outermost):
//  1. recover: a panic anywhere below ends only that session, with a message;
//  2. log: every session gets a session_id logger, and its end is logged
//     whatever happened;
//  3. authorize: the identity is re-read from the successful login attempt
//     and checked before anything uses it;
//  4. idle: the idle timer runs for menus and proxied sessions alike.
//
// The gateway handler (target, menu, proxy) is innermost. The per-user
// session cap is not a middleware: it applies before a session channel is
// accepted (handleSession).
func (srv *Server) chain() gliderssh.Handler {
	mws := []Middleware{srv.recoverMW, srv.logMW, srv.authorizeMW, srv.idleMW}
	h := gliderssh.Handler(srv.gateway)
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

func (srv *Server) recoverMW(next gliderssh.Handler) gliderssh.Handler {
	return func(s gliderssh.Session) {
		defer func() {
			if r := recover(); r != nil {
				infoOf(s).log.Error("ssh session panic", "panic", r, "stack", string(debug.Stack()))
				say(s, "corral: internal error")
				s.Exit(255)
			}
		}()
		next(s)
	}
}

func (srv *Server) logMW(next gliderssh.Handler) gliderssh.Handler {
	return func(s gliderssh.Session) {
		info := infoOf(s)
		var id [6]byte
		rand.Read(id[:])
		info.log = srv.log.With("session_id", hex.EncodeToString(id[:]), "user", s.User(), "remote", s.RemoteAddr().String())
		_, _, pty := s.Pty()
		start := time.Now()
		info.log.Info("ssh session start", "pty", pty)
		defer func() { info.log.Info("ssh session end", "duration", time.Since(start).Round(time.Millisecond)) }()
		next(s)
	}
}

func (srv *Server) authorizeMW(next gliderssh.Handler) gliderssh.Handler {
	return func(s gliderssh.Session) {
		ref, ok := identity(s)
		if !ok {
			infoOf(s).log.Warn("ssh session identity mismatch")
			say(s, "corral: permission denied")
			s.Exit(255)
			return
		}
		infoOf(s).user = ref
		next(s)
	}
}

var errIdle = errors.New("idle timeout")

// idleMW ends a session after IdleTimeout without activity: user input for
// PTY sessions (a redrawing `top` does not count), input or output for
// commands without a PTY (a long build that prints is not idle).
func (srv *Server) idleMW(next gliderssh.Handler) gliderssh.Handler {
	return func(s gliderssh.Session) {
		info := infoOf(s)
		_, _, pty := s.Pty()
		idle := srv.shells.cfg.IdleTimeout
		last := func() int64 {
			if pty {
				return info.lastInput.Load()
			}
			return max(info.lastInput.Load(), info.lastOutput.Load())
		}
		stop := watchIdle(s.Context(), idle, last, func() {
			say(s, "corral: "+idleMessage(idle))
			info.cancel(errIdle)
		})
		defer stop()
		next(s)
	}
}

// sessionCounter caps concurrent sessions per user.
type sessionCounter struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newSessionCounter(max int) *sessionCounter {
	return &sessionCounter{max: max, n: make(map[string]int)}
}

func (c *sessionCounter) acquire(user string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[user] >= c.max {
		return false
	}
	c.n[user]++
	return true
}

func (c *sessionCounter) release(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[user]--; c.n[user] <= 0 {
		delete(c.n, user)
	}
}

// say writes one line for the user on stderr, with a CR when a PTY is in
// use (the client's terminal is raw then).
func say(s gliderssh.Session, line string) {
	_, _, pty := s.Pty()
	if pty {
		fmt.Fprint(s.Stderr(), line+"\r\n")
		return
	}
	fmt.Fprint(s.Stderr(), line+"\n")
}
