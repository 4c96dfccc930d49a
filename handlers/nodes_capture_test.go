package handlers_test

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	gssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"corral/proxmox"
	"corral/proxmox/pvesim/simtest"
)

// captureTLS is an HTTPS listener on loopback standing in for an impostor:
// it records every request that reaches it, with its Authorization header,
// and refuses it as Proxmox refuses a bad token.
type captureTLS struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string
}

func startCaptureTLS(t *testing.T) *captureTLS {
	t.Helper()
	c := &captureTLS{}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.seen = append(c.seen, r.Method+" "+r.URL.Path+" Authorization="+r.Header.Get("Authorization"))
		c.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	// A scan's handshake-only connection is logged as an error otherwise.
	c.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	c.srv.StartTLS()
	t.Cleanup(c.srv.Close)
	return c
}

func (c *captureTLS) addr() string { return c.srv.Listener.Addr().String() }
func (c *captureTLS) port() string { return portOf(c.addr()) }
func (c *captureTLS) fingerprint() string {
	return proxmox.Fingerprint(c.srv.Certificate().Raw)
}

// requests are what reached the listener, "METHOD /path Authorization=…".
func (c *captureTLS) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// captureSSH is an SSH server on loopback standing in for an impostor (or a
// logging SSH server): it records every authentication attempt, password,
// public key or keyboard-interactive, and accepts none.
type captureSSH struct {
	key  ssh.PublicKey
	ln   net.Listener
	mu   sync.Mutex
	seen []string
}

func startCaptureSSH(t *testing.T) *captureSSH {
	t.Helper()
	signer := newHostSigner(t)
	c := &captureSSH{key: signer.PublicKey()}
	srv := &gssh.Server{
		Handler: func(gssh.Session) {},
		PasswordHandler: func(ctx gssh.Context, pw string) bool {
			c.record("password " + ctx.User() + " " + pw)
			return false
		},
		PublicKeyHandler: func(ctx gssh.Context, key gssh.PublicKey) bool {
			c.record("publickey " + ctx.User() + " " + ssh.FingerprintSHA256(key))
			return false
		},
		KeyboardInteractiveHandler: func(ctx gssh.Context, ask ssh.KeyboardInteractiveChallenge) bool {
			answers, _ := ask("", "", []string{"Password: "}, []bool{false})
			c.record("keyboard-interactive " + ctx.User() + " " + strings.Join(answers, " "))
			return false
		},
	}
	srv.AddHostKey(signer)
	var err error
	c.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(c.ln) }()
	// Closing the listener too: Close alone misses a Serve not yet started.
	t.Cleanup(func() { srv.Close(); c.ln.Close(); <-done })
	return c
}

// newHostSigner is a fresh ed25519 host key for a test SSH server.
func newHostSigner(t *testing.T) ssh.Signer {
	t.Helper()
	signer, _ := simtest.NewKey(t)
	return signer
}

func (c *captureSSH) record(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, what)
}

func (c *captureSSH) addr() string { return c.ln.Addr().String() }
func (c *captureSSH) port() string { return portOf(c.addr()) }

// attempts are the authentication attempts that reached the server.
func (c *captureSSH) attempts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// relay forwards loopback TCP connections to a target that a test can
// switch, so one address can first be the real node and then an impostor
// presenting another certificate or host key.
type relay struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  map[net.Conn]struct{}
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err == nil {
				go r.forward(c)
			}
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done; r.closeAll() })
	return r
}

func (r *relay) port() string { return portOf(r.ln.Addr().String()) }

// switchTo sends new connections to target and cuts the open ones.
func (r *relay) switchTo(target string) {
	r.mu.Lock()
	r.target = target
	r.mu.Unlock()
	r.closeAll()
}

func (r *relay) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
	clear(r.conns)
}

func (r *relay) forward(in net.Conn) {
	r.mu.Lock()
	target := r.target
	r.mu.Unlock()
	out, err := net.Dial("tcp", target)
	if err != nil {
		in.Close()
		return
	}
	r.mu.Lock()
	r.conns[in], r.conns[out] = struct{}{}, struct{}{}
	r.mu.Unlock()
	go func() { io.Copy(out, in); out.Close() }()
	io.Copy(in, out)
	in.Close()
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		panic(err)
	}
	return p
}
