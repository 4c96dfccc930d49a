package pvesim

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestSSH_ActiveSessions counts a shell while it runs and sees the count
// drop once the client hangs up without exiting the shell.
func TestSSH_ActiveSessions(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	c := mustSSH(t, n)
	if got := n.ActiveSessions(); got != 0 {
		t.Fatalf("before: %d sessions", got)
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.StdinPipe(); err != nil { // kept open: the shell waits for input
		t.Fatal(err)
	}
	if err := sess.Start("pct enter 105"); err != nil {
		t.Fatal(err)
	}
	// The deadline only guards against a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.WaitSessions(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := n.WaitSessions(ctx, 0); err != nil {
		t.Fatal(err)
	}
}
