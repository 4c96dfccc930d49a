package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/exec"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
)

// target is how Corral reaches n's host: root, password, pinned key.
func target(t testing.TB, n *pvesim.Node) exec.HostTarget {
	t.Helper()
	l := simtest.SSHLogin(t, n)
	return exec.HostTarget{Host: l.Host, Port: l.Port, User: l.User, Password: l.Password, HostKey: l.HostKey}
}

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	s, _ := simtest.NewKey(t)
	return s
}

// fakeUsers is an Authenticator over fixed users.
type fakeUsers map[string]fakeUser

type fakeUser struct {
	id, password string
	keys         []ssh.PublicKey
}

var errBadLogin = errors.New("bad login")

func (f fakeUsers) PasswordLogin(_ context.Context, user, password string, _ net.Addr) (UserRef, error) {
	u, ok := f[user]
	if !ok || u.password != password {
		return UserRef{}, errBadLogin
	}
	return UserRef{ID: u.id, Name: user}, nil
}

func (f fakeUsers) PublicKeyLogin(_ context.Context, user string, key ssh.PublicKey, _ net.Addr) (UserRef, error) {
	u, ok := f[user]
	if !ok {
		return UserRef{}, errBadLogin
	}
	for _, k := range u.keys {
		if string(k.Marshal()) == string(key.Marshal()) {
			return UserRef{ID: u.id, Name: user}, nil
		}
	}
	return UserRef{}, errBadLogin
}

// fakeDir maps user ids to their containers.
type fakeDir map[string][]Guest

func (d fakeDir) Containers(_ context.Context, userID string) ([]Guest, error) {
	return append([]Guest(nil), d[userID]...), nil
}

// recAudit records audit events.
type recAudit struct {
	mu     sync.Mutex
	events []Event
}

func (a *recAudit) Audit(_ context.Context, e Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *recAudit) find(kind string) []Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Event
	for _, e := range a.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// gwEnv is a running gateway in front of the simulator.
type gwEnv struct {
	sim          *pvesim.Sim
	srv          *Server
	addr         string
	audit        *recAudit
	aliceKey     ssh.Signer
	aliceKeyFile []byte // aliceKey as an OpenSSH private key file
	hostKey      ssh.PublicKey
}

// startGateway runs the gateway on 127.0.0.1:0 for alice (password
// "alice-pw" or aliceKey) and bob ("bob-pw"). tweak may change the config.
func startGateway(t testing.TB, tweak func(*Config, *Deps)) *gwEnv {
	t.Helper()
	sim := simtest.TwoHosts(t)
	pve1, pve2 := target(t, sim.Node("pve1")), target(t, sim.Node("pve2"))
	aliceKey, aliceKeyFile := simtest.NewKey(t)
	env := &gwEnv{sim: sim, audit: &recAudit{}, aliceKey: aliceKey, aliceKeyFile: aliceKeyFile}
	users := fakeUsers{
		"alice": {id: "u-alice", password: "alice-pw", keys: []ssh.PublicKey{env.aliceKey.PublicKey()}},
		"bob":   {id: "u-bob", password: "bob-pw"},
	}
	dir := fakeDir{
		"u-alice": {
			{VMID: 107, Name: "far", Node: "pve2", NodeID: "n2", Status: "running", Host: pve2},
			{VMID: 105, Name: "web", Node: "pve1", NodeID: "n1", Status: "running", Host: pve1},
			{VMID: 106, Name: "db", Node: "pve1", NodeID: "n1", Status: "stopped", Host: pve1},
		},
		"u-bob": {{VMID: 205, Name: "secret", Node: "pve1", NodeID: "n1b", Status: "running", Host: pve1}},
	}
	hostKey := newSigner(t)
	env.hostKey = hostKey.PublicKey()
	// A lost keystroke or message then ends the session (status 255) within
	// waitLimit instead of the default 15 minutes, so a test cannot hang.
	cfg := Config{HostKey: hostKey, Logger: slog.New(slog.DiscardHandler), IdleTimeout: waitLimit}
	deps := Deps{Auth: users, Directory: dir, Audit: env.audit}
	if tweak != nil {
		tweak(&cfg, &deps)
	}
	srv, err := NewServer(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env.srv, env.addr = srv, l.Addr().String()
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return env
}

// dial logs in to the gateway as user with the given auth methods and
// checks the gateway's host key.
func (e *gwEnv) dial(t testing.TB, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", e.addr, &ssh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: ssh.FixedHostKey(e.hostKey),
	})
}

func (e *gwEnv) mustDial(t testing.TB, user string, auth ...ssh.AuthMethod) *ssh.Client {
	t.Helper()
	if len(auth) == 0 {
		auth = []ssh.AuthMethod{ssh.Password(strings.SplitN(user, "+", 2)[0] + "-pw")}
	}
	c, err := e.dial(t, user, auth...)
	if err != nil {
		t.Fatalf("login as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run runs cmd in a new session without a PTY and returns its output and
// exit status.
func run(t testing.TB, c *ssh.Client, cmd, stdin string) (stdout, stderr string, code int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errOut strings.Builder
	s.Stdout, s.Stderr = &out, &errOut
	s.Stdin = strings.NewReader(stdin)
	code = exitCode(t, s.Run(cmd), &out, &errOut)
	return out.String(), errOut.String(), code
}

func exitCode(t testing.TB, err error, out, errOut *strings.Builder) int {
	t.Helper()
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		return exitErr.ExitStatus()
	default:
		t.Fatalf("run: %v (stdout %q, stderr %q)", err, out.String(), errOut.String())
		return -1
	}
}

// waitLimit bounds every wait for the other side. It guards against hangs
// (a lost keystroke would otherwise wait for the gateway's 15-minute idle
// timeout); it is not a speed expectation, so it is generous.
const waitLimit = time.Minute

// readUntil reads r until the output contains want, and returns it all. It
// fails the test with what arrived if want has not come within waitLimit.
func readUntil(t testing.TB, r io.Reader, want string) string {
	t.Helper()
	type chunk struct {
		b   []byte
		err error
	}
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	var b []byte
	for !strings.Contains(string(b), want) {
		// One read at a time, started only while we still want bytes, so
		// nothing is consumed after we return.
		ch := make(chan chunk, 1)
		go func() {
			buf := make([]byte, 4096)
			n, err := r.Read(buf)
			ch <- chunk{buf[:n], err}
		}()
		select {
		case c := <-ch:
			b = append(b, c.b...)
			if c.err != nil && !strings.Contains(string(b), want) {
				t.Fatalf("waiting for %q: %v; got %q", want, c.err, b)
			}
		case <-timer.C:
			t.Fatalf("waiting for %q: nothing after %v; got %q", want, waitLimit, b)
		}
	}
	return string(b)
}
