package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"corral/exec"
)

// Shells opens shells and commands in containers. It is the one path both
// doors take, the SSH gateway and the browser console: the same dial to the
// pinned node, the same pct, the same per-account session limit, idle
// timeout and audit trail.
type Shells struct {
	cfg      ShellsConfig
	audit    Auditor
	log      *slog.Logger
	sessions *sessionCounter
	consoles *liveConsoles
	dial     func(context.Context, exec.HostTarget) (*exec.Host, error)

	openMu sync.Mutex
	open   map[string]int // proxied sessions now, by door name, for metrics
}

// ShellsConfig configures Shells. Zero values take the defaults.
type ShellsConfig struct {
	IdleTimeout        time.Duration // no user input for this long ends a session; default 15 min
	MaxSessionsPerUser int           // concurrent sessions per user, both doors together; default 10
	// AuditCommands keeps the first 200 bytes of each command in the audit
	// log. Off, only the program name is kept: arguments can hold secrets.
	AuditCommands bool
	Logger        *slog.Logger // nil: discarded
}

// NewShells builds the shared path into containers; audit is required.
func NewShells(cfg ShellsConfig, audit Auditor) *Shells {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 15 * time.Minute
	}
	if cfg.MaxSessionsPerUser <= 0 {
		cfg.MaxSessionsPerUser = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Shells{
		cfg: cfg, audit: audit, log: cfg.Logger,
		sessions: newSessionCounter(cfg.MaxSessionsPerUser),
		consoles: &liveConsoles{m: map[string]map[*consoleEntry]struct{}{}},
		dial:     exec.Dial,
		open:     map[string]int{sshDoor.name: 0, consoleDoor.name: 0},
	}
}

// Open counts the sessions proxied right now, by door ("ssh", "console").
func (sh *Shells) Open() map[string]int {
	sh.openMu.Lock()
	defer sh.openMu.Unlock()
	return maps.Clone(sh.open)
}

func (sh *Shells) opened(d door, n int) {
	sh.openMu.Lock()
	defer sh.openMu.Unlock()
	sh.open[d.name] += n
}

// IdleTimeout is how long a session may go without user input.
func (sh *Shells) IdleTimeout() time.Duration { return sh.cfg.IdleTimeout }

// Terminal is the client's end of a proxied session, whichever door it
// came through.
type Terminal struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Pty            *exec.PtyRequest // nil: no terminal
	Resize         <-chan exec.Window
	Signals        <-chan string // signal names without SIG
}

// Who is the person a session belongs to, and where they connect from.
type Who struct {
	User   UserRef
	Remote string
}

// Outcome is how a proxied session ended.
type Outcome struct {
	// Status is the exit status for the client: the command's own, 255
	// when Corral ended the session, -1 when the client went away.
	Status  int
	Reason  string            // for the audit log: "exited", "idle timeout", "client closed", …
	Signal  *exec.SignalError // the command was killed by this signal
	Message string            // what to tell the user, "" when nothing went wrong
}

// door names the audit kinds of one way in.
type door struct{ name, start, end string }

var (
	sshDoor     = door{"ssh", EventSessionStart, EventSessionEnd}
	consoleDoor = door{"console", EventConsoleStart, EventConsoleEnd}
)

// proxy runs `pct enter` (command "") or `/bin/sh -c command` in g on the
// node that holds it, with t's streams, and audits its start and end. It
// ends when the command does, or when ctx does; a cause of errIdle means
// the idle timeout ended it.
func (sh *Shells) proxy(ctx context.Context, d door, who Who, g Guest, command string, t Terminal, log *slog.Logger) Outcome {
	start := time.Now()
	base := Event{UserID: who.User.ID, User: who.User.Name, Remote: who.Remote, VMID: g.VMID, Node: g.Node, NodeID: g.NodeID}
	if command != "" {
		base.Command = programName(command)
		if sh.cfg.AuditCommands {
			base.Command = truncate(command, 200)
		}
	}
	startEv := base
	startEv.Kind = d.start
	sh.record(ctx, startEv)
	sh.opened(d, 1)
	defer sh.opened(d, -1)
	out := sh.runPct(ctx, who, g, command, t, log.With("vmid", g.VMID, "node", g.Node))
	end := base
	end.Kind, end.ExitStatus, end.Duration, end.Reason = d.end, out.Status, time.Since(start), out.Reason
	sh.record(ctx, end)
	return out
}

func (sh *Shells) runPct(ctx context.Context, who Who, g Guest, command string, t Terminal, log *slog.Logger) Outcome {
	host, err := sh.dial(ctx, g.Host)
	if err != nil && ctx.Err() != nil {
		return Outcome{Status: -1, Reason: "client closed"}
	}
	if err != nil {
		var changed *exec.HostKeyChangedError
		if errors.As(err, &changed) {
			sh.record(ctx, Event{Kind: EventHostKeyChanged, UserID: who.User.ID, VMID: g.VMID, Node: g.Node, NodeID: g.NodeID,
				Reason: fmt.Sprintf("pinned %s, presented %s", changed.Pinned, changed.Got)})
			log.Error("node host key changed", "pinned", changed.Pinned, "presented", changed.Got)
			return Outcome{Status: 255, Reason: "dial failed",
				Message: fmt.Sprintf("the SSH host key of node %s has changed; ask the administrator to check it", clean(g.Node))}
		}
		log.Warn("dial node", "err", err)
		return Outcome{Status: 255, Reason: "dial failed", Message: fmt.Sprintf("cannot reach node %s", clean(g.Node))}
	}
	defer host.Close()

	pr := exec.PctRequest{VMID: g.VMID, Stdin: t.Stdin, Stdout: t.Stdout, Stderr: t.Stderr,
		Pty: t.Pty, Resize: t.Resize, Signals: t.Signals}
	if command == "" {
		pr.Enter = true
	} else {
		// The user's command stays one word for the host shell; the
		// container's own sh interprets it, as OpenSSH would.
		pr.Argv = []string{"/bin/sh", "-c", command}
	}
	code, err := host.Pct(ctx, pr)

	var sigErr *exec.SignalError
	switch {
	case ctx.Err() != nil:
		if errors.Is(context.Cause(ctx), errIdle) {
			return Outcome{Status: 255, Reason: "idle timeout"}
		}
		return Outcome{Status: -1, Reason: "client closed"}
	case errors.As(err, &sigErr):
		return Outcome{Status: code, Reason: "signal " + sigErr.Signal, Signal: sigErr}
	case errors.Is(err, exec.ErrExitMissing):
		log.Warn("node sent no exit status")
		return Outcome{Status: 255, Reason: "no exit status"}
	case err != nil:
		log.Warn("pct", "err", err)
		return Outcome{Status: 255, Reason: "upstream error", Message: "the session to the container failed"}
	}
	return Outcome{Status: code, Reason: "exited"}
}

func (sh *Shells) record(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if err := sh.audit.Audit(context.WithoutCancel(ctx), e); err != nil {
		sh.log.Warn("audit failed", "kind", e.Kind, "err", err)
	}
}

// idleMessage is what a session ended by the idle timeout tells the user.
func idleMessage(idle time.Duration) string {
	return fmt.Sprintf("no activity for %s; closing the session", idle)
}

// watchIdle calls fire once when last (unix nanoseconds of the latest
// activity) is idle old, checking a few times per period, until ctx ends
// or stop is called. Both doors use it.
func watchIdle(ctx context.Context, idle time.Duration, last func() int64, fire func()) (stop func()) {
	tick := min(max(idle/4, 10*time.Millisecond), 30*time.Second)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if time.Since(time.Unix(0, last())) >= idle {
				fire()
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// ErrSessionLimit means the user already has as many sessions open as
// allowed, through either door.
var ErrSessionLimit = errors.New("session limit reached")

// Console runs the container's login shell for the browser console, with
// a PTY. It counts against the user's session limit (ErrSessionLimit when
// full, before anything is dialled), ends after the idle timeout without
// input, and is audited as a console session. Cancelling ctx ends it; so
// does DisconnectUser.
func (sh *Shells) Console(ctx context.Context, who Who, g Guest, t Terminal) (Outcome, error) {
	if !sh.sessions.acquire(who.User.ID) {
		sh.record(ctx, Event{Kind: EventConsoleDenied, UserID: who.User.ID, User: who.User.Name, Remote: who.Remote,
			VMID: g.VMID, Node: g.Node, NodeID: g.NodeID, Reason: "session limit"})
		return Outcome{}, fmt.Errorf("%w: you already have %d open sessions, the most allowed; close one and try again", ErrSessionLimit, sh.cfg.MaxSessionsPerUser)
	}
	defer sh.sessions.release(who.User.ID)
	if t.Pty == nil {
		t.Pty = &exec.PtyRequest{}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	untrack := sh.consoles.add(who.User.ID, cancel)
	defer untrack()
	if ctx.Err() != nil {
		return Outcome{Status: -1, Reason: "shutting down"}, nil
	}

	in := &activityReader{r: t.Stdin}
	in.touch()
	t.Stdin = in
	log := sh.log.With("console", true, "user", who.User.Name, "remote", who.Remote)
	stop := watchIdle(ctx, sh.cfg.IdleTimeout, in.last.Load, func() { cancel(errIdle) })
	out := sh.proxy(ctx, consoleDoor, who, g, "", t, log)
	stop()
	if out.Reason == "idle timeout" {
		out.Message = idleMessage(sh.cfg.IdleTimeout)
	}
	return out, nil
}

// DisconnectUser ends every browser console of the user and returns how
// many there were.
func (sh *Shells) DisconnectUser(userID string) int { return sh.consoles.cancelAll(userID) }

var errShuttingDown = errors.New("corral is shutting down")

// Shutdown ends every browser console and waits until each has recorded
// its end, or until ctx ends. Their WebSockets are hijacked connections,
// which the HTTP server's own Shutdown does not wait for.
func (sh *Shells) Shutdown(ctx context.Context) error {
	sh.consoles.mu.Lock()
	sh.consoles.closed = true
	for _, set := range sh.consoles.m {
		for e := range set {
			e.cancel(errShuttingDown)
		}
	}
	sh.consoles.mu.Unlock()
	done := make(chan struct{})
	go func() { sh.consoles.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// activityReader notes when the user last typed.
type activityReader struct {
	r    io.Reader
	last atomic.Int64 // unix nanoseconds
}

func (a *activityReader) touch() { a.last.Store(time.Now().UnixNano()) }

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.touch()
	}
	return n, err
}

var errAccountClosed = errors.New("the account was signed out")

// liveConsoles tracks the running browser consoles of each user, so that
// disabling an account ends them as it ends the user's SSH connections,
// and shutting down ends them all.
type liveConsoles struct {
	mu      sync.Mutex
	m       map[string]map[*consoleEntry]struct{}
	closed  bool           // shutting down: no new consoles
	running sync.WaitGroup // consoles not yet returned; added to only while !closed
}

type consoleEntry struct{ cancel context.CancelCauseFunc }

func (l *liveConsoles) add(userID string, cancel context.CancelCauseFunc) (remove func()) {
	e := &consoleEntry{cancel: cancel}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		cancel(errShuttingDown)
		return func() {}
	}
	if l.m[userID] == nil {
		l.m[userID] = map[*consoleEntry]struct{}{}
	}
	l.m[userID][e] = struct{}{}
	l.running.Add(1)
	return func() {
		defer l.running.Done()
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.m[userID], e)
		if len(l.m[userID]) == 0 {
			delete(l.m, userID)
		}
	}
}

func (l *liveConsoles) cancelAll(userID string) int {
	l.mu.Lock()
	list := l.m[userID]
	delete(l.m, userID)
	l.mu.Unlock()
	for e := range list {
		e.cancel(errAccountClosed)
	}
	return len(list)
}
