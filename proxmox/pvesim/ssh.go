package pvesim

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
	"mvdan.cc/sh/v3/shell"
)

// sshAuth is who may log in as root on a node.
type sshAuth struct {
	password string
	mu       sync.Mutex
	keys     []ssh.PublicKey
}

func (a *sshAuth) keyAllowed(k ssh.PublicKey) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.ContainsFunc(a.keys, func(o ssh.PublicKey) bool { return gliderssh.KeysEqual(o, k) })
}

// AuthorizeKey lets key log in as root on this node.
func (n *Node) AuthorizeKey(key ssh.PublicKey) {
	n.sshAuth.mu.Lock()
	defer n.sshAuth.mu.Unlock()
	n.sshAuth.keys = append(n.sshAuth.keys, key)
}

// AuthorizeKey lets key log in as root on every node.
func (s *Sim) AuthorizeKey(key ssh.PublicKey) {
	for _, name := range s.Nodes() {
		s.Node(name).AuthorizeKey(key)
	}
}

func newHostKey() (ssh.Signer, ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pvesim: host key: %w", err)
	}
	signer, err := hostSigner(priv)
	return signer, priv, err
}

// startSSH starts the node's sshd: root only, password or key, no
// forwarding. A nil key means a new one, port 0 (or a taken one) a free
// port.
func (n *Node) startSSH(key ed25519.PrivateKey, port int) error {
	var signer ssh.Signer
	var err error
	if key == nil {
		signer, key, err = newHostKey()
	} else {
		signer, err = hostSigner(key)
	}
	if err != nil {
		return err
	}
	n.hostKey.Store(&signer)
	n.hostPriv.Store(&key)
	n.sshAuth.password = n.sim.opts.RootPassword
	n.sshAuth.keys = slices.Clone(n.sim.opts.AuthorizedKeys)
	n.sshSrv = &gliderssh.Server{
		Version:     "OpenSSH_9.2p1 Debian-2+deb12u7",
		Handler:     n.handleSSH,
		HostSigners: []gliderssh.Signer{signer},
		PasswordHandler: func(ctx gliderssh.Context, pw string) bool {
			return ctx.User() == "root" && subtle.ConstantTimeCompare([]byte(pw), []byte(n.sshAuth.password)) == 1
		},
		PublicKeyHandler: func(ctx gliderssh.Context, key gliderssh.PublicKey) bool {
			return ctx.User() == "root" && n.sshAuth.keyAllowed(key)
		},
		SessionRequestCallback: capturePty,
	}
	ln, err := listenFirst(n.ip, port)
	if err != nil {
		return fmt.Errorf("pvesim: node %s ssh listen: %w", n.name, err)
	}
	n.sshLn = ln
	go func() {
		if err := n.sshSrv.Serve(ln); err != nil && !errors.Is(err, gliderssh.ErrServerClosed) {
			n.sim.log.Debug("ssh serve ended", "node", n.name, "err", err)
		}
	}()
	return nil
}

// ptyKey holds the session's PTY as it was when the command started.
type ptyKey struct{}

type ptyInfo struct {
	req   gliderssh.Pty
	winCh <-chan gliderssh.Window
	ok    bool
}

// capturePty reads the PTY request in gliderlabs' request goroutine, before
// the handler starts: calling Session.Pty from the handler races with a
// window-change arriving at the same time (gliderlabs writes pty.Window
// without a lock).
func capturePty(s gliderssh.Session, _ string) bool {
	req, winCh, ok := s.Pty()
	s.Context().SetValue(ptyKey{}, ptyInfo{req: req, winCh: winCh, ok: ok})
	return true
}

// signalCause ends a command because the client sent a signal request.
type signalCause struct{ sig gliderssh.Signal }

func (c signalCause) Error() string { return "signal " + string(c.sig) }

// Is makes SIGINT look like errInterrupt, so the guest reports 130.
func (c signalCause) Is(target error) bool {
	return c.sig == gliderssh.SIGINT && target == errInterrupt
}

// signalNumbers are the Linux numbers of the signals SSH can name.
var signalNumbers = map[gliderssh.Signal]int{
	gliderssh.SIGHUP: 1, gliderssh.SIGINT: 2, gliderssh.SIGQUIT: 3, gliderssh.SIGKILL: 9,
	gliderssh.SIGUSR1: 10, gliderssh.SIGUSR2: 12, gliderssh.SIGPIPE: 13, gliderssh.SIGALRM: 14, gliderssh.SIGTERM: 15,
}

// handleSSH runs one exec request the way root's login shell on a PVE node
// would: split into words, then `pct` or "command not found".
func (n *Node) handleSSH(s gliderssh.Session) {
	n.sessions.add(1)
	defer n.sessions.add(-1)
	ctx, cancel := context.WithCancelCause(s.Context())
	defer cancel(nil)

	var (
		sigMu sync.Mutex
		got   gliderssh.Signal
	)
	sigs := make(chan gliderssh.Signal, 4)
	s.Signals(sigs)
	go func() {
		select {
		case sig := <-sigs:
			sigMu.Lock()
			got = sig
			sigMu.Unlock()
			cancel(signalCause{sig})
		case <-ctx.Done():
		}
	}()

	pio := pctIO{stdin: s, stdout: s, stderr: s.Stderr()}
	if pt, _ := s.Context().Value(ptyKey{}).(ptyInfo); pt.ok {
		ptyReq, winCh := pt.req, pt.winCh
		pio.stderr = s // a terminal merges both streams
		resize := make(chan [2]int, 1)
		pio.tty = &boxTty{Term: ptyReq.Term, Cols: ptyReq.Window.Width, Rows: ptyReq.Window.Height, Resize: resize}
		go forwardWindows(ctx, winCh, resize)
	}

	code := n.runCommand(ctx, s.RawCommand(), pio)

	sigMu.Lock()
	sig := got
	sigMu.Unlock()
	if sig == gliderssh.SIGKILL {
		// lxc-attach cannot catch KILL: sshd reports the signal itself.
		sendExitSignal(s, "KILL")
		return
	}
	if num, ok := signalNumbers[sig]; ok && code == 137 && sig != gliderssh.SIGINT {
		code = 128 + num
	}
	_ = s.Exit(code)
}

// forwardWindows passes window-change requests to the guest, newest first.
func forwardWindows(ctx context.Context, in <-chan gliderssh.Window, out chan [2]int) {
	for {
		select {
		case w, ok := <-in:
			if !ok {
				return
			}
			size := [2]int{w.Width, w.Height}
			select {
			case out <- size:
			default:
				select { // replace a stale size nobody read yet
				case <-out:
				default:
				}
				out <- size
			}
		case <-ctx.Done():
			return
		}
	}
}

func sendExitSignal(s gliderssh.Session, sig string) {
	payload := ssh.Marshal(struct {
		Signal     string
		CoreDumped bool
		Error      string
		Lang       string
	}{Signal: sig})
	_, _ = s.SendRequest("exit-signal", false, payload)
	_ = s.Close()
}

// runCommand interprets the SSH command line on the "host".
func (n *Node) runCommand(ctx context.Context, raw string, pio pctIO) int {
	if strings.TrimSpace(raw) == "" {
		fmt.Fprintln(pio.stderr, "pvesim: this simulated host has no interactive shell; run pct commands")
		return 1
	}
	argv, err := shell.Fields(raw, func(string) string { return "" })
	if err != nil {
		fmt.Fprintf(pio.stderr, "bash: -c: line 1: syntax error: %v\n", err)
		return 2
	}
	if len(argv) > 0 && argv[0] == "sudo" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return 0
	}
	if argv[0] != "pct" && argv[0] != "/usr/sbin/pct" {
		fmt.Fprintf(pio.stderr, "bash: %s: command not found\n", argv[0])
		return 127
	}
	return n.pct(ctx, pio, argv[1:])
}
