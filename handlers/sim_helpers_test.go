package handlers_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"corral/proxmox"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

// startSim runs the demo estate (cluster "homelab" with pve1..pve3 and the
// standalone "pve-solo") with tasks as fast as possible, closed with the test.
func startSim(t *testing.T) *pvesim.Sim {
	t.Helper()
	return startSimWith(t, nil)
}

// startSimWith is startSim with the demo options changed by tweak first.
func startSimWith(t *testing.T, tweak func(*pvesim.Options)) *pvesim.Sim {
	t.Helper()
	if tweak == nil {
		return simtest.Demo(t)
	}
	return simtest.Demo(t, tweak)
}

// simNode is a node record for a simulated host, pinned and complete, as
// the add-node flow would store it (without going through that flow).
func simNode(t *testing.T, sim *pvesim.Sim, userID, pveName, name string) store.Node {
	t.Helper()
	n := sim.Node(pveName)
	if n == nil {
		t.Fatalf("no simulated node %q", pveName)
	}
	rec := store.Node{
		UserID: userID, Name: name, Host: n.Host(), Port: n.Port(),
		TokenID: pvesim.DemoTokenID, TokenSecret: pvesim.DemoTokenSecret,
		SSHUser: n.SSHUser(), SSHPort: sshPort(t, n.SSHAddr()), SSHPassword: n.SSHPassword(),
		TLSFingerprint: n.Fingerprint(), SSHHostKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(n.SSHHostKey()))),
		PVENodeName: pveName,
	}
	c, err := proxmox.New(proxmox.Config{Host: rec.Host, Port: rec.Port, TokenID: rec.TokenID, TokenSecret: rec.TokenSecret, Fingerprint: rec.TLSFingerprint})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.ClusterStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rec.ClusterName = st.Name
	rec.ClusterKey = proxmox.ClusterKey(st, rec.TLSFingerprint)
	return rec
}

// addSimNode stores simNode for the user and returns the stored record.
func (s *testServer) addSimNode(t *testing.T, sim *pvesim.Sim, userID, pveName, name string) store.Node {
	t.Helper()
	n, err := s.DB.CreateNode(context.Background(), simNode(t, sim, userID, pveName, name))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sshPort(t *testing.T, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSimHelpers(t *testing.T) {
	s := newTestServer(t)
	sim := startSim(t)
	u := s.withUser(t, "alice", "correct horse")
	a := s.addSimNode(t, sim, u.ID, "pve1", "pve1")
	b := s.addSimNode(t, sim, u.ID, "pve2", "pve2")
	solo := s.addSimNode(t, sim, u.ID, "pve-solo", "solo")
	if a.ClusterKey == "" || a.ClusterKey != b.ClusterKey {
		t.Fatalf("two nodes of homelab got keys %q and %q", a.ClusterKey, b.ClusterKey)
	}
	if solo.ClusterKey == a.ClusterKey || solo.ClusterName != "" {
		t.Fatalf("standalone node key %q name %q", solo.ClusterKey, solo.ClusterName)
	}
	if !a.IsDefault || b.IsDefault {
		t.Fatal("the first node should be the default")
	}
}
