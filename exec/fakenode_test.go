package exec

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// fakeNode is a minimal SSH host on 127.0.0.1:0 whose handler plays the
// Proxmox side, for what the simulator cannot show (window sizes as the host
// sees them, a host without pct). It records every exec command it gets.
type fakeNode struct {
	mu       sync.Mutex
	commands []string
}

func (f *fakeNode) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.commands...)
}

func startFakeNode(t testing.TB, handler gliderssh.Handler) (*fakeNode, HostTarget) {
	t.Helper()
	f := &fakeNode{}
	signer := newSigner(t)
	srv := &gliderssh.Server{
		HostSigners: []gliderssh.Signer{signer},
		Handler: func(s gliderssh.Session) {
			f.mu.Lock()
			f.commands = append(f.commands, s.RawCommand())
			f.mu.Unlock()
			handler(s)
		},
		PasswordHandler: func(ctx gliderssh.Context, pw string) bool { return ctx.User() == "root" && pw == "node-pw" },
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); !errors.Is(err, gliderssh.ErrServerClosed) {
			t.Errorf("fake node: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	host, port, _ := net.SplitHostPort(l.Addr().String())
	p, _ := strconv.Atoi(port)
	return f, HostTarget{Host: host, Port: p, User: "root", Password: "node-pw",
		HostKey: string(ssh.MarshalAuthorizedKey(signer.PublicKey()))}
}

// reportPty is a fake host command that prints the pty it got and every
// window size, and ends after a resize to 132 columns.
func reportPty(s gliderssh.Session) {
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
