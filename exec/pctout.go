package exec

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// CommandError is a command inside a container that exited non-zero.
type CommandError struct {
	VMID   int
	What   string // what Corral was doing, e.g. "read the journal"
	Code   int
	Stderr string // trimmed, at most a few hundred bytes
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("could not %s in CT %d (exit %d)", e.What, e.VMID, e.Code)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Pcter runs pct commands in containers; *Host is one.
type Pcter interface {
	Pct(ctx context.Context, req PctRequest) (int, error)
}

// maxStderr is how much of a failed command's stderr is kept; its error
// message shows less.
const maxStderr = 4 << 10

// errOutputFull is the cause Corral stops a command with once its output
// reached MaxOutput.
var errOutputFull = errors.New("output reached its cap")

// PctOutput runs argv in the container and returns its stdout, at most
// MaxOutput bytes of it: at the cap the command is stopped and cut
// reports that its output was cut. A non-zero exit is a *CommandError
// naming what (what Corral was doing).
func PctOutput(ctx context.Context, h Pcter, vmid int, what string, argv []string) (out string, cut bool, err error) {
	run, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	stdout := &capBuffer{max: MaxOutput, full: func() { stop(errOutputFull) }}
	stderr := &capBuffer{max: maxStderr}
	code, err := h.Pct(run, PctRequest{VMID: vmid, Argv: argv, Stdout: stdout, Stderr: stderr})
	if stdout.Cut() && ctx.Err() == nil {
		stoppedByUs := err != nil && errors.Is(context.Cause(run), errOutputFull)
		if stoppedByUs || err == nil && code == 0 {
			return stdout.String(), true, nil
		}
	}
	if err != nil {
		return "", false, fmt.Errorf("exec: %s in CT %d: %w", what, vmid, err)
	}
	if code != 0 {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if len(msg) > 300 {
			msg = string(trimPartialRune([]byte(msg[:300]))) + "…"
		}
		return "", false, &CommandError{VMID: vmid, What: what, Code: code, Stderr: msg}
	}
	return stdout.String(), false, nil
}
