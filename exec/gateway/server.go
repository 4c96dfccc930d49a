package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// Config configures the SSH gateway. Zero values take the defaults.
type Config struct {
	Addr               string        // listen address, default ":2222"
	HostKey            ssh.Signer    // required; see LoadOrCreateHostKey
	IdleTimeout        time.Duration // no user input for this long ends a session; default 15 min
	MaxSessionsPerUser int           // concurrent sessions per user; default 10
	HandshakeTimeout   time.Duration // connect to first session; default 30 s
	Logger             *slog.Logger  // required
	// AuditCommands keeps the first 200 bytes of each command in the audit
	// log. Off, only the program name is kept: arguments can hold secrets.
	AuditCommands bool
}

// Deps are what the gateway needs from the rest of Corral. Limiter may be
// nil (5 failures per 15 minutes then); Shells may be nil (the gateway then
// builds its own from Config, for when no other door shares it); the others
// are required.
type Deps struct {
	Auth      Authenticator
	Directory Directory
	Audit     Auditor
	Limiter   Limiter
	// Shells is the path into containers the browser console shares; its
	// idle timeout, session limit and command auditing then apply, and
	// Config's are ignored.
	Shells *Shells
}

// Server is the built-in SSH gateway.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	ssh     *gliderssh.Server
	handler gliderssh.Handler
	shells  *Shells // the session limit, idle timeout and proxying, shared with the console
	conns   *userConns
}

// NewServer builds the gateway; call Serve or ListenAndServe to run it.
func NewServer(cfg Config, deps Deps) (*Server, error) {
	if cfg.HostKey == nil || cfg.Logger == nil || deps.Auth == nil || deps.Directory == nil || deps.Audit == nil {
		return nil, errors.New("exec: new server: host key, logger, authenticator, directory and auditor are required")
	}
	if cfg.Addr == "" {
		cfg.Addr = ":2222"
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 15 * time.Minute
	}
	if cfg.MaxSessionsPerUser <= 0 {
		cfg.MaxSessionsPerUser = 10
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 30 * time.Second
	}
	if deps.Limiter == nil {
		deps.Limiter = NewWindowLimiter(5, 15*time.Minute)
	}
	if deps.Shells == nil {
		deps.Shells = NewShells(ShellsConfig{IdleTimeout: cfg.IdleTimeout, MaxSessionsPerUser: cfg.MaxSessionsPerUser,
			AuditCommands: cfg.AuditCommands, Logger: cfg.Logger}, deps.Audit)
	}
	cfg.IdleTimeout, cfg.MaxSessionsPerUser = deps.Shells.cfg.IdleTimeout, deps.Shells.cfg.MaxSessionsPerUser
	srv := &Server{
		cfg:    cfg,
		deps:   deps,
		log:    cfg.Logger, // main names the component
		shells: deps.Shells,
		conns:  newUserConns(),
	}
	srv.handler = srv.chain()
	srv.ssh = &gliderssh.Server{
		Addr:                 cfg.Addr,
		HostSigners:          []gliderssh.Signer{cfg.HostKey},
		Version:              "Corral",
		ServerConfigCallback: srv.serverConfig,
		ConnCallback:         srv.acceptConn,
		// Only "session" channels: direct-tcpip (-L, -D, -W), X11 and
		// unknown types are rejected as UnknownChannelType. No global
		// request handlers: tcpip-forward (-R) and streamlocal are refused.
		ChannelHandlers:   map[string]gliderssh.ChannelHandler{"session": srv.handleSession},
		RequestHandlers:   map[string]gliderssh.RequestHandler{},
		SubsystemHandlers: map[string]gliderssh.SubsystemHandler{},
	}
	return srv, nil
}

// ListenAndServe listens on the configured address and serves until
// Shutdown or Close; it then returns gliderlabs' ErrServerClosed.
func (srv *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", srv.cfg.Addr)
	if err != nil {
		return fmt.Errorf("exec: listen %s: %w", srv.cfg.Addr, err)
	}
	return srv.Serve(l)
}

// Serve serves connections from l.
func (srv *Server) Serve(l net.Listener) error {
	srv.log.Info("ssh gateway listening", "addr", l.Addr().String(),
		"host_key", ssh.FingerprintSHA256(srv.cfg.HostKey.PublicKey()))
	return srv.ssh.Serve(l)
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = gliderssh.ErrServerClosed

// Shutdown stops accepting connections and waits for open ones to end
// until ctx is done.
func (srv *Server) Shutdown(ctx context.Context) error { return srv.ssh.Shutdown(ctx) }

// Close closes the listener and every connection at once.
func (srv *Server) Close() error { return srv.ssh.Close() }

// DisconnectUser closes every connection signed in as the user, with
// whatever sessions run in them, and ends the user's browser consoles; it
// returns how many there were. Corral calls it when an account is
// disabled, reset or deleted.
func (srv *Server) DisconnectUser(userID string) int {
	n := srv.conns.closeAll(userID) + srv.shells.DisconnectUser(userID)
	if n > 0 {
		srv.log.Info("ssh connections of a user closed", "user_id", userID, "count", n)
	}
	return n
}

// acceptConn puts a deadline on the connection until its first session, so
// a client that never finishes logging in (or never opens a session, like
// ssh -N) cannot hold a connection.
func (srv *Server) acceptConn(ctx gliderssh.Context, c net.Conn) net.Conn {
	dc := &deadlineConn{Conn: c}
	c.SetDeadline(time.Now().Add(srv.cfg.HandshakeTimeout))
	ctx.SetValue(connKey{}, dc)
	return dc
}

type connKey struct{}

// deadlineConn ignores gliderlabs' SetDeadline calls, which would clear our
// handshake deadline on every read when no gliderlabs timeout is set.
type deadlineConn struct {
	net.Conn
	once sync.Once
}

func (c *deadlineConn) SetDeadline(time.Time) error { return nil }

// activate lifts the handshake deadline; from then on the per-session idle
// timeout and TCP keepalives watch the connection.
func (c *deadlineConn) activate() { c.once.Do(func() { c.Conn.SetDeadline(time.Time{}) }) }

// handleSession serves one "session" channel with our own session type.
// The per-user cap is applied here, before the channel is accepted: an
// accepted channel holds a goroutine and a timer before it asks for
// anything, so counting only started sessions let a user hold any number.
func (srv *Server) handleSession(_ *gliderssh.Server, conn *ssh.ServerConn, nc ssh.NewChannel, ctx gliderssh.Context) {
	var user UserRef
	if p := conn.Permissions; p != nil {
		user = UserRef{ID: p.Extensions[extUserID], Name: p.Extensions[extUser]}
	}
	if user.ID == "" {
		nc.Reject(ssh.Prohibited, "corral: permission denied")
		return
	}
	if !srv.shells.sessions.acquire(user.ID) {
		srv.log.Info("ssh session refused: session limit", "user", user.Name, "remote", conn.RemoteAddr().String())
		srv.audit(ctx, Event{Kind: EventDenied, UserID: user.ID, User: user.Name,
			Remote: conn.RemoteAddr().String(), Reason: "session limit"})
		nc.Reject(ssh.ResourceShortage, fmt.Sprintf("corral: you already have %d open sessions, the most allowed; close one and try again", srv.cfg.MaxSessionsPerUser))
		return
	}
	defer srv.shells.sessions.release(user.ID)
	if dc, ok := ctx.Value(connKey{}).(*deadlineConn); ok {
		dc.activate()
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	inner, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	info := &sessionInfo{log: srv.log, cancel: cancel}
	s := &session{Channel: ch, conn: conn, ctx: &sessionContext{Context: ctx, inner: inner, info: info}}
	info.touch()

	done := make(chan struct{})
	var startOnce sync.Once
	started := false
	start := func() {
		startOnce.Do(func() {
			started = true
			go func() {
				defer close(done)
				srv.handler(s)
				s.Exit(0) // no-op when the handler already exited
			}()
		})
	}
	// A session that never asks for a shell or a command is closed.
	timer := time.AfterFunc(srv.cfg.IdleTimeout, func() {
		s.mu.Lock()
		handled := s.handled
		s.mu.Unlock()
		if !handled {
			ch.Close()
		}
	})
	s.serveRequests(reqs, start, func(what string) { srv.refused(ctx, conn, what) })
	timer.Stop()
	cancel(errClientGone)
	if started {
		<-done
	}
}

var errClientGone = errors.New("client closed the session")

// refused audits a request the gateway does not allow (subsystem, X11,
// agent forwarding, …).
func (srv *Server) refused(ctx context.Context, conn *ssh.ServerConn, what string) {
	e := Event{Kind: EventDenied, Remote: conn.RemoteAddr().String(), Reason: "refused " + what}
	if p := conn.Permissions; p != nil {
		e.UserID, e.User = p.Extensions[extUserID], p.Extensions[extUser]
	}
	srv.audit(ctx, e)
}

func (srv *Server) audit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if err := srv.deps.Audit.Audit(context.WithoutCancel(ctx), e); err != nil {
		srv.log.Warn("audit failed", "kind", e.Kind, "err", err)
	}
}
