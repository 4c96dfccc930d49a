package provision

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"corral/exec"
	"corral/store"
)

// shellSession is a lazily dialled SSH connection to a node's host that
// reconnects and retries a command once when the connection drops (package
// installs restart networking, which can take the session with it).
type shellSession struct {
	conn           connector
	userID, nodeID string
	sh             Shell
	onReconnect    func(error)
}

// Pct runs req, retrying once on a dropped connection when it has no input.
func (s *shellSession) Pct(ctx context.Context, req exec.PctRequest) (int, error) {
	return s.pctWithInput(ctx, req, nil)
}

// pctWithInput runs req with stdin as its input, retrying once on a dropped
// connection. Each attempt reads a fresh reader over stdin: the SSH client
// may still be copying the old one when the connection drops, so rewinding
// it would race with that copy.
func (s *shellSession) pctWithInput(ctx context.Context, req exec.PctRequest, stdin []byte) (int, error) {
	for attempt := 0; ; attempt++ {
		if err := s.dial(ctx); err != nil {
			return 255, err
		}
		if stdin != nil {
			req.Stdin = bytes.NewReader(stdin)
		}
		code, err := s.sh.Pct(ctx, req)
		if attempt > 0 || ctx.Err() != nil || !droppedSSH(err) || (req.Stdin != nil && stdin == nil) {
			return code, err
		}
		s.Close()
		if s.onReconnect != nil {
			s.onReconnect(err)
		}
	}
}

// SetFeatures runs pct set on the host, retrying once on a dropped
// connection: setting the same flags twice is harmless.
func (s *shellSession) SetFeatures(ctx context.Context, vmid int, f store.Features, out io.Writer) (int, error) {
	for attempt := 0; ; attempt++ {
		if err := s.dial(ctx); err != nil {
			return 255, err
		}
		fs, ok := s.sh.(FeatureSetter)
		if !ok {
			return 255, ErrNoFeatureSetter
		}
		code, err := fs.SetFeatures(ctx, vmid, f.String(), out, out)
		if attempt > 0 || ctx.Err() != nil || !droppedSSH(err) {
			return code, err
		}
		s.Close()
		if s.onReconnect != nil {
			s.onReconnect(err)
		}
	}
}

func (s *shellSession) dial(ctx context.Context) error {
	if s.sh != nil {
		return nil
	}
	sh, err := s.conn.Shell(ctx, s.userID, s.nodeID)
	if err != nil {
		return err
	}
	s.sh = sh
	return nil
}

// Close ends the connection; the next Pct dials again.
func (s *shellSession) Close() {
	if s.sh != nil {
		s.sh.Close()
		s.sh = nil
	}
}

// command runs argv in the container, streaming its output as log lines of
// step st. A non-zero exit becomes a *StepError naming display (the command
// as a user would read it), the exit code and the last output lines.
func (p *pipeline) command(ctx context.Context, st Step, display string, argv []string, stdin []byte) error {
	w := &exec.LineWriter{Emit: func(s string) { p.emit(st, store.EntryLog, s) }}
	sh := p.shell()
	sh.onReconnect = func(err error) {
		p.emit(st, store.EntryLog, fmt.Sprintf("Connection to the host dropped (%v); reconnecting and retrying once", err))
	}
	req := exec.PctRequest{VMID: p.job.Plan.VMID, Argv: argv, Stdout: w, Stderr: w}
	code, err := sh.pctWithInput(ctx, req, stdin)
	w.Flush()
	return commandResult(ctx, st, display, code, err, w.Tail())
}

// commandResult turns a command's outcome into the step's error, if any.
func commandResult(ctx context.Context, st Step, display string, code int, err error, tail []string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && code == 0 {
		code = 255
	}
	switch {
	case err != nil:
		return &store.StepError{Step: st.Key, Message: fmt.Sprintf("%s: %v", display, err), Command: display, ExitCode: code, Output: tail}
	case code != 0:
		return &store.StepError{Step: st.Key, Message: display + " failed", Command: display, ExitCode: code, Output: tail}
	}
	return nil
}

// upload writes content to path inside the container (mode 0600: helper
// and script files are private until removed).
func (p *pipeline) upload(ctx context.Context, st Step, path string, content []byte) error {
	// Created empty and private first, then filled (no umask: minimal
	// shells may lack it).
	script := `mkdir -p "$(dirname "$1")" && : > "$1" && chmod 600 "$1" && cat > "$1"`
	return p.command(ctx, st, "upload "+path, []string{"sh", "-c", script, "sh", path}, content)
}
