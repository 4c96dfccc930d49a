package gateway

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// consoleRun is a browser console run straight on Shells, as the web
// handler runs it.
type consoleRun struct {
	in   *io.PipeWriter
	out  *io.PipeReader
	done chan Outcome
}

func startConsole(t *testing.T, sh *Shells, g Guest) *consoleRun {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	r := &consoleRun{in: inW, out: outR, done: make(chan Outcome, 1)}
	go func() {
		out, err := sh.Console(t.Context(), Who{User: UserRef{ID: "u-alice", Name: "alice"}, Remote: "browser"}, g,
			Terminal{Stdin: inR, Stdout: outW, Stderr: outW})
		if err != nil {
			t.Errorf("console: %v", err)
		}
		outW.Close()
		r.done <- out
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return r
}

// TestShells_OneLimitForBothDoors: with one session allowed, a browser
// console leaves no room for an ssh session, DisconnectUser ends the
// console, and then an ssh shell leaves no room for a console.
func TestShells_OneLimitForBothDoors(t *testing.T) {
	var shells *Shells
	env := startGateway(t, func(c *Config, d *Deps) {
		shells = NewShells(ShellsConfig{MaxSessionsPerUser: 1, IdleTimeout: waitLimit, Logger: slog.New(slog.DiscardHandler)}, d.Audit)
		d.Shells = shells
	})
	web := Guest{VMID: 105, Name: "web", Node: "pve1", NodeID: "n1", Status: "running", Host: target(t, env.sim.Node("pve1"))}

	c := startConsole(t, shells, web)
	io.WriteString(c.in, "echo web-$((2+2))\r")
	readUntil(t, c.out, "web-4")
	go io.Copy(io.Discard, c.out) // a browser keeps reading
	if open := shells.Open(); open["console"] != 1 || open["ssh"] != 0 {
		t.Errorf("open sessions with one console: %v", open)
	}
	_, err := env.mustDial(t, "alice").NewSession()
	var open *ssh.OpenChannelError
	if !errors.As(err, &open) || open.Reason != ssh.ResourceShortage {
		t.Errorf("ssh session beside a console: %v", err)
	}

	if n := env.srv.DisconnectUser("u-alice"); n < 1 {
		t.Errorf("DisconnectUser counted %d", n)
	}
	if out := <-c.done; out.Status != -1 {
		t.Errorf("console after DisconnectUser: %+v", out)
	}
	// The console has returned, so its slot is free again.
	s, stdin, stdout := menuSession(t, env, "alice+105")
	io.WriteString(stdin, "echo ssh-$((1+1))\r")
	readUntil(t, stdout, "ssh-2")
	if open := shells.Open(); open["console"] != 0 || open["ssh"] != 1 {
		t.Errorf("open sessions with one ssh shell: %v", open)
	}
	_, err = shells.Console(t.Context(), Who{User: UserRef{ID: "u-alice", Name: "alice"}}, web, Terminal{})
	if !errors.Is(err, ErrSessionLimit) {
		t.Fatalf("console beside an ssh shell: %v", err)
	}
	if ev := env.audit.find(EventConsoleDenied); len(ev) != 1 || ev[0].Reason != "session limit" {
		t.Errorf("denied events %+v", ev)
	}
	io.WriteString(stdin, "exit\r")
	s.Wait()

	if ends := env.audit.find(EventConsoleEnd); len(ends) != 1 || ends[0].VMID != 105 {
		t.Errorf("console end events %+v", ends)
	}
}

// TestShells_ShutdownEndsConsoles: Shutdown ends running consoles, waits
// for their end to be recorded, and lets no new one start.
func TestShells_ShutdownEndsConsoles(t *testing.T) {
	env := startGateway(t, nil)
	shells := env.srv.shells
	web := Guest{VMID: 105, Name: "web", Node: "pve1", NodeID: "n1", Status: "running", Host: target(t, env.sim.Node("pve1"))}
	c := startConsole(t, shells, web)
	io.WriteString(c.in, "echo up-$((1+1))\r")
	readUntil(t, c.out, "up-2")
	go io.Copy(io.Discard, c.out)
	if err := shells.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ends := env.audit.find(EventConsoleEnd); len(ends) != 1 {
		t.Errorf("console end events after Shutdown: %+v", ends)
	}
	if out := <-c.done; out.Status != -1 {
		t.Errorf("console after Shutdown: %+v", out)
	}
	out, err := shells.Console(t.Context(), Who{User: UserRef{ID: "u-alice", Name: "alice"}}, web, Terminal{Stdin: strings.NewReader("")})
	if err != nil || out.Status != -1 {
		t.Errorf("console after Shutdown: %+v, %v", out, err)
	}
}
