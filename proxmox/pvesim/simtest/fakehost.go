package simtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// FakeHost is a minimal SSH host on 127.0.0.1:0 whose handler plays the
// Proxmox side, for what the simulator cannot show (window sizes as the
// host sees them, a host without pct). It records every exec command it
// gets. Handlers get a session whose Pty is race-free (see ptySession).
type FakeHost struct {
	Login // root with the password FakeHostPassword

	mu       sync.Mutex
	commands []string
	ptys     map[gliderssh.Session]ptySession
}

// FakeHostPassword is root's password on every FakeHost.
const FakeHostPassword = "node-pw"

// ptySession answers Pty with what the session had when its command
// started. gliderlabs' own Pty reads fields its request goroutine writes on
// every window-change, without a lock, so calling it from the handler
// races; the capture happens in SessionRequestCallback, which runs on that
// request goroutine before the handler starts.
type ptySession struct {
	gliderssh.Session
	pty   gliderssh.Pty
	winCh <-chan gliderssh.Window
	ok    bool
}

func (s ptySession) Pty() (gliderssh.Pty, <-chan gliderssh.Window, bool) { return s.pty, s.winCh, s.ok }

// StartFakeHost serves handler on a new host until the test ends.
func StartFakeHost(t testing.TB, handler gliderssh.Handler) *FakeHost {
	t.Helper()
	signer, _ := NewKey(t)
	f := &FakeHost{ptys: map[gliderssh.Session]ptySession{}}
	srv := &gliderssh.Server{
		HostSigners:            []gliderssh.Signer{signer},
		SessionRequestCallback: f.capturePty,
		Handler: func(s gliderssh.Session) {
			ps := f.session(s)
			f.mu.Lock()
			f.commands = append(f.commands, s.RawCommand())
			f.mu.Unlock()
			handler(ps)
		},
		PasswordHandler: func(ctx gliderssh.Context, pw string) bool {
			return ctx.User() == "root" && pw == FakeHostPassword
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); !errors.Is(err, gliderssh.ErrServerClosed) {
			t.Errorf("fake host: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	f.Login = login(t, l.Addr().String(), "root", FakeHostPassword, signer.PublicKey())
	return f
}

// Commands are the exec commands the host got, in order.
func (f *FakeHost) Commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.commands...)
}

func (f *FakeHost) capturePty(s gliderssh.Session, _ string) bool {
	pty, winCh, ok := s.Pty()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ptys[s] = ptySession{Session: s, pty: pty, winCh: winCh, ok: ok}
	return true
}

// session takes the captured view of s out of the map.
func (f *FakeHost) session(s gliderssh.Session) ptySession {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps, ok := f.ptys[s]
	if !ok {
		panic("fake host: session started without SessionRequestCallback")
	}
	delete(f.ptys, s)
	return ps
}

// NewKey returns a new ed25519 key and its OpenSSH private key file.
func NewKey(t testing.TB) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return s, pem.EncodeToMemory(block)
}

// ReportPty is a FakeHost handler that prints the pty it got and every
// window size, and ends after a resize to 132 columns.
func ReportPty(s gliderssh.Session) {
	pty, winCh, ok := s.Pty()
	if !ok {
		fmt.Fprintln(s, "no pty")
		s.Exit(1)
		return
	}
	fmt.Fprintf(s, "term=%s\n", pty.Term)
	for w := range winCh {
		fmt.Fprintf(s, "size=%dx%d\n", w.Width, w.Height)
		if w.Width == 132 {
			s.Exit(0)
			return
		}
	}
}
