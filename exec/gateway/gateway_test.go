package gateway

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"corral/exec"
	"corral/proxmox/pvesim/simtest"

	"golang.org/x/crypto/ssh"
)

func TestGateway_Login(t *testing.T) {
	env := startGateway(t, nil)

	t.Run("password", func(t *testing.T) {
		c := env.mustDial(t, "alice", ssh.Password("alice-pw"))
		out, _, code := run(t, c, "ls", "")
		want := "VMID  NAME  NODE  STATUS\n105   web   pve1  running\n106   db    pve1  stopped\n107   far   pve2  running\n"
		if code != 0 || out != want {
			t.Errorf("ls: %d %q, want %q", code, out, want)
		}
	})
	t.Run("public key", func(t *testing.T) {
		c := env.mustDial(t, "alice", ssh.PublicKeys(env.aliceKey))
		out, _, code := run(t, c, "105 -- echo hi", "")
		if code != 0 || out != "hi\n" {
			t.Errorf("got %d %q", code, out)
		}
		ok := env.audit.find(EventAuthOK)
		if len(ok) == 0 || ok[len(ok)-1].Fingerprint != ssh.FingerprintSHA256(env.aliceKey.PublicKey()) || ok[len(ok)-1].UserID != "u-alice" {
			t.Errorf("auth audit %+v", ok)
		}
	})
	t.Run("unregistered key", func(t *testing.T) {
		if _, err := env.dial(t, "alice", ssh.PublicKeys(newSigner(t))); err == nil {
			t.Fatal("login with an unknown key succeeded")
		}
	})
	t.Run("another user's key", func(t *testing.T) {
		if _, err := env.dial(t, "bob", ssh.PublicKeys(env.aliceKey)); err == nil {
			t.Fatal("bob logged in with alice's key")
		}
	})
	t.Run("none", func(t *testing.T) {
		if _, err := env.dial(t, "alice"); err == nil {
			t.Fatal("login without credentials succeeded")
		}
	})
}

func TestGateway_WrongPasswordLimited(t *testing.T) {
	env := startGateway(t, func(_ *Config, d *Deps) { d.Limiter = NewWindowLimiter(3, time.Hour) })
	for i := 0; i < 3; i++ {
		if _, err := env.dial(t, "alice", ssh.Password("nope")); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	// Locked now: even the right password is refused, with a banner.
	var banner string
	_, err := ssh.Dial("tcp", env.addr, &ssh.ClientConfig{
		User: "alice", Auth: []ssh.AuthMethod{ssh.Password("alice-pw")},
		HostKeyCallback: ssh.FixedHostKey(env.hostKey),
		BannerCallback:  func(m string) error { banner += m; return nil },
	})
	if err == nil {
		t.Fatal("right password accepted during lockout")
	}
	if !strings.Contains(banner, "too many failed password logins") {
		t.Errorf("banner %q", banner)
	}
	if n := len(env.audit.find(EventAuthFailed)); n != 3 {
		t.Errorf("%d failure events, want 3", n)
	}
	if len(env.audit.find(EventAuthLocked)) == 0 {
		t.Error("no lockout event")
	}
	// Bob, from the same address, is locked out too: the address is.
	if _, err := env.dial(t, "bob", ssh.Password("bob-pw")); err == nil {
		t.Error("same address not limited")
	}
	// Only passwords are throttled: alice's registered key still logs in.
	c, err := env.dial(t, "alice", ssh.PublicKeys(env.aliceKey))
	if err != nil {
		t.Fatalf("key login refused during a password lockout: %v", err)
	}
	c.Close()
}

func TestGateway_Exec(t *testing.T) {
	env := startGateway(t, nil)
	c := env.mustDial(t, "alice")

	out, errOut, code := run(t, c, "105 -- sh -c 'echo out; echo err >&2; exit 3'", "")
	if code != 3 || out != "out\n" || errOut != "err\n" {
		t.Errorf("got %d %q %q", code, out, errOut)
	}
	if out, _, code := run(t, c, "web -- echo by name", ""); code != 0 || out != "by name\n" {
		t.Errorf("by name: %d %q", code, out)
	}
	if out, _, code := run(t, c, "107 -- cat", "stdin\nreaches\n"); code != 0 || out != "stdin\nreaches\n" {
		t.Errorf("cat on pve2: %d %q", code, out)
	}
	ends := env.audit.find(EventSessionEnd)
	if len(ends) < 3 || ends[0].VMID != 105 || ends[0].ExitStatus != 3 || ends[0].Node != "pve1" || ends[0].UserID != "u-alice" {
		t.Errorf("session end events %+v", ends)
	}
	if starts := env.audit.find(EventSessionStart); len(starts) < 3 || starts[0].Command == "" {
		t.Errorf("session start events %+v", starts)
	}
}

func TestGateway_LoginTarget(t *testing.T) {
	env := startGateway(t, nil)
	for _, user := range []string{"alice+105", "alice+web"} {
		c := env.mustDial(t, user, ssh.Password("alice-pw"))
		// The whole command is the user's, even one that looks like a target.
		out, _, code := run(t, c, "echo 106", "")
		if code != 0 || out != "106\n" {
			t.Errorf("%s: got %d %q", user, code, out)
		}
	}
	c := env.mustDial(t, "alice+105", ssh.Password("alice-pw"))
	_, errOut, code := run(t, c, "", "")
	if code != 1 || !strings.Contains(errOut, "ssh -t") {
		t.Errorf("shell without pty: %d %q", code, errOut)
	}
}

func TestGateway_Refusals(t *testing.T) {
	env := startGateway(t, nil)
	c := env.mustDial(t, "alice")

	_, notFound, code := run(t, c, "999 -- true", "")
	if code != 1 || !strings.Contains(notFound, "no such container") {
		t.Fatalf("nonexistent: %d %q", code, notFound)
	}
	_, foreign, code := run(t, c, "205 -- true", "")
	if code != 1 || strings.ReplaceAll(foreign, "205", "999") != notFound {
		t.Errorf("another user's container: %d %q; want the same words as %q", code, foreign, notFound)
	}
	_, foreignName, _ := run(t, c, "secret -- true", "")
	if strings.Contains(foreignName, "pve") || strings.Contains(foreignName, "bob") || !strings.Contains(foreignName, "no such container") {
		t.Errorf("by name: %q", foreignName)
	}
	if _, errOut, code := run(t, c, "106 -- true", ""); code != 1 || !strings.Contains(errOut, "106 (db) is stopped") {
		t.Errorf("stopped: %d %q", code, errOut)
	}
	if _, errOut, code := run(t, c, "0105 -- true", ""); code != 1 || !strings.Contains(errOut, "no such container") {
		t.Errorf("odd vmid: %d %q", code, errOut)
	}
	if n := len(env.audit.find(EventDenied)); n < 4 {
		t.Errorf("%d denied events, want 4 or more", n)
	}
	c2 := env.mustDial(t, "alice+205", ssh.Password("alice-pw"))
	if _, errOut, code := run(t, c2, "true", ""); code != 1 || !strings.Contains(errOut, "no such container") {
		t.Errorf("alice+205: %d %q", code, errOut)
	}
}

func TestGateway_Forwarding(t *testing.T) {
	env := startGateway(t, nil)
	c := env.mustDial(t, "alice")

	if _, err := c.Dial("tcp", env.addr); err == nil {
		t.Error("local forwarding (-L) allowed")
	}
	if l, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Error("reverse forwarding (-R) allowed")
	}
	_, _, err := c.OpenChannel("x11", nil)
	var openErr *ssh.OpenChannelError
	if !errors.As(err, &openErr) || openErr.Reason != ssh.UnknownChannelType {
		t.Errorf("x11 channel: %v", err)
	}
	if _, _, err := c.OpenChannel("foo@example.com", nil); !errors.As(err, &openErr) || openErr.Reason != ssh.UnknownChannelType {
		t.Errorf("unknown channel: %v", err)
	}

	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestSubsystem("sftp"); err == nil {
		t.Error("sftp subsystem allowed")
	}
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req", "break"} {
		if ok, err := s.SendRequest(req, true, nil); ok || err != nil {
			t.Errorf("%s: ok=%v err=%v", req, ok, err)
		}
	}
	if err := s.Setenv("LD_PRELOAD", "/x.so"); err == nil {
		t.Error("env LD_PRELOAD accepted")
	}
	if err := s.Setenv("LC_ALL", "C"); err != nil {
		t.Errorf("env LC_ALL refused: %v", err)
	}
	// The session still works after all that.
	var out strings.Builder
	s.Stdout = &out
	if err := s.Run("105 -- echo still fine"); err != nil || out.String() != "still fine\n" {
		t.Errorf("session after refusals: %v %q", err, out.String())
	}
	if len(env.audit.find(EventDenied)) == 0 {
		t.Error("refusals not audited")
	}
}

func TestGateway_ExitSignal(t *testing.T) {
	env := startGateway(t, nil)
	c := env.mustDial(t, "alice")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stdin, _ := s.StdinPipe()
	defer stdin.Close()
	stdout, _ := s.StdoutPipe()
	if err := s.Start("105 -- sh -c 'echo ready; cat'"); err != nil {
		t.Fatal(err)
	}
	readUntil(t, stdout, "ready")
	if err := s.Signal(ssh.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = s.Wait()
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.Signal() != "KILL" {
		t.Errorf("wait: %v, want exit-signal KILL", err)
	}
}

func TestGateway_Pty(t *testing.T) {
	env := startGateway(t, nil)
	c := env.mustDial(t, "alice")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm-test", 40, 120, nil); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s.Stdout = &out
	if err := s.Run("105 -- echo $TERM; tty"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "xterm-test\r\n/dev/pts/0\r\n" {
		t.Errorf("got %q", out.String())
	}
}

// TestGateway_PtyWindow checks size and window changes as the host sees
// them, through the gateway, on a fake host that reports its pty.
func TestGateway_PtyWindow(t *testing.T) {
	node := simtest.StartFakeHost(t, simtest.ReportPty)
	tgt := exec.HostTarget{Host: node.Host, Port: node.Port, User: node.User, Password: node.Password, HostKey: node.HostKey}
	env := startGateway(t, func(_ *Config, d *Deps) {
		d.Directory = fakeDir{"u-alice": {{VMID: 300, Name: "fake", Node: "fake", Status: "running", Host: tgt}}}
	})
	c := env.mustDial(t, "alice")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("vt220", 40, 120, nil); err != nil {
		t.Fatal(err)
	}
	stdout, _ := s.StdoutPipe()
	if err := s.Start("300"); err != nil {
		t.Fatal(err)
	}
	got := readUntil(t, stdout, "size=120x40")
	if err := s.WindowChange(50, 132); err != nil {
		t.Fatal(err)
	}
	got += readUntil(t, stdout, "size=132x50")
	if !strings.HasPrefix(got, "term=vt220") {
		t.Errorf("host saw %q", got)
	}
	if err := s.Wait(); err != nil {
		t.Errorf("wait: %v", err)
	}
	if cmds := node.Commands(); len(cmds) != 1 || cmds[0] != "pct enter 300" {
		t.Errorf("host got %q", cmds)
	}
}

func TestGateway_Menu(t *testing.T) {
	s, stdin, stdout := menuSession(t, startGateway(t, nil), "alice")
	menu := readUntil(t, stdout, "Open which one")
	for _, want := range []string{"1  105   web   pve1  running", "2  106   db    pve1  stopped", "3  107   far   pve2  running"} {
		if !strings.Contains(menu, want) {
			t.Errorf("menu lacks %q:\n%s", want, menu)
		}
	}
	if strings.Contains(menu, "205") || strings.Contains(menu, "secret") {
		t.Errorf("menu shows bob's container:\n%s", menu)
	}
	io.WriteString(stdin, "9\r")
	readUntil(t, stdout, "no such container")
	// Pick web, then talk to its shell: the typed-ahead command runs there.
	io.WriteString(stdin, "web\rexit 7\r")
	err := s.Wait()
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 7 {
		t.Errorf("wait: %v, want exit status 7", err)
	}
}

// TestGateway_MenuStoppedAsksAgain picks a stopped container from the
// menu: the gateway says so and asks again instead of ending the session.
func TestGateway_MenuStoppedAsksAgain(t *testing.T) {
	s, stdin, stdout := menuSession(t, startGateway(t, nil), "alice")
	readUntil(t, stdout, "Open which one")
	io.WriteString(stdin, "2\r")
	got := readUntil(t, stdout, "Open which one")
	if !strings.Contains(got, "106 (db) is stopped; start it first, or pick another") {
		t.Fatalf("after picking the stopped db:\n%s", got)
	}
	io.WriteString(stdin, "web\rexit 7\r")
	err := s.Wait()
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 7 {
		t.Errorf("wait: %v, want exit status 7 from web's shell", err)
	}
}

// menuSession opens a shell with a PTY as user, which shows the menu.
func menuSession(t *testing.T, env *gwEnv, user string) (*ssh.Session, io.Writer, io.Reader) {
	t.Helper()
	s, err := env.mustDial(t, user).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	stdin, _ := s.StdinPipe()
	stdout, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	return s, stdin, stdout
}

func TestGateway_HostKeyChanged(t *testing.T) {
	env := startGateway(t, nil)
	if err := env.sim.Node("pve2").RotateHostKey(); err != nil {
		t.Fatal(err)
	}
	c := env.mustDial(t, "alice")
	_, errOut, code := run(t, c, "107 -- true", "")
	if code != 255 || !strings.Contains(errOut, "host key of node pve2 has changed") {
		t.Errorf("got %d %q", code, errOut)
	}
	if ev := env.audit.find(EventHostKeyChanged); len(ev) != 1 || ev[0].VMID != 107 {
		t.Errorf("events %+v", ev)
	}
	// pve1 is unaffected.
	if _, _, code := run(t, c, "105 -- true", ""); code != 0 {
		t.Errorf("pve1: %d", code)
	}
}

// timeoutHeadroom is the idle and handshake timeout of the tests that wait
// for one to fire. Connecting to the node counts as idle time and logging in
// counts against the handshake deadline, and both take well over 200ms with
// -race on a busy two-core machine; a few seconds keeps the tests about the
// timeouts, not about the machine.
const timeoutHeadroom = 3 * time.Second

func TestGateway_IdleTimeout(t *testing.T) {
	env := startGateway(t, func(c *Config, _ *Deps) { c.IdleTimeout = timeoutHeadroom })
	c := env.mustDial(t, "alice")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var errOut strings.Builder
	s.Stderr = &errOut
	stdin, _ := s.StdinPipe() // held open, never written
	defer stdin.Close()
	stdout, _ := s.StdoutPipe()
	if err := s.Start("105 -- sh -c 'echo up; cat'"); err != nil {
		t.Fatal(err)
	}
	// The command runs in the container, then nothing happens.
	readUntil(t, stdout, "up")
	err = s.Wait()
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 255 {
		t.Errorf("run: %v, want exit 255", err)
	}
	if !strings.Contains(errOut.String(), "no activity") {
		t.Errorf("stderr %q", errOut.String())
	}
	if ends := env.audit.find(EventSessionEnd); len(ends) != 1 || ends[0].Reason != "idle timeout" {
		t.Errorf("end events %+v", ends)
	}
}

func TestGateway_SessionLimit(t *testing.T) {
	env := startGateway(t, func(c *Config, _ *Deps) { c.MaxSessionsPerUser = 2 })
	c := env.mustDial(t, "alice")
	var held []*ssh.Session
	for i := 0; i < 2; i++ {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stdin, _ := s.StdinPipe()
		defer stdin.Close()
		stdout, _ := s.StdoutPipe()
		if err := s.Start("105 -- sh -c 'echo up; cat'"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, stdout, "up")
		held = append(held, s)
	}
	wantRefused(t, c, 2)
	// Bob has his own allowance.
	if _, _, code := run(t, env.mustDial(t, "bob"), "205 -- true", ""); code != 0 {
		t.Errorf("bob: %d", code)
	}
	held[0].Close()
	held[0].Wait()
	// The slot frees once the gateway has torn the session down.
	deadline := time.Now().Add(waitLimit)
	for {
		s, err := c.NewSession()
		if err == nil {
			s.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot never freed: %v", err)
		}
		runtime.Gosched()
	}
}

// TestGateway_SessionLimitBeforeAccept: session channels count from the
// moment they are opened, before they ask for a shell or a command, so
// idle channels cannot pile up past the cap.
func TestGateway_SessionLimitBeforeAccept(t *testing.T) {
	env := startGateway(t, func(c *Config, _ *Deps) { c.MaxSessionsPerUser = 2 })
	c := env.mustDial(t, "alice")
	for range 2 {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	wantRefused(t, c, 2)
	// Another connection of the same user is held to the same cap.
	wantRefused(t, env.mustDial(t, "alice", ssh.PublicKeys(env.aliceKey)), 2)
	denied := env.audit.find(EventDenied)
	if len(denied) != 2 || denied[0].Reason != "session limit" || denied[0].UserID != "u-alice" {
		t.Fatalf("denied events %+v", denied)
	}
}

// wantRefused opens one more session channel and expects the gateway to
// refuse it, saying why.
func wantRefused(t *testing.T, c *ssh.Client, limit int) {
	t.Helper()
	s, err := c.NewSession()
	if err == nil {
		s.Close()
		t.Fatalf("a session past the limit of %d was accepted", limit)
	}
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.ResourceShortage || !strings.Contains(oce.Message, fmt.Sprintf("%d open sessions", limit)) {
		t.Fatalf("refusal: %v", err)
	}
}

func TestGateway_NoGoroutineLeak(t *testing.T) {
	env := startGateway(t, nil)
	// Warm up once so lazily started runtime goroutines are counted.
	c := env.mustDial(t, "alice")
	run(t, c, "105 -- true", "")
	c.Close()
	base := settledGoroutines(t, 0)

	for i := 0; i < 10; i++ {
		c, err := env.dial(t, "alice", ssh.Password("alice-pw"))
		if err != nil {
			t.Fatal(err)
		}
		run(t, c, "105 -- sh -c 'echo x; exit 2'", "")
		run(t, c, "ls", "")
		run(t, c, "205 -- true", "")
		// A session abandoned while its command runs.
		s, _ := c.NewSession()
		stdin, _ := s.StdinPipe()
		stdout, _ := s.StdoutPipe()
		s.Start("105 -- sh -c 'echo up; cat'")
		readUntil(t, stdout, "up")
		_ = stdin
		c.Close()
	}
	settledGoroutines(t, base)
}

// settledGoroutines waits until the goroutine count is at most want (any
// count when want is 0, once it stops changing) and returns it, failing
// after waitLimit.
func settledGoroutines(t *testing.T, want int) int {
	t.Helper()
	prev := -1
	deadline := time.After(waitLimit)
	for {
		n := runtime.NumGoroutine()
		if want > 0 && n <= want || want == 0 && n == prev {
			return n
		}
		prev = n
		select {
		case <-deadline:
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d, want <= %d\n%s", n, want, buf[:runtime.Stack(buf, true)])
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestGateway_HandshakeTimeout(t *testing.T) {
	env := startGateway(t, func(c *Config, _ *Deps) { c.HandshakeTimeout = timeoutHeadroom })
	t.Run("silent client", func(t *testing.T) {
		t.Parallel()
		conn, err := net.Dial("tcp", env.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The server sends its banner, then closes: ReadAll returns.
		b, _ := io.ReadAll(conn)
		if !strings.HasPrefix(string(b), "SSH-2.0-Corral") {
			t.Errorf("banner %q", b)
		}
	})
	t.Run("logged in without a session", func(t *testing.T) {
		t.Parallel()
		c := env.mustDial(t, "alice") // like ssh -N
		if err := c.Wait(); err == nil {
			t.Error("connection ended without error")
		}
	})
}
