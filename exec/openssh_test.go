package exec

import (
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestGateway_OpenSSHClient drives the real ssh binary through a PTY (made
// by script(1)) along the interactive path: menu, pick, shell, exit status.
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
	sshCmd := strings.Join([]string{sshBin, "-tt", "-F", "/dev/null", "-p", port, "-i", keyFile,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile=" + knownHosts, "alice@" + host}, " ")
	cmd := osexec.CommandContext(t.Context(), scriptBin, "-qefc", sshCmd, "/dev/null")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	menu := readUntil(t, stdout, "Open which one")
	if !strings.Contains(menu, "105   web   pve1  running") {
		t.Errorf("menu:\n%s", menu)
	}
	io.WriteString(stdin, "web\r")
	io.WriteString(stdin, "echo hello-$((6*7))\r")
	readUntil(t, stdout, "hello-42")
	io.WriteString(stdin, "exit 7\r")
	io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	var exitErr *osexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 7 {
		t.Errorf("ssh exit: %v, want status 7", err)
	}
}

func splitAddr(t *testing.T, addr string) (string, string) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}
