package exec

import (
	"testing"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
)

// target is how Corral reaches n's host: root, password, pinned key.
func target(t testing.TB, n *pvesim.Node) HostTarget {
	t.Helper()
	return hostTarget(simtest.SSHLogin(t, n))
}

func hostTarget(l simtest.Login) HostTarget {
	return HostTarget{Host: l.Host, Port: l.Port, User: l.User, Password: l.Password, HostKey: l.HostKey}
}

// startFakeNode serves handler on a fake Proxmox host and returns it with
// how Corral would reach it.
func startFakeNode(t testing.TB, handler gliderssh.Handler) (*simtest.FakeHost, HostTarget) {
	t.Helper()
	f := simtest.StartFakeHost(t, handler)
	return f, hostTarget(f.Login)
}

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	s, _ := simtest.NewKey(t)
	return s
}

// waitLimit bounds every wait for the other side; it guards against
// hangs and is no speed expectation.
const waitLimit = time.Minute

// receive returns the next value from ch, failing the test if none comes
// within waitLimit.
func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("waiting for %s: nothing after %v", what, waitLimit)
		panic("unreachable")
	}
}
