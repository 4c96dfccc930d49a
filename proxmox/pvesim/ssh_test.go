package pvesim

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func dialSSH(t *testing.T, n *Node, auth ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	c, err := ssh.Dial("tcp", n.SSHAddr(), &ssh.ClientConfig{
		User: "root", Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(n.SSHHostKey()), Timeout: 10 * time.Second,
	})
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func mustSSH(t *testing.T, n *Node) *ssh.Client {
	t.Helper()
	c, err := dialSSH(t, n, ssh.Password(n.SSHPassword()))
	if err != nil {
		t.Fatalf("ssh: %v", err)
	}
	return c
}

// runSSH runs cmd in a new session and returns stdout, stderr and the exit status.
func runSSH(t *testing.T, c *ssh.Client, cmd, stdin string) (string, string, int) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &out, &errb, strings.NewReader(stdin)
	err = sess.Run(cmd)
	code := 0
	var ee *ssh.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitStatus()
	case err != nil:
		t.Fatalf("%s: %v", cmd, err)
	}
	return out.String(), errb.String(), code
}

func TestSSH_Auth(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	t.Run("Password", func(t *testing.T) { mustSSH(t, n) })
	t.Run("WrongPassword", func(t *testing.T) {
		if _, err := dialSSH(t, n, ssh.Password("nope")); err == nil {
			t.Fatal("wrong password accepted")
		}
	})
	t.Run("Key", func(t *testing.T) {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		signer, _ := ssh.NewSignerFromKey(priv)
		if _, err := dialSSH(t, n, ssh.PublicKeys(signer)); err == nil {
			t.Fatal("unknown key accepted")
		}
		n.AuthorizeKey(signer.PublicKey())
		if _, err := dialSSH(t, n, ssh.PublicKeys(signer)); err != nil {
			t.Fatalf("authorized key refused: %v", err)
		}
		if _, err := dialSSH(t, s.Node("pve2"), ssh.PublicKeys(signer)); err == nil {
			t.Fatal("key authorized on pve works on pve2")
		}
	})
	t.Run("HostKeyPinned", func(t *testing.T) {
		_, err := ssh.Dial("tcp", n.SSHAddr(), &ssh.ClientConfig{
			User: "root", Auth: []ssh.AuthMethod{ssh.Password(n.SSHPassword())},
			HostKeyCallback: ssh.FixedHostKey(s.Node("pve2").SSHHostKey()),
		})
		if err == nil {
			t.Fatal("wrong host key accepted")
		}
	})
}

func TestSSH_Pct(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	c := mustSSH(t, n)

	t.Run("List", func(t *testing.T) {
		out, _, code := runSSH(t, c, "pct list", "")
		want := "VMID       Status     Lock         Name                \n" +
			"105        running                 mqtt                \n" +
			"110        stopped                 web                 \n" +
			"900        stopped                 debian-base         \n"
		if code != 0 || out != want {
			t.Fatalf("pct list (%d):\n%q\nwant\n%q", code, out, want)
		}
	})
	t.Run("Status", func(t *testing.T) {
		out, _, code := runSSH(t, c, "pct status 105", "")
		if code != 0 || out != "status: running\n" {
			t.Fatalf("%d %q", code, out)
		}
	})
	t.Run("StatusOtherNode", func(t *testing.T) {
		_, errOut, code := runSSH(t, c, "pct status 120", "")
		if code != 255 || errOut != "Configuration file 'nodes/pve/lxc/120.conf' does not exist\n" {
			t.Fatalf("%d %q", code, errOut)
		}
	})
	t.Run("ExecExitCodeAndStreams", func(t *testing.T) {
		out, errOut, code := runSSH(t, c, `pct exec 105 -- /bin/sh -c 'echo "hello world"; echo oops >&2; exit 3'`, "")
		if code != 3 || out != "hello world\n" || errOut != "oops\n" {
			t.Fatalf("code %d out %q err %q", code, out, errOut)
		}
	})
	t.Run("ExecStdin", func(t *testing.T) {
		out, _, code := runSSH(t, c, "pct exec 105 -- cat", "piped\n")
		if code != 0 || out != "piped\n" {
			t.Fatalf("code %d out %q", code, out)
		}
	})
	t.Run("ExecNoTTY", func(t *testing.T) {
		out, _, _ := runSSH(t, c, `pct exec 105 -- sh -c 'echo "term=$TERM"'`, "")
		if out != "term=\n" {
			t.Fatalf("TERM without pty = %q", out)
		}
	})
	t.Run("ExecStopped", func(t *testing.T) {
		_, errOut, code := runSSH(t, c, "pct exec 110 -- true", "")
		if code != 255 || errOut != "container '110' not running!\n" {
			t.Fatalf("%d %q", code, errOut)
		}
	})
	t.Run("ExecMissing", func(t *testing.T) {
		_, errOut, code := runSSH(t, c, "pct exec 999 -- true", "")
		if code != 255 || errOut != "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n" {
			t.Fatalf("%d %q", code, errOut)
		}
	})
	t.Run("ExecNoCommand", func(t *testing.T) {
		_, errOut, code := runSSH(t, c, "pct exec 105", "")
		if code != 255 || errOut != "missing command\n" {
			t.Fatalf("%d %q", code, errOut)
		}
	})
	t.Run("ExecCommandNotFoundInside", func(t *testing.T) {
		_, _, code := runSSH(t, c, "pct exec 105 -- no-such-binary", "")
		if code != 127 {
			t.Fatalf("code %d", code)
		}
	})
	t.Run("EnterWithoutPTY", func(t *testing.T) {
		_, errOut, code := runSSH(t, c, "pct enter 105", "")
		if code != 255 || !strings.Contains(errOut, "no terminal") {
			t.Fatalf("%d %q", code, errOut)
		}
	})
	t.Run("UsageErrors", func(t *testing.T) {
		for cmd, want := range map[string]string{
			"pct":            "ERROR: no command specified\n",
			"pct frobnicate": "ERROR: unknown command 'pct frobnicate'\n",
			"pct status":     "400 not enough arguments\npct status <vmid> [OPTIONS]\n",
			"pct status abc": "400 Parameter verification failed.\nvmid: type check ('integer') failed - got 'abc'\n",
		} {
			_, errOut, code := runSSH(t, c, cmd, "")
			if code != 255 || !strings.HasPrefix(errOut, want) {
				t.Fatalf("%s: %d %q", cmd, code, errOut)
			}
		}
	})
	t.Run("NotPct", func(t *testing.T) {
		_, errOut, code := runSSH(t, c, "ls /", "")
		if code != 127 || errOut != "bash: ls: command not found\n" {
			t.Fatalf("%d %q", code, errOut)
		}
	})
	t.Run("SudoAndFullPath", func(t *testing.T) {
		out, _, code := runSSH(t, c, "sudo /usr/sbin/pct status 110", "")
		if code != 0 || out != "status: stopped\n" {
			t.Fatalf("%d %q", code, out)
		}
	})
	t.Run("PushPull", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(n.HostDir(), "root"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(n.HostDir(), "root/in.txt"), []byte("payload\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := runSSH(t, c, "pct push 105 /root/in.txt /tmp/in.txt", ""); code != 0 {
			t.Fatalf("push: %d %q", code, errOut)
		}
		out, _, _ := runSSH(t, c, "pct exec 105 -- cat /tmp/in.txt", "")
		if out != "payload\n" {
			t.Fatalf("pushed file reads %q", out)
		}
		if _, errOut, code := runSSH(t, c, "pct pull 105 /tmp/in.txt /root/out.txt", ""); code != 0 {
			t.Fatalf("pull: %d %q", code, errOut)
		}
		if b, _ := os.ReadFile(filepath.Join(n.HostDir(), "root/out.txt")); string(b) != "payload\n" {
			t.Fatalf("pulled %q", b)
		}
		_, errOut, code := runSSH(t, c, "pct push 105 /root/missing /tmp/x", "")
		if code != 255 || errOut != "failed to open /root/missing for reading: No such file or directory\n" {
			t.Fatalf("missing source: %d %q", code, errOut)
		}
		// ".." cannot leave the node's directory.
		if _, _, code := runSSH(t, c, "pct pull 105 /tmp/in.txt ../../../escape.txt", ""); code != 0 {
			t.Fatalf("pull with dots: %d", code)
		}
		if _, err := os.Stat(filepath.Join(n.HostDir(), "escape.txt")); err != nil {
			t.Fatalf("dots not confined to host dir: %v", err)
		}
	})
	t.Run("StartStop", func(t *testing.T) {
		if _, errOut, code := runSSH(t, c, "pct start 110", ""); code != 0 {
			t.Fatalf("start: %d %q", code, errOut)
		}
		if st, _ := n.GuestStatus(110); st != "running" {
			t.Fatalf("status = %s", st)
		}
		if _, errOut, code := runSSH(t, c, "pct start 110", ""); code != 255 || errOut != "CT 110 already running\n" {
			t.Fatalf("second start: %d %q", code, errOut)
		}
		if _, errOut, code := runSSH(t, c, "pct stop 110", ""); code != 0 {
			t.Fatalf("stop: %d %q", code, errOut)
		}
	})
}

func TestSSH_PTY(t *testing.T) {
	s := newTestSim(t)
	c := mustSSH(t, s.Node("pve"))
	t.Run("ExecWithPTY", func(t *testing.T) {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if err := sess.RequestPty("xterm-256color", 40, 120, ssh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
		out, err := sess.Output(`pct exec 105 -- sh -c 'echo "term=$TERM"'`)
		if err != nil {
			t.Fatalf("exec with pty: %v (%q)", err, out)
		}
		if !strings.HasPrefix(string(out), "term=xterm-256color") {
			t.Fatalf("TERM with pty = %q", out)
		}
	})
	t.Run("EnterAndExit", func(t *testing.T) {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
		in, _ := sess.StdinPipe()
		var out bytes.Buffer
		sess.Stdout = &out
		if err := sess.Start("pct enter 105"); err != nil {
			t.Fatal(err)
		}
		if err := sess.WindowChange(50, 132); err != nil {
			t.Fatal(err)
		}
		io.WriteString(in, "echo inside-$((6*7))\nexit 4\n")
		err = sess.Wait()
		var ee *ssh.ExitError
		if !errors.As(err, &ee) || ee.ExitStatus() != 4 {
			t.Fatalf("exit = %v; output %q", err, out.String())
		}
		if !strings.Contains(out.String(), "inside-42") {
			t.Fatalf("output %q", out.String())
		}
	})
}

func TestSSH_Signals(t *testing.T) {
	s := newTestSim(t)
	c := mustSSH(t, s.Node("pve"))
	for _, tc := range []struct {
		sig     ssh.Signal
		code    int
		exitSig string
	}{{ssh.SIGINT, 130, ""}, {ssh.SIGTERM, 143, ""}, {ssh.SIGKILL, 0, "KILL"}} {
		t.Run(string(tc.sig), func(t *testing.T) {
			sess, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			stdout, err := sess.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := sess.Start("pct exec 105 -- /bin/sh -c 'echo ready; sleep 600'"); err != nil {
				t.Fatal(err)
			}
			if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
				t.Fatalf("first line %q: %v", line, err)
			}
			go io.Copy(io.Discard, stdout)
			if err := sess.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err = sess.Wait()
			var ee *ssh.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("wait = %v", err)
			}
			if ee.Signal() != tc.exitSig || (tc.exitSig == "" && ee.ExitStatus() != tc.code) {
				t.Fatalf("signal %q status %d, want %q %d", ee.Signal(), ee.ExitStatus(), tc.exitSig, tc.code)
			}
		})
	}
}

func TestSSH_StopEndsSession(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	c := mustSSH(t, n)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Start("pct exec 105 -- sleep 600"); err != nil {
		t.Fatal(err)
	}
	c2 := mustSSH(t, n)
	if _, errOut, code := runSSH(t, c2, "pct stop 105", ""); code != 0 {
		t.Fatalf("stop: %d %q", code, errOut)
	}
	var ee *ssh.ExitError
	if err := sess.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 137 {
		t.Fatalf("session after stop: %v", err)
	}
}
