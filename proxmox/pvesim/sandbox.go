package pvesim

import (
	"context"
	"io"
)

// box is what pct needs from a container's guest sandbox (package
// corral/proxmox/pvesim/guest, adapted in sandbox_guest.go). The narrow
// interface keeps pct's code independent of the sandbox's wider API.
type box interface {
	Exec(ctx context.Context, argv []string, stdio boxStdio, tty *boxTty) (int, error)
	Shell(ctx context.Context, stdio boxStdio, tty *boxTty) (int, error)
	SetAddress(cidr string) error
}

// boxStdio are a command's streams.
type boxStdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// boxTty is a session's terminal; nil means pipes.
type boxTty struct {
	Term       string
	Cols, Rows int
	Resize     <-chan [2]int
}
