package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/exec/access"
	"corral/exec/gateway"
)

// The SSH gateway's side of the isolation net: B, with his password and
// with his key, names A's containers every way the gateway takes a target.
// Each is refused exactly as a container nobody has, and no command reaches
// A's containers.

// isoGateway is the real gateway on the estate's store and handler, wired
// as serve wires it, with the directory's answers to B recorded.
type isoGateway struct {
	addr    string
	hostKey ssh.PublicKey
	dir     *isoRecordingDirectory
}

func (est *isoEstate) startGateway(t *testing.T) *isoGateway {
	t.Helper()
	signer := throttleKey(t)
	gw := &isoGateway{hostKey: signer.PublicKey(), dir: &isoRecordingDirectory{Directory: access.Directory{Nodes: est.srv.DB, Clusters: est.h.Clusters}, seen: map[int]string{}}}
	srv, err := gateway.NewServer(gateway.Config{HostKey: signer, Logger: slog.New(slog.DiscardHandler),
		// A lost keystroke ends the session instead of hanging the test.
		IdleTimeout: time.Minute,
	}, gateway.Deps{
		Auth:      access.GatewayAuth{Accounts: est.srv.DB},
		Directory: gw.dir,
		Audit:     access.GatewayAuditor{Log: est.srv.DB, Keys: est.srv.DB},
		Limiter:   access.GatewayLimiter{L: est.limiter},
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw.addr = l.Addr().String()
	served := make(chan struct{})
	go func() { defer close(served); srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-served })
	return gw
}

// isoRecordingDirectory notes every container the directory offered.
type isoRecordingDirectory struct {
	gateway.Directory
	mu   sync.Mutex
	seen map[int]string // VMID → node id
}

func (d *isoRecordingDirectory) Containers(ctx context.Context, userID string) ([]gateway.Guest, error) {
	gs, err := d.Directory.Containers(ctx, userID)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, g := range gs {
		d.seen[g.VMID] = g.NodeID
	}
	return gs, err
}

func (gw *isoGateway) dial(user string, auth ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", gw.addr, &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{auth}, HostKeyCallback: ssh.FixedHostKey(gw.hostKey), Timeout: time.Minute,
	})
}

// isoSSHAnswer is what one session got: its output and exit status.
type isoSSHAnswer struct {
	out  string
	code int
}

// session runs one session as user: command (none for a shell or the
// menu), with a PTY when pty is set, typing stdin.
func (gw *isoGateway) session(t *testing.T, user string, auth ssh.AuthMethod, command string, pty bool, stdin string) isoSSHAnswer {
	t.Helper()
	c, err := gw.dial(user, auth)
	if err != nil {
		t.Fatalf("ssh %s: %v", user, err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out strings.Builder
	s.Stdout, s.Stderr = &out, &out
	s.Stdin = strings.NewReader(stdin)
	if pty {
		if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
	}
	if command == "" {
		err = s.Shell()
	} else {
		err = s.Start(command)
	}
	if err != nil {
		t.Fatal(err)
	}
	err = s.Wait()
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return isoSSHAnswer{out.String(), 0}
	case errors.As(err, &exitErr):
		return isoSSHAnswer{out.String(), exitErr.ExitStatus()}
	}
	t.Fatalf("ssh %s %q: %v\n%s", user, command, err, out.String())
	return isoSSHAnswer{}
}

// isoSSHEntry is one way of naming a target at the gateway.
type isoSSHEntry struct {
	name    string
	login   string // user name; {t} is the target
	command string // {t} is the target
	pty     bool
	stdin   string // typed into the session; {t} is the target
}

// isoSSHEntries are the gateway's doors that take a target. A new way of
// naming a container (a subsystem, a new command form) belongs here.
var isoSSHEntries = []isoSSHEntry{
	{name: "target in the login, shell", login: "bob+{t}", pty: true},
	{name: "target in the login, command", login: "bob+{t}", command: "touch " + isoMarkerFile},
	{name: "target as the command, shell", login: "bob", command: "{t}", pty: true},
	{name: "target -- command", login: "bob", command: "{t} -- touch " + isoMarkerFile},
	{name: "target then command", login: "bob", command: "{t} touch " + isoMarkerFile},
	// The menu takes the answer, refuses it, asks again; Ctrl-D leaves.
	{name: "menu choice", login: "bob", pty: true, stdin: "{t}\r\x04"},
}

func (e isoSSHEntry) fill(target string) (login, command, stdin string) {
	r := strings.NewReplacer("{t}", target)
	return r.Replace(e.login), r.Replace(e.command), r.Replace(e.stdin)
}

// TestIsolationGateway walks the gateway's entry points as B.
func TestIsolationGateway(t *testing.T) {
	est := newIsoEstate(t)
	gw := est.startGateway(t)
	before := est.snapshot(t)
	auths := map[string]ssh.AuthMethod{"password": ssh.Password(isoBobPass), "key": ssh.PublicKeys(est.bKeySigner)}

	// Control: the entry points work for B's own container, so a refusal
	// below is about whose container it is.
	est.trip.arm(true)
	a := gw.session(t, "bob", auths["key"], fmt.Sprintf("%d -- touch %s", isoVMIDBob, isoMarkerFile), false, "")
	if a.code != 0 {
		t.Fatalf("B's command in his own CT %d: status %d\n%s", isoVMIDBob, a.code, a.out)
	}
	if _, err := os.Stat(filepath.Join(est.simB.Node("bravo-pve").ContainerDir(isoVMIDBob), isoMarkerFile)); err != nil {
		t.Fatalf("B's command did not run in his own container: %v", err)
	}

	// Every target with B's key; the first VMID and name with his password
	// too (a password login costs a slow hash, and the gateway resolves the
	// target the same way after either).
	var targets []string
	for _, ct := range est.aCTs {
		targets = append(targets, strconv.Itoa(ct.VMID), ct.Name)
	}
	for _, e := range isoSSHEntries {
		t.Run(e.name, func(t *testing.T) {
			controls := map[string]isoSSHAnswer{}
			for i, target := range targets {
				unknown := "735791"
				if _, err := strconv.Atoi(target); err != nil {
					unknown = "bravo-nothing"
				}
				for how, auth := range auths {
					if how == "password" && i >= 2 {
						continue
					}
					got := gw.sshAsB(t, est, e, auth, target)
					ctl, ok := controls[how+unknown]
					if !ok {
						ctl = gw.sshAsB(t, est, e, auth, unknown)
						controls[how+unknown] = ctl
					}
					gotOut := strings.ReplaceAll(got.out, target, "{t}")
					ctlOut := strings.ReplaceAll(ctl.out, unknown, "{t}")
					if got.code != ctl.code || gotOut != ctlOut {
						t.Errorf("%s as B (%s) with A's %s: status %d %q; with a target nobody has: status %d %q",
							e.name, how, target, got.code, got.out, ctl.code, ctl.out)
					}
					if !strings.Contains(got.out, "no such container among yours") {
						t.Errorf("%s as B (%s) with A's %s: %q", e.name, how, target, got.out)
					}
				}
			}
		})
	}
	for how, auth := range auths {
		a := gw.sshAsB(t, est, isoSSHEntry{login: "bob", command: "ls"}, auth, "")
		if a.code != 0 || !strings.Contains(a.out, "bravo-box") {
			t.Errorf("ls as B (%s): status %d\n%s", how, a.code, a.out)
		}
	}

	// Doors without a target: none leads to A's nodes.
	c, err := gw.dial("bob", auths["key"])
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range est.aNodes {
		for _, addr := range []string{net.JoinHostPort(n.Host, strconv.Itoa(n.Port)), net.JoinHostPort(n.Host, strconv.Itoa(n.SSHPort))} {
			if conn, err := c.Dial("tcp", addr); err == nil {
				conn.Close()
				t.Errorf("B forwarded a connection through the gateway to A's %s at %s", n.Name, addr)
			}
		}
	}
	if s, err := c.NewSession(); err == nil {
		if err := s.RequestSubsystem("sftp"); err == nil {
			t.Error("the gateway opened an sftp subsystem for B")
		}
		s.Close()
	}
	c.Close()

	// B's credentials do not open A's account, whatever target rides along.
	for _, login := range []string{"alice", fmt.Sprintf("alice+%d", isoVMIDWeb)} {
		for how, auth := range auths {
			if c, err := gw.dial(login, auth); err == nil {
				c.Close()
				t.Errorf("B's %s opened the gateway as %s", how, login)
			}
		}
	}

	est.trip.arm(false)
	for _, hit := range est.trip.take() {
		t.Errorf("the gateway reached A's estate for B: %s", hit)
	}
	gw.dir.mu.Lock()
	for vmid, node := range gw.dir.seen {
		if vmid != isoVMIDBob || node != est.bNode.ID {
			t.Errorf("the directory offered B CT %d on node %s", vmid, node)
		}
	}
	gw.dir.mu.Unlock()
	for _, ct := range est.aCTs {
		if _, err := os.Stat(filepath.Join(est.simA.Node(ct.PVE).ContainerDir(ct.VMID), isoMarkerFile)); err == nil {
			t.Errorf("B's command ran in A's CT %d", ct.VMID)
		}
	}
	est.simA.WaitTasks()
	est.snapshot(t).sameAs(t, before)
}

// sshAsB runs entry e with target as B and checks the output for A's data.
func (gw *isoGateway) sshAsB(t *testing.T, est *isoEstate, e isoSSHEntry, auth ssh.AuthMethod, target string) isoSSHAnswer {
	t.Helper()
	login, command, stdin := e.fill(target)
	a := gw.session(t, login, auth, command, e.pty, stdin)
	for _, s := range est.sentinels() {
		// The target B typed comes back in the refusal; anything else of A's may not.
		if strings.Contains(strings.ReplaceAll(a.out, target, ""), s) {
			t.Errorf("ssh %s %q: the answer shows A's %q:\n%s", login, command, s, a.out)
		}
	}
	return a
}
