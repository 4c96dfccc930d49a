package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"corral/proxmox/pvesim/simtest"

	"golang.org/x/crypto/ssh"
)

// TestGateway_OpenSSHClient drives the real ssh binary through a PTY (made
// by script(1)) along the interactive path: menu, pick, shell, exit status.
// Every keystroke waits for the output that shows the other side is ready
// for it: the simulated shell hands bytes typed while a command still runs
// to that command, so an early "exit 7" would be lost and the session would
// sit until the idle timeout.
func TestGateway_OpenSSHClient(t *testing.T) {
	sshBin, err := osexec.LookPath("ssh")
	if err != nil {
		t.Fatal("openssh-client is required (apt-get install openssh-client)")
	}
	scriptBin, err := osexec.LookPath("script")
	if err != nil {
		t.Fatal("script(1) from util-linux is required")
	}
	env := startGateway(t, nil)
	dir := t.TempDir()
	keyFile, knownHosts := filepath.Join(dir, "id"), filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(keyFile, env.aliceKeyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, env.addr)
	line := fmt.Sprintf("[%s]:%s %s", host, port, ssh.MarshalAuthorizedKey(env.hostKey))
	if err := os.WriteFile(knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	// Nothing of the user's setup may take part: no config file, agent,
	// known hosts or prompts; a failure to connect ends ssh quickly.
	sshCmd := strings.Join([]string{sshBin, "-tt", "-F", "/dev/null", "-e", "none", "-p", port, "-i", keyFile,
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "UpdateHostKeys=no",
		"-o", "ConnectTimeout=30", "alice@" + host}, " ")

	// The deadline only guards against a hang; waits fail well before it.
	ctx, cancel := context.WithTimeout(t.Context(), 2*waitLimit)
	defer cancel()
	cmd := osexec.CommandContext(ctx, scriptBin, "-qefc", sshCmd, "/dev/null")
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	term := &expecter{}
	cmd.Stdout, cmd.Stderr = term, term
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-waited
	})
	expect := func(want string) string {
		t.Helper()
		got, err := term.expect(want, waited)
		if err != nil {
			t.Fatalf("%v; terminal so far:\n%q", err, term.all())
		}
		return got
	}
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(stdin, s); err != nil {
			t.Fatalf("type %q: %v", s, err)
		}
	}

	menu := expect("Open which one")
	if !strings.Contains(menu, "105   web   pve1  running") {
		t.Errorf("menu:\n%s", menu)
	}
	const prompt = "root@web:~# "
	send("web\r")
	expect(prompt)
	send("echo hello-$((6*7))\r")
	expect("hello-42\r\n")
	expect(prompt) // the command is over: the shell reads the next line
	send("exit 7\r")
	err = <-waited
	waited <- err // for the cleanup
	var exitErr *osexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 7 {
		t.Errorf("ssh exit: %v, want status 7; terminal:\n%q", err, term.all())
	}
}

// expecter collects a terminal's output and waits for patterns in it, each
// search starting after the previous match.
type expecter struct {
	buf  simtest.Buffer
	seen int // output consumed by earlier matches
}

func (e *expecter) Write(p []byte) (int, error) { return e.buf.Write(p) }

func (e *expecter) all() string { return e.buf.String() }

// expect returns the output from the previous match up to and including
// want. It fails when the command ends (exited reports that) or waitLimit
// passes first.
func (e *expecter) expect(want string, exited chan error) (string, error) {
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		out, sig := e.buf.State()
		if i := strings.Index(out[e.seen:], want); i >= 0 {
			end := e.seen + i + len(want)
			got := out[e.seen:end]
			e.seen = end
			return got, nil
		}
		select {
		case <-sig:
		case err := <-exited:
			exited <- err // leave it for the caller
			if !strings.Contains(e.all()[e.seen:], want) {
				return "", fmt.Errorf("waiting for %q: ssh ended: %v", want, err)
			}
		case <-timer.C:
			return "", fmt.Errorf("waiting for %q: nothing after %v", want, waitLimit)
		}
	}
}

func splitAddr(t *testing.T, addr string) (string, string) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}
