package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"corral/proxmox/pvesim/simtest"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

func TestFetchHostKey(t *testing.T) {
	sim := simtest.TwoHosts(t)
	node := sim.Node("pve1")
	tgt := target(t, node)

	t.Run("OK", func(t *testing.T) {
		info, err := FetchHostKey(t.Context(), tgt.Host, tgt.Port)
		if err != nil {
			t.Fatal(err)
		}
		if want := ssh.FingerprintSHA256(node.SSHHostKey()); info.Fingerprint != want || !strings.HasPrefix(want, "SHA256:") {
			t.Errorf("fingerprint %q, want %q", info.Fingerprint, want)
		}
		if info.KeyType != node.SSHHostKey().Type() {
			t.Errorf("key type %q", info.KeyType)
		}
		pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(info.AuthorizedKey))
		if err != nil || !gliderssh.KeysEqual(pinned, node.SSHHostKey()) {
			t.Errorf("authorized key %q does not parse to the host key (%v)", info.AuthorizedKey, err)
		}
	})
	t.Run("NoCredentialOffered", func(t *testing.T) {
		cap := startCapturingHost(t)
		info, err := FetchHostKey(t.Context(), "127.0.0.1", cap.port)
		if err != nil {
			t.Fatal(err)
		}
		if info.Fingerprint != ssh.FingerprintSHA256(cap.key) {
			t.Errorf("fingerprint %q", info.Fingerprint)
		}
		if got := cap.attempts(); len(got) != 0 {
			t.Errorf("FetchHostKey offered credentials: %v", got)
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close() // nothing listens there now
		if _, err := FetchHostKey(t.Context(), "127.0.0.1", port); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
	})
	t.Run("ErrUnreachable silent host", func(t *testing.T) {
		// Accepts TCP but never speaks SSH: the context must end it.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err == nil {
				io.Copy(io.Discard, c)
				c.Close()
			}
		}()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := FetchHostKey(ctx, "127.0.0.1", l.Addr().(*net.TCPAddr).Port); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
	})
}

func TestProbeHost(t *testing.T) {
	sim := simtest.TwoHosts(t)
	node := sim.Node("pve1")
	tgt := target(t, node)

	t.Run("OK", func(t *testing.T) {
		res, err := ProbeHost(t.Context(), tgt)
		if err != nil {
			t.Fatal(err)
		}
		if want := ssh.FingerprintSHA256(node.SSHHostKey()); res.Fingerprint != want {
			t.Errorf("fingerprint %q, want %q", res.Fingerprint, want)
		}
		if !strings.Contains(res.PctList, "105") || !strings.HasPrefix(res.PctList, "VMID") {
			t.Errorf("pct list output %q", res.PctList)
		}
	})
	t.Run("ErrNoHostKey", func(t *testing.T) {
		// Trust on first use with credentials is gone: the key comes from
		// FetchHostKey and the user's confirmation.
		cap := startCapturingHost(t)
		_, err := ProbeHost(t.Context(), HostTarget{Host: "127.0.0.1", Port: cap.port, User: "root", Password: "secret"})
		if !errors.Is(err, ErrNoHostKey) {
			t.Fatalf("err = %v, want ErrNoHostKey", err)
		}
		if got := cap.attempts(); len(got) != 0 {
			t.Errorf("an unpinned probe offered credentials: %v", got)
		}
	})
	t.Run("ErrAuthFailed", func(t *testing.T) {
		bad := tgt
		bad.Password = "wrong"
		_, err := ProbeHost(t.Context(), bad)
		if !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("err = %v, want ErrAuthFailed", err)
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().(*net.TCPAddr)
		l.Close() // nothing listens there now
		unreachable := tgt
		unreachable.Port = addr.Port
		if _, err = ProbeHost(t.Context(), unreachable); !errors.Is(err, ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
	})
	t.Run("ErrPctMissing", func(t *testing.T) {
		_, plain := startFakeNode(t, func(s gliderssh.Session) {
			fmt.Fprintf(s.Stderr(), "bash: line 1: %s: command not found\n", strings.Fields(s.RawCommand())[0])
			s.Exit(127)
		})
		_, err := ProbeHost(t.Context(), plain)
		if !errors.Is(err, ErrPctMissing) {
			t.Fatalf("err = %v, want ErrPctMissing", err)
		}
	})
	t.Run("ErrHostKeyChanged", func(t *testing.T) {
		cap := startCapturingHost(t)
		pinned := tgt
		pinned.Host, pinned.Port = "127.0.0.1", cap.port // an impostor where pve1's key is pinned
		if _, err := ProbeHost(t.Context(), pinned); !errors.Is(err, ErrHostKeyChanged) {
			t.Fatalf("err = %v, want ErrHostKeyChanged", err)
		}
		if got := cap.attempts(); len(got) != 0 {
			t.Errorf("the impostor received credentials: %v", got)
		}
	})
}

// capturingHost is an SSH server on loopback that records every
// authentication attempt (password, public key, keyboard-interactive) and
// accepts none.
type capturingHost struct {
	port int
	key  ssh.PublicKey
	mu   sync.Mutex
	seen []string
}

func (c *capturingHost) record(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, what)
}

func (c *capturingHost) attempts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func startCapturingHost(t *testing.T) *capturingHost {
	t.Helper()
	signer := newSigner(t)
	c := &capturingHost{key: signer.PublicKey()}
	srv := &gliderssh.Server{
		HostSigners: []gliderssh.Signer{signer},
		Handler:     func(gliderssh.Session) {},
		PasswordHandler: func(ctx gliderssh.Context, pw string) bool {
			c.record("password " + ctx.User() + " " + pw)
			return false
		},
		PublicKeyHandler: func(ctx gliderssh.Context, key gliderssh.PublicKey) bool {
			c.record("publickey " + ctx.User() + " " + ssh.FingerprintSHA256(key))
			return false
		},
		KeyboardInteractiveHandler: func(ctx gliderssh.Context, ask ssh.KeyboardInteractiveChallenge) bool {
			answers, _ := ask("", "", []string{"Password: "}, []bool{false})
			c.record("keyboard-interactive " + ctx.User() + " " + strings.Join(answers, " "))
			return false
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	// Closing the listener too: Close alone misses a Serve not yet started.
	t.Cleanup(func() { srv.Close(); l.Close(); <-done })
	c.port = l.Addr().(*net.TCPAddr).Port
	return c
}

func TestDial_HostKeyChanged(t *testing.T) {
	sim := simtest.TwoHosts(t)
	node := sim.Node("pve1")
	tgt := target(t, node)
	old := ssh.FingerprintSHA256(node.SSHHostKey())
	if err := node.RotateHostKey(); err != nil {
		t.Fatal(err)
	}
	_, err := Dial(t.Context(), tgt)
	var changed *HostKeyChangedError
	if !errors.As(err, &changed) || !errors.Is(err, ErrHostKeyChanged) {
		t.Fatalf("err = %v, want *HostKeyChangedError", err)
	}
	if changed.Pinned != old || changed.Got != ssh.FingerprintSHA256(node.SSHHostKey()) {
		t.Errorf("fingerprints pinned %s got %s", changed.Pinned, changed.Got)
	}
	// Re-pinned, the same host is accepted.
	tgt.HostKey = string(ssh.MarshalAuthorizedKey(node.SSHHostKey()))
	h, err := Dial(t.Context(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()

	tgt.HostKey = ""
	if _, err := Dial(t.Context(), tgt); !errors.Is(err, ErrNoHostKey) {
		t.Errorf("unpinned dial: err = %v, want ErrNoHostKey", err)
	}
}

func TestDial_NoCredentialsSentToChangedHost(t *testing.T) {
	var attempts atomic.Int32
	signer := newSigner(t)
	srv := &gliderssh.Server{
		HostSigners:     []gliderssh.Signer{signer},
		Handler:         func(gliderssh.Session) {},
		PasswordHandler: func(gliderssh.Context, string) bool { attempts.Add(1); return true },
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	defer func() { srv.Close(); <-done }()
	port := l.Addr().(*net.TCPAddr).Port
	other := string(ssh.MarshalAuthorizedKey(newSigner(t).PublicKey()))
	_, err = Dial(t.Context(), HostTarget{Host: "127.0.0.1", Port: port, User: "root", Password: "secret", HostKey: other})
	if !errors.Is(err, ErrHostKeyChanged) {
		t.Fatalf("err = %v", err)
	}
	if n := attempts.Load(); n != 0 {
		t.Errorf("%d password attempts reached the impostor", n)
	}
}

func TestHost_Pct(t *testing.T) {
	sim := simtest.TwoHosts(t)
	h, err := Dial(t.Context(), target(t, sim.Node("pve1")))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	t.Run("exit status and streams", func(t *testing.T) {
		var out, errOut strings.Builder
		code, err := h.Pct(t.Context(), PctRequest{VMID: 105,
			Argv:   []string{"/bin/sh", "-c", "echo out; echo err >&2; exit 3"},
			Stdout: &out, Stderr: &errOut})
		if err != nil || code != 3 || out.String() != "out\n" || errOut.String() != "err\n" {
			t.Errorf("got %d, %v, %q, %q", code, err, out.String(), errOut.String())
		}
	})
	t.Run("arguments arrive intact", func(t *testing.T) {
		var out strings.Builder
		arg := `it's "$HOME" ; $(id) *`
		code, err := h.Pct(t.Context(), PctRequest{VMID: 105, Argv: []string{"echo", arg}, Stdout: &out})
		if err != nil || code != 0 || out.String() != arg+"\n" {
			t.Errorf("got %d, %v, %q", code, err, out.String())
		}
	})
	t.Run("stdin EOF", func(t *testing.T) {
		var out strings.Builder
		code, err := h.Pct(t.Context(), PctRequest{VMID: 105, Argv: []string{"cat"},
			Stdin: strings.NewReader("hello\nworld\n"), Stdout: &out})
		if err != nil || code != 0 || out.String() != "hello\nworld\n" {
			t.Errorf("got %d, %v, %q", code, err, out.String())
		}
	})
	t.Run("stopped container", func(t *testing.T) {
		var errOut strings.Builder
		code, err := h.Pct(t.Context(), PctRequest{VMID: 106, Argv: []string{"true"}, Stderr: &errOut})
		if err != nil || code != 255 || !strings.Contains(errOut.String(), "not running") {
			t.Errorf("got %d, %v, %q", code, err, errOut.String())
		}
	})
	t.Run("TERM with a pty", func(t *testing.T) {
		var out strings.Builder
		code, err := h.Pct(t.Context(), PctRequest{VMID: 105, Argv: []string{"/bin/sh", "-c", "echo $TERM"},
			Stdout: &out, Pty: &PtyRequest{Term: "xterm-test", Cols: 100, Rows: 30}})
		if err != nil || code != 0 || out.String() != "xterm-test\r\n" {
			t.Errorf("got %d, %v, %q", code, err, out.String())
		}
	})
	t.Run("signal", func(t *testing.T) {
		sigs := make(chan string, 1)
		pr, pw := io.Pipe()
		defer pw.Close()
		sigs <- "KILL"
		code, err := h.Pct(t.Context(), PctRequest{VMID: 105, Argv: []string{"cat"}, Stdin: pr, Signals: sigs})
		var sigErr *SignalError
		if !errors.As(err, &sigErr) || sigErr.Signal != "KILL" || code != 137 {
			t.Errorf("got %d, %v; want 137 and SIGKILL", code, err)
		}
	})
	t.Run("ctx cancel closes the session", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		pr, pw := io.Pipe()
		defer pw.Close()
		var out simtest.Buffer
		done := make(chan error, 1)
		go func() {
			_, err := h.Pct(ctx, PctRequest{VMID: 105, Argv: []string{"/bin/sh", "-c", "echo ready; cat"}, Stdin: pr, Stdout: &out})
			done <- err
		}()
		out.WaitFor(t, "ready")
		cancel()
		if err := receive(t, done, "Pct to return"); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		for _, req := range []PctRequest{{VMID: 42, Argv: []string{"true"}}, {VMID: 105}, {VMID: 105, Argv: []string{"a\x00"}}} {
			if _, err := h.Pct(t.Context(), req); !errors.Is(err, ErrBadArgument) {
				t.Errorf("%+v: err = %v", req, err)
			}
		}
	})
	t.Run("Run", func(t *testing.T) {
		var out strings.Builder
		code, err := h.Run(t.Context(), PctList, &out, nil)
		if err != nil || code != 0 || !strings.Contains(out.String(), "web") {
			t.Errorf("got %d, %v, %q", code, err, out.String())
		}
	})
}

// TestHost_PtyWindow checks the size, TERM and window changes as the host
// sees them, on a fake host that reports its pty.
func TestHost_PtyWindow(t *testing.T) {
	node, tgt := startFakeNode(t, simtest.ReportPty)
	h, err := Dial(t.Context(), tgt)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	resize := make(chan Window, 1)
	var out simtest.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := h.Pct(t.Context(), PctRequest{VMID: 105, Enter: true, Stdout: &out,
			Pty: &PtyRequest{Term: "vt100", Cols: 120, Rows: 40}, Resize: resize})
		done <- err
	}()
	out.WaitFor(t, "size=120x40\r\n") // gliderlabs adds CRs with a pty
	resize <- Window{Cols: 132, Rows: 50}
	if err := receive(t, done, "Pct to return"); err != nil {
		t.Fatal(err)
	}
	if want := "term=vt100\r\nsize=120x40\r\nsize=132x50\r\n"; out.String() != want {
		t.Errorf("host saw %q, want %q", out.String(), want)
	}
	if got := node.Commands(); len(got) != 1 || got[0] != "pct enter 105" {
		t.Errorf("commands %q", got)
	}
}

func TestHostTargetAddr(t *testing.T) {
	if got := (HostTarget{Host: "::1"}).Addr(); got != "[::1]:22" {
		t.Errorf("got %s", got)
	}
	if got := (HostTarget{Host: "h", Port: 2200}).Addr(); got != "h:"+strconv.Itoa(2200) {
		t.Errorf("got %s", got)
	}
}
