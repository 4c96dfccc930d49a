package exec

import (
	"errors"
	"fmt"
)

// Errors of the upstream client, worded so they can be shown to the user as
// they are. Test with errors.Is.
var (
	ErrUnreachable    = errors.New("the host did not answer on its SSH port")
	ErrAuthFailed     = errors.New("the host refused the SSH user name, password or key")
	ErrPctMissing     = errors.New("pct is not available on the host; is it a Proxmox VE node, and is the SSH user root?")
	ErrHostKeyChanged = errors.New("the host's SSH key is not the one pinned for it")
	ErrNoHostKey      = errors.New("no SSH host key is pinned for this host")
	ErrExitMissing    = errors.New("the host closed the session without an exit status")
)

// HostKeyChangedError is returned by Dial when the host presents a key other
// than the pinned one. It matches ErrHostKeyChanged.
type HostKeyChangedError struct {
	Addr   string
	Pinned string // SHA256 fingerprint of the pinned key
	Got    string // SHA256 fingerprint of the key the host presented
}

func (e *HostKeyChangedError) Error() string {
	return fmt.Sprintf("%s: %v (pinned %s, presented %s)", e.Addr, ErrHostKeyChanged, e.Pinned, e.Got)
}

// Is makes errors.Is(err, ErrHostKeyChanged) true.
func (e *HostKeyChangedError) Is(target error) bool { return target == ErrHostKeyChanged }

// SignalError reports that the remote command was killed by a signal. The
// exit code returned next to it is 128 plus the signal number.
type SignalError struct {
	Signal     string // without the SIG prefix, e.g. "KILL"
	CoreDumped bool
	Message    string
}

func (e *SignalError) Error() string {
	return fmt.Sprintf("killed by signal %s", e.Signal)
}
