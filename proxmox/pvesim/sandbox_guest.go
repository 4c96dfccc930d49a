package pvesim

import (
	"context"

	sandbox "corral/proxmox/pvesim/guest"
)

// errInterrupt is the cancel cause that makes the guest report SIGINT (130).
var errInterrupt = sandbox.ErrInterrupt

// newBox opens the guest sandbox rooted at a container's data directory.
func newBox(root, hostname string) (box, error) {
	g, err := sandbox.New(root, hostname)
	if err != nil {
		return nil, err
	}
	return guestBox{g}, nil
}

type guestBox struct{ g *sandbox.Guest }

func (b guestBox) Exec(ctx context.Context, argv []string, stdio boxStdio, tty *boxTty) (int, error) {
	return b.g.Exec(ctx, argv, nil, sandbox.Stdio(stdio), (*sandbox.Tty)(tty))
}

func (b guestBox) Shell(ctx context.Context, stdio boxStdio, tty *boxTty) (int, error) {
	return b.g.Shell(ctx, sandbox.Stdio(stdio), (*sandbox.Tty)(tty))
}

func (b guestBox) SetAddress(cidr string) error { return b.g.SetAddress(cidr) }
