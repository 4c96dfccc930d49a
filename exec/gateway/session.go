package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// session is our own implementation of gliderlabs' Session for the
// "session" channel. We own it instead of using gliderlabs' because that one
// rewrites \n to \r\n on PTY output (corrupting proxied bytes), accepts
// every env and agent-forwarding request, can block its request loop on a
// window change or a signal, and has no per-session context.
type session struct {
	ssh.Channel // raw channel: Write passes bytes through unchanged
	conn        *ssh.ServerConn
	ctx         *sessionContext

	mu      sync.Mutex
	handled bool
	exited  bool
	pty     *gliderssh.Pty
	winch   chan gliderssh.Window
	env     []string
	rawCmd  string
	sigCh   chan<- gliderssh.Signal
	sigBuf  []gliderssh.Signal
}

// sessionContext is the connection's gliderlabs context with the
// cancellation of one session: it ends when the session's channel closes,
// not only when the whole connection does.
type sessionContext struct {
	gliderssh.Context
	inner context.Context
	info  *sessionInfo
}

// sessionInfo is the per-session state the middleware chain shares: the
// logger with the session id, the user once authorized, activity times for
// the idle timeout, and the cancel function of the session's context.
type sessionInfo struct {
	log        *slog.Logger
	user       UserRef
	cancel     context.CancelCauseFunc
	lastInput  atomic.Int64 // unix nanoseconds
	lastOutput atomic.Int64
}

type infoKey struct{}

// touch marks input and output activity now.
func (i *sessionInfo) touch() {
	now := time.Now().UnixNano()
	i.lastInput.Store(now)
	i.lastOutput.Store(now)
}

// infoOf returns the session's shared state. Sessions not created by
// handleSession (tests) get a fresh one.
func infoOf(s gliderssh.Session) *sessionInfo {
	if i, ok := s.Context().Value(infoKey{}).(*sessionInfo); ok {
		return i
	}
	return &sessionInfo{log: slog.New(slog.DiscardHandler), cancel: func(error) {}}
}

func (c *sessionContext) Done() <-chan struct{}       { return c.inner.Done() }
func (c *sessionContext) Err() error                  { return c.inner.Err() }
func (c *sessionContext) Deadline() (time.Time, bool) { return c.inner.Deadline() }
func (c *sessionContext) Value(key any) any {
	if _, ok := key.(infoKey); ok {
		return c.info
	}
	// inner derives from the connection's context, so it has its values
	// too, plus what context.Cause needs.
	return c.inner.Value(key)
}
func (s *session) Context() gliderssh.Context { return s.ctx }
func (s *session) User() string               { return s.conn.User() }
func (s *session) RemoteAddr() net.Addr       { return s.conn.RemoteAddr() }
func (s *session) LocalAddr() net.Addr        { return s.conn.LocalAddr() }
func (s *session) Command() []string          { return strings.Fields(s.RawCommand()) }
func (s *session) Subsystem() string          { return "" }
func (s *session) Break(chan<- bool)          {}
func (s *session) Permissions() gliderssh.Permissions {
	return gliderssh.Permissions{Permissions: s.conn.Permissions}
}
func (s *session) PublicKey() gliderssh.PublicKey { return loginKey(s.conn.Permissions) }
func (s *session) Environ() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.env...)
}
func (s *session) RawCommand() string { s.mu.Lock(); defer s.mu.Unlock(); return s.rawCmd }
func (s *session) Pty() (gliderssh.Pty, <-chan gliderssh.Window, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pty == nil {
		return gliderssh.Pty{}, nil, false
	}
	return *s.pty, s.winch, true
}

// Read reads the client's input and notes the activity.
func (s *session) Read(p []byte) (int, error) {
	n, err := s.Channel.Read(p)
	if n > 0 {
		s.ctx.info.lastInput.Store(time.Now().UnixNano())
	}
	return n, err
}

// Write writes raw output and notes the activity.
func (s *session) Write(p []byte) (int, error) {
	n, err := s.Channel.Write(p)
	if n > 0 {
		s.ctx.info.lastOutput.Store(time.Now().UnixNano())
	}
	return n, err
}

// Exit sends exit-status and closes the channel; only the first call counts.
func (s *session) Exit(code int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited {
		return errors.New("exec: session already exited")
	}
	s.exited = true
	_, err := s.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
	s.Channel.Close()
	return err
}

// exitSignal passes a remote kill by signal through as exit-signal.
func (s *session) exitSignal(sig string, core bool, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited {
		return errors.New("exec: session already exited")
	}
	s.exited = true
	_, err := s.SendRequest("exit-signal", false, ssh.Marshal(struct {
		Signal     string
		CoreDumped bool
		Message    string
		Lang       string
	}{sig, core, msg, ""}))
	s.Channel.Close()
	return err
}

// Signals registers c for the client's signal requests. Sends never block
// the request loop: a full channel drops the signal.
func (s *session) Signals(c chan<- gliderssh.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sigCh = c
	if c == nil {
		return
	}
	for _, sig := range s.sigBuf {
		select {
		case c <- sig:
		default:
		}
	}
	s.sigBuf = nil
}

// Maximum signals kept while no channel is registered.
const maxSigBuf = 16

// serveRequests answers the session's requests until the client closes the
// channel. Only pty-req, window-change, a few env names, signal and one
// shell or exec are accepted; subsystems (sftp), X11, agent forwarding and
// anything unknown are refused. refused is told what was refused.
func (s *session) serveRequests(reqs <-chan *ssh.Request, start func(), refused func(what string)) {
	defer func() {
		s.mu.Lock()
		if s.winch != nil {
			close(s.winch)
		}
		s.mu.Unlock()
	}()
	for req := range reqs {
		ok := false
		switch req.Type {
		case "pty-req":
			ok = s.ptyReq(req.Payload)
		case "window-change":
			ok = s.windowChange(req.Payload)
		case "env":
			ok = s.setEnv(req.Payload)
		case "signal":
			s.signal(req.Payload)
			ok = true
		case "shell", "exec":
			ok = s.begin(req.Type, req.Payload)
			if ok {
				// Reply before the handler writes anything.
				req.Reply(true, nil)
				start()
				continue
			}
		default:
			// subsystem, x11-req, auth-agent-req@openssh.com, break, …
			refused(req.Type)
		}
		if req.WantReply {
			req.Reply(ok, nil)
		}
	}
}

func (s *session) begin(kind string, payload []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handled {
		return false
	}
	var cmd struct{ Value string }
	if kind == "exec" {
		if err := ssh.Unmarshal(payload, &cmd); err != nil {
			return false
		}
	}
	s.rawCmd = cmd.Value
	s.handled = true
	return true
}

func (s *session) ptyReq(payload []byte) bool {
	var p struct {
		Term                 string
		Cols, Rows, WPx, HPx uint32
		Modes                string
	}
	if ssh.Unmarshal(payload, &p) != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handled || s.pty != nil {
		return false
	}
	w := gliderssh.Window{Width: int(p.Cols), Height: int(p.Rows)}
	s.pty = &gliderssh.Pty{Term: p.Term, Window: w}
	s.winch = make(chan gliderssh.Window, 1)
	s.winch <- w
	return true
}

// windowChange keeps only the latest size in the one-slot channel, so a
// burst of resizes never blocks the request loop.
func (s *session) windowChange(payload []byte) bool {
	var p struct{ Cols, Rows, WPx, HPx uint32 }
	if ssh.Unmarshal(payload, &p) != nil || p.Cols < 1 || p.Rows < 1 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pty == nil {
		return false
	}
	w := gliderssh.Window{Width: int(p.Cols), Height: int(p.Rows)}
	s.pty.Window = w
	select {
	case <-s.winch:
	default:
	}
	s.winch <- w // the request loop is the only sender, so this cannot block
	return true
}

// setEnv accepts only TERM, LANG and LC_*; the rest is refused.
func (s *session) setEnv(payload []byte) bool {
	var kv struct{ Key, Value string }
	if ssh.Unmarshal(payload, &kv) != nil {
		return false
	}
	if kv.Key != "TERM" && kv.Key != "LANG" && !strings.HasPrefix(kv.Key, "LC_") {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handled || len(s.env) >= 32 {
		return false
	}
	s.env = append(s.env, kv.Key+"="+kv.Value)
	return true
}

func (s *session) signal(payload []byte) {
	var p struct{ Signal string }
	if ssh.Unmarshal(payload, &p) != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sig := gliderssh.Signal(p.Signal)
	if s.sigCh == nil {
		if len(s.sigBuf) < maxSigBuf {
			s.sigBuf = append(s.sigBuf, sig)
		}
		return
	}
	select {
	case s.sigCh <- sig:
	default:
	}
}

// loginKey is the public key of the successful publickey login, from the
// permissions of that very attempt; nil after a password login.
func loginKey(p *ssh.Permissions) gliderssh.PublicKey {
	if p == nil {
		return nil
	}
	k, err := ssh.ParsePublicKey([]byte(p.Extensions[extKey]))
	if err != nil {
		return nil
	}
	return k
}
