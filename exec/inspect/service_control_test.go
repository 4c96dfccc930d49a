package inspect

import (
	"errors"
	"strings"
	"testing"

	gliderssh "github.com/gliderlabs/ssh"

	"corral/exec"
	"corral/proxmox/pvesim/simtest"
)

// TestControlService sends exactly `systemctl ACTION UNIT` for the fixed
// verbs and nothing at all for anything else.
func TestControlService(t *testing.T) {
	node := simtest.StartFakeHost(t, func(s gliderssh.Session) { _ = s.Exit(0) })
	l := node.Login
	h, err := exec.Dial(t.Context(), exec.HostTarget{Host: l.Host, Port: l.Port, User: l.User, Password: l.Password, HostKey: l.HostKey})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, action := range ServiceActions {
		if err := ControlService(t.Context(), h, 105, "nginx", action); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
	}
	got := node.Commands()
	want := []string{"pct exec 105 -- 'systemctl' 'restart' 'nginx.service'",
		"pct exec 105 -- 'systemctl' 'stop' 'nginx.service'", "pct exec 105 -- 'systemctl' 'start' 'nginx.service'"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands = %q", got)
	}

	for _, c := range []struct{ service, action string }{
		{"nginx", "reload; reboot"}, {"nginx", "kill"}, {"-rf", "stop"}, {"a b", "stop"}, {"../x", "start"}, {"$(id)", "restart"},
	} {
		err := ControlService(t.Context(), h, 105, c.service, c.action)
		if !errors.Is(err, ErrBadServiceAction) && !errors.Is(err, ErrBadServiceName) {
			t.Errorf("%q %q: %v", c.service, c.action, err)
		}
	}
	if n := len(node.Commands()); n != 3 {
		t.Errorf("a refused action still reached the host: %q", node.Commands())
	}
}

// TestControlServiceSim stops and starts a unit in a simulated container:
// systemctl's own refusal comes back as a *CommandError.
func TestControlServiceSim(t *testing.T) {
	sim := simtest.TwoHosts(t)
	h, err := exec.Dial(t.Context(), target(t, sim.Node("pve1")))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var out strings.Builder
	if code, err := h.Pct(t.Context(), exec.PctRequest{VMID: 105, Argv: []string{"apt-get", "install", "-y", "nginx"}, Stdout: &out, Stderr: &out}); err != nil || code != 0 {
		t.Fatalf("install nginx: %d %v %s", code, err, out.String())
	}
	active := func() bool {
		code, err := h.Pct(t.Context(), exec.PctRequest{VMID: 105, Argv: []string{"systemctl", "is-active", "--quiet", "nginx"}})
		if err != nil {
			t.Fatal(err)
		}
		return code == 0
	}
	if err := ControlService(t.Context(), h, 105, "nginx", "stop"); err != nil || active() {
		t.Fatalf("stop: %v, still active %v", err, active())
	}
	if err := ControlService(t.Context(), h, 105, "nginx", "start"); err != nil || !active() {
		t.Fatalf("start: %v, active %v", err, active())
	}
	var ce *exec.CommandError
	err = ControlService(t.Context(), h, 105, "nope", "start")
	if !errors.As(err, &ce) || ce.Code != 5 || !strings.Contains(ce.Stderr, "Unit nope.service not found") {
		t.Errorf("a missing unit: %v", err)
	}
}
