package exec

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// HostCommand is a fixed command for the host itself. Only constants convert
// to it implicitly, which keeps user input out of host commands.
type HostCommand string

// Host commands Corral runs.
const (
	PctList HostCommand = "pct list"
)

// Window is a terminal size in character cells.
type Window struct {
	Cols, Rows int
}

// PtyRequest asks for a pseudo-terminal upstream.
type PtyRequest struct {
	Term       string // TERM; xterm-256color when empty or unsafe
	Cols, Rows int
}

// PctRequest describes one `pct exec VMID -- Argv…` or `pct enter VMID`.
type PctRequest struct {
	VMID  int
	Argv  []string // the command for pct exec; empty with Enter
	Enter bool     // run `pct enter`, the container's login shell

	Stdin          io.Reader // nil: no input (EOF at once)
	Stdout, Stderr io.Writer // nil: discarded
	Pty            *PtyRequest
	Resize         <-chan Window // window changes, forwarded while the command runs
	Signals        <-chan string // signal names without SIG, e.g. "INT"
}

// Run runs a fixed host command and returns its exit code. Output goes to
// stdout and stderr, which may be nil.
func (h *Host) Run(ctx context.Context, cmd HostCommand, stdout, stderr io.Writer) (int, error) {
	return h.run(ctx, string(cmd), runIO{stdout: stdout, stderr: stderr})
}

// Pct runs `pct exec` or `pct enter` in a container. The exit code is the
// command's own (pct passes it through). A command killed by a signal gives
// 128+N and a *SignalError; a session that ends without a status gives 255
// and ErrExitMissing. Cancelling ctx closes the session.
func (h *Host) Pct(ctx context.Context, req PctRequest) (int, error) {
	cmd, err := pctCommand(req.VMID, req.Enter, req.Argv)
	if err != nil {
		return -1, fmt.Errorf("exec: pct: %w", err)
	}
	return h.run(ctx, cmd, runIO{
		stdin: req.Stdin, stdout: req.Stdout, stderr: req.Stderr,
		pty: req.Pty, resize: req.Resize, signals: req.Signals,
	})
}

type runIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	pty            *PtyRequest
	resize         <-chan Window
	signals        <-chan string
}

// run executes cmd in a new session. It only ever sends "exec": never
// "shell", "env", "subsystem" or agent requests.
func (h *Host) run(ctx context.Context, cmd string, o runIO) (int, error) {
	sess, err := h.newSession(ctx)
	if err != nil {
		return -1, err
	}
	defer sess.Close()
	// From here on, cancelling ctx closes the session, which ends Wait.
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()

	if o.pty != nil {
		modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 14400, ssh.TTY_OP_OSPEED: 14400}
		cols, rows := clampSize(o.pty.Cols, o.pty.Rows)
		// x/crypto takes height first.
		if err := sess.RequestPty(safeTerm(o.pty.Term), rows, cols, modes); err != nil {
			return -1, fmt.Errorf("exec: %s: request pty: %w", h.addr, ctxErr(ctx, err))
		}
	}
	sess.Stdin = o.stdin
	sess.Stdout = o.stdout
	sess.Stderr = o.stderr
	if err := sess.Start(cmd); err != nil {
		return -1, fmt.Errorf("exec: %s: start: %w", h.addr, ctxErr(ctx, err))
	}

	fwdDone := make(chan struct{})
	defer func() { <-fwdDone }()
	waitDone := make(chan struct{})
	defer close(waitDone)
	go forwardControl(sess, o.resize, o.signals, waitDone, fwdDone)

	err = sess.Wait()
	if ctx.Err() != nil {
		return -1, fmt.Errorf("exec: %s: %w", h.addr, ctx.Err())
	}
	if errors.Is(err, io.EOF) && o.stdin != nil {
		// x/crypto reports an exit status of 0 and then the error of the
		// stdin copy: the command ended before reading all of its input and
		// the channel closed under the write. Not reading is its right.
		err = nil
	}
	return exitResult(err)
}

// newSession opens a session, giving up when ctx ends: NewSession itself
// can wait forever on a stuck host.
func (h *Host) newSession(ctx context.Context) (*ssh.Session, error) {
	type result struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := h.client.NewSession()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("exec: %s: open session: %w", h.addr, r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, fmt.Errorf("exec: %s: open session: %w", h.addr, ctx.Err())
	}
}

// forwardControl passes window changes and signals to the session until
// done closes. Bursts of window changes are harmless: each one is a
// want-reply=false request.
func forwardControl(sess *ssh.Session, resize <-chan Window, signals <-chan string, done <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	for {
		select {
		case <-done:
			return
		case w, ok := <-resize:
			if !ok {
				resize = nil
				continue
			}
			cols, rows := clampSize(w.Cols, w.Rows)
			sess.WindowChange(rows, cols)
		case s, ok := <-signals:
			if !ok {
				signals = nil
				continue
			}
			if allowedSignal(s) {
				sess.Signal(ssh.Signal(s))
			}
		}
	}
}

func exitResult(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var exitErr *ssh.ExitError
	if errors.As(err, &exitErr) {
		if exitErr.Signal() != "" {
			return exitErr.ExitStatus(), &SignalError{Signal: exitErr.Signal(), Message: exitErr.Msg()}
		}
		return exitErr.ExitStatus(), nil
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return 255, fmt.Errorf("exec: %w", ErrExitMissing)
	}
	return -1, fmt.Errorf("exec: wait: %w", err)
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// allowedSignal reports whether a client may send sig to the remote command.
func allowedSignal(sig string) bool {
	switch sig {
	case "INT", "TERM", "HUP", "QUIT", "KILL", "USR1", "USR2":
		return true
	}
	return false
}

// clampSize keeps a terminal size in 1..4096, with 80x24 for nonsense.
func clampSize(cols, rows int) (int, int) {
	if cols < 1 || cols > 4096 {
		cols = 80
	}
	if rows < 1 || rows > 4096 {
		rows = 24
	}
	return cols, rows
}

// safeTerm passes TERM through when it is short and plain.
func safeTerm(term string) string {
	if term == "" || len(term) > 64 {
		return "xterm-256color"
	}
	for _, r := range term {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '+' || r == '-'
		if !ok {
			return "xterm-256color"
		}
	}
	return term
}
