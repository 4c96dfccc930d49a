package simtest_test

import (
	"fmt"
	"testing"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim/simtest"
)

func TestBuffer_WaitForAWriteToCome(t *testing.T) {
	var b simtest.Buffer
	go func() {
		for i := range 3 {
			fmt.Fprintf(&b, "line %d\n", i)
		}
	}()
	b.WaitFor(t, "line 2")
	if n := b.Count("line "); n != 3 {
		t.Fatalf("Count = %d, want 3 in %q", n, b.String())
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := simtest.NewClock(start)
	c.Add(time.Hour)
	if got := c.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("Now = %v", got)
	}
}

func TestFakeHost_RecordsCommands(t *testing.T) {
	h := simtest.StartFakeHost(t, func(s gliderssh.Session) {
		fmt.Fprint(s, "ok")
		s.Exit(0)
	})
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(h.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", fmt.Sprintf("%s:%d", h.Host, h.Port), &ssh.ClientConfig{
		User: h.User, Auth: []ssh.AuthMethod{ssh.Password(h.Password)}, HostKeyCallback: ssh.FixedHostKey(key),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("pct list")
	if err != nil || string(out) != "ok" {
		t.Fatalf("output %q, %v", out, err)
	}
	if got := h.Commands(); len(got) != 1 || got[0] != "pct list" {
		t.Fatalf("commands %q", got)
	}
}

func TestDemo_StartsTheDemoEstate(t *testing.T) {
	sim := simtest.Demo(t)
	if sim.Node("pve1") == nil || sim.Node("pve-solo") == nil {
		t.Fatalf("demo nodes: %v", sim.Nodes())
	}
}
