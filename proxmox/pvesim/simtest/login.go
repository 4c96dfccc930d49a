package simtest

import (
	"net"
	"strconv"
	"testing"

	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim"
)

// Login is how Corral reaches a host over SSH: an address, a user with a
// password, and the host key pinned for it (an authorized_keys line).
type Login struct {
	Host     string
	Port     int
	User     string
	Password string
	HostKey  string
}

// SSHLogin is how Corral reaches the host of the simulated node n.
func SSHLogin(t testing.TB, n *pvesim.Node) Login {
	t.Helper()
	return login(t, n.SSHAddr(), n.SSHUser(), n.SSHPassword(), n.SSHHostKey())
}

func login(t testing.TB, addr, user, password string, key ssh.PublicKey) Login {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return Login{Host: host, Port: p, User: user, Password: password, HostKey: string(ssh.MarshalAuthorizedKey(key))}
}
