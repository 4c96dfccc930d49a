package pvesim

import (
	"context"
	"io"
)

// box is what pct needs from a container's guest sandbox (package
// corral/proxmox/pvesim/guest); sandbox_guest.go adapts the real one.
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
