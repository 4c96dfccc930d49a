package simproc_test

import (
	"crypto/tls"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simproc"
)

// The pvesim command describes the demo's estate, and each node presents
// exactly the certificate and host key it printed and takes its root login:
// what make load pins Corral's records to.
func TestCommandDescribesTheNodesItServes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pvesim")
	if out, err := exec.Command("go", "build", "-o", bin, "corral/proxmox/pvesim/cmd/pvesim").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	p, err := simproc.Start(exec.Command(bin, "-dir", t.TempDir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()

	var names, want []string
	for _, n := range p.Estate.Nodes {
		names = append(names, n.Name)
	}
	for _, c := range pvesim.DemoOptions().Clusters {
		want = append(want, c.Nodes...)
	}
	want = append(want, pvesim.DemoOptions().Standalone...)
	if slices.Sort(names); !slices.Equal(names, slices.Sorted(slices.Values(want))) {
		t.Fatalf("nodes %q, want %q", names, want)
	}

	for _, n := range p.Estate.Nodes {
		conn, err := tls.Dial("tcp", net.JoinHostPort(n.Host, strconv.Itoa(n.Port)), &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // the test compares the certificate itself
		})
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		got := pvesim.Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
		conn.Close()
		if got != n.Fingerprint {
			t.Errorf("%s presents certificate %s, printed %s", n.Name, got, n.Fingerprint)
		}
		key, err := n.HostKey()
		if err != nil {
			t.Fatalf("%s: host key %q: %v", n.Name, n.SSHHostKey, err)
		}
		c, err := ssh.Dial("tcp", n.SSHAddr, &ssh.ClientConfig{User: n.SSHUser, Auth: []ssh.AuthMethod{ssh.Password(n.SSHPassword)},
			HostKeyCallback: ssh.FixedHostKey(key), Timeout: 30 * time.Second})
		if err != nil {
			t.Fatalf("%s: SSH with the printed host key and login: %v", n.Name, err)
		}
		c.Close()
	}

	p.Stop()
	if st := p.Cmd.ProcessState; st == nil || !st.Success() {
		t.Fatalf("pvesim did not end cleanly on SIGINT: %v", st)
	}
}
