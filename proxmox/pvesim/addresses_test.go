package pvesim

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestAddresses_StateFromBeforeMemberAddresses: an estate saved before
// nodes had addresses of their own comes back on 127.0.0.1 with its
// ports, so the node records a client (corral demo) stored still match.
func TestAddresses_StateFromBeforeMemberAddresses(t *testing.T) {
	opts := threeNodeOptions(t.TempDir(), true)
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Strip what older simulators did not write; they gave every node
	// ports of its own on 127.0.0.1.
	file := filepath.Join(opts.Dir, stateFile)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var st savedState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	for i := range st.Estates {
		st.Estates[i].Subnet = ""
	}
	ports := map[string]int{}
	for i := range st.Nodes {
		st.Nodes[i].IP = ""
		st.Nodes[i].APIPort, st.Nodes[i].SSHPort = freePort(t), freePort(t)
		ports[st.Nodes[i].Name] = st.Nodes[i].APIPort
	}
	if raw, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	if s, err = New(opts); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, port := range ports {
		n := s.Node(name)
		if n.Host() != "127.0.0.1" || n.Port() != port {
			t.Errorf("%s came back at %s, want 127.0.0.1:%d", name, n.Addr(), port)
		}
	}
	if _, nodes := clusterStatus(t, s.Node("pve1")); nodes["pve2"]["ip"] != "127.0.0.1" {
		t.Errorf("pve2 reports %v", nodes["pve2"]["ip"])
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
