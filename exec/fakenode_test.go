package exec

import (
	"fmt"
	"testing"

	gliderssh "github.com/gliderlabs/ssh"

	"corral/proxmox/pvesim/simtest"
)

// startFakeNode serves handler on a fake Proxmox host and returns it with
// how Corral would reach it.
func startFakeNode(t testing.TB, handler gliderssh.Handler) (*simtest.FakeHost, HostTarget) {
	t.Helper()
	f := simtest.StartFakeHost(t, handler)
	return f, HostTarget{Host: f.Host, Port: f.Port, User: f.User, Password: f.Password, HostKey: f.HostKey}
}

// reportPty is a fake host command that prints the pty it got and every
// window size, and ends after a resize to 132 columns.
func reportPty(s gliderssh.Session) {
	pty, winCh, ok := s.Pty()
	if !ok {
		fmt.Fprintln(s, "no pty")
		s.Exit(1)
		return
	}
	fmt.Fprintf(s, "term=%s\n", pty.Term)
	for w := range winCh {
		fmt.Fprintf(s, "size=%dx%d\n", w.Width, w.Height)
		if w.Width == 132 {
			s.Exit(0)
			return
		}
	}
}
