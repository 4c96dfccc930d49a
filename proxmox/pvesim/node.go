package pvesim

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// Node is one simulated PVE host: an HTTPS API on 127.0.0.1 with its own
// certificate and an SSH server with its own host key and `pct`.
type Node struct {
	sim    *Sim
	estate *estate
	name   string
	nodeid int
	ip     string // the loopback address it listens on and /cluster/status reports
	dir    string // host-side files for pct push/pull
	faults Faults

	cert atomic.Pointer[tls.Certificate]
	srv  *http.Server

	mu    sync.Mutex // guards the fields below
	addr  string     // 127.0.0.1:port, kept across SetDown
	ln    net.Listener
	down  bool
	conns map[net.Conn]struct{}
	// accepted counts the API's connections since start: each is a TLS
	// handshake, which a client reusing its connections does not repeat.
	accepted int

	sshSrv   *gliderssh.Server
	sshLn    net.Listener
	hostKey  atomic.Pointer[ssh.Signer]
	hostPriv atomic.Pointer[ed25519.PrivateKey] // hostKey's private key, for Persist
	sshAuth  sshAuth
	sessions sessionGauge // SSH sessions running a command

	// guarded by estate.mu
	storages []*storage
	tasks    map[string]*task
	taskSeq  []string
}

// Name is the node name.
func (n *Node) Name() string { return n.name }

// APIURL is the base URL of the node's API, e.g. https://127.0.0.1:41234/api2/json.
func (n *Node) APIURL() string { return "https://" + n.Addr() + "/api2/json" }

// Addr is the host:port of the HTTPS API.
func (n *Node) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// Host is the API and SSH host: the node's own loopback address, which
// /cluster/status reports as its ip (see addresses.go).
func (n *Node) Host() string { h, _, _ := net.SplitHostPort(n.Addr()); return h }

// Port is the API port.
func (n *Node) Port() int {
	_, p, _ := net.SplitHostPort(n.Addr())
	port, _ := strconv.Atoi(p)
	return port
}

// Certificate is the node's current leaf certificate.
func (n *Node) Certificate() *tls.Certificate { return n.cert.Load() }

// Fingerprint is the SHA-256 fingerprint of the current certificate as PVE
// shows it (upper-case, colon-separated hex).
func (n *Node) Fingerprint() string { return Fingerprint(n.cert.Load().Leaf.Raw) }

// SSHAddr is the host:port of the node's SSH server.
func (n *Node) SSHAddr() string { return n.sshLn.Addr().String() }

// SSHHostKey is the node's current SSH host public key.
func (n *Node) SSHHostKey() ssh.PublicKey { return (*n.hostKey.Load()).PublicKey() }

// SSHUser is the SSH login user; only root may log in.
func (n *Node) SSHUser() string { return "root" }

// SSHPassword is root's SSH password.
func (n *Node) SSHPassword() string { return n.sshAuth.password }

// HostDir is the node's host filesystem as `pct push`/`pct pull` see it: an
// absolute path on the node such as /root/x maps to HostDir()/root/x.
func (n *Node) HostDir() string { return n.dir }

// Faults is the node's fault injection set.
func (n *Node) Faults() *Faults { return &n.faults }

// RotateCertificate replaces the node's certificate (as `pvecm updatecerts
// --force` would) and drops open connections, so the next request sees it.
func (n *Node) RotateCertificate() error {
	cert, err := n.estate.ca.issue(n.name, n.ip, n.sim.now())
	if err != nil {
		return err
	}
	n.cert.Store(cert)
	n.mu.Lock()
	n.closeConnsLocked()
	n.mu.Unlock()
	n.sim.changed()
	return nil
}

// RotateHostKey replaces the node's SSH host key.
func (n *Node) RotateHostKey() error {
	signer, priv, err := newHostKey()
	if err != nil {
		return err
	}
	n.hostKey.Store(&signer)
	n.hostPriv.Store(&priv)
	n.sshSrv.AddHostKey(signer)
	n.sim.changed()
	return nil
}

// SetDown takes the node's HTTPS API off the network (connections are
// refused and open ones are cut) or brings it back on the same port. Other
// nodes of the cluster then report it offline and answer 595 for it.
func (n *Node) SetDown(down bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if down == n.down {
		return nil
	}
	n.down = down
	if down {
		err := n.ln.Close()
		n.closeConnsLocked()
		return err
	}
	return n.listenLocked()
}

// IsDown reports whether SetDown(true) is in effect.
func (n *Node) IsDown() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.down
}

func (n *Node) closeConnsLocked() {
	for c := range n.conns {
		c.Close()
	}
	clear(n.conns)
}

// start listens on the node's address for HTTPS and SSH: on the
// cluster's shared ports or free ones, or with
// Persist on the ports, certificate and host key it had before (a taken
// port is replaced by a free one).
func (n *Node) start() error {
	saved := n.sim.savedNode(n.name)
	var cert *tls.Certificate
	var hostKey ed25519.PrivateKey
	var err error
	if saved != nil {
		cert, hostKey, err = saved.identity()
	} else {
		cert, err = n.estate.ca.issue(n.name, n.ip, n.sim.now())
	}
	if err != nil {
		return err
	}
	n.cert.Store(cert)
	n.conns = map[net.Conn]struct{}{}
	n.srv = &http.Server{
		Handler:           n,
		ReadHeaderTimeout: 30 * time.Second,
		// pveproxy speaks HTTP/1.1 only; an empty map turns HTTP/2 off.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     slog.NewLogLogger(n.sim.log.Handler(), slog.LevelDebug),
		ConnState:    n.trackConn,
	}
	apiPort, sshPort := n.estate.sharedPorts()
	if saved != nil {
		apiPort, sshPort = saved.APIPort, saved.SSHPort
	}
	n.mu.Lock()
	n.addr = net.JoinHostPort(n.ip, strconv.Itoa(apiPort))
	err = n.listenLocked()
	if err != nil && apiPort != 0 {
		n.addr = net.JoinHostPort(n.ip, "0") // taken by someone else meanwhile
		err = n.listenLocked()
	}
	n.mu.Unlock()
	if err != nil {
		return err
	}
	return n.startSSH(hostKey, sshPort)
}

func (n *Node) listenLocked() error {
	ln, err := net.Listen("tcp", n.addr)
	if err != nil {
		return fmt.Errorf("pvesim: node %s listen: %w", n.name, err)
	}
	n.addr = ln.Addr().String()
	tlsLn := tls.NewListener(ln, &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return n.cert.Load(), nil },
	})
	n.ln = tlsLn
	go func() {
		if err := n.srv.Serve(tlsLn); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			n.sim.log.Debug("https serve ended", "node", n.name, "err", err)
		}
	}()
	return nil
}

func (n *Node) trackConn(c net.Conn, state http.ConnState) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch state {
	case http.StateNew:
		n.conns[c] = struct{}{}
		n.accepted++
	case http.StateClosed, http.StateHijacked:
		delete(n.conns, c)
	}
}

// Connections is how many connections the node's API has accepted.
func (n *Node) Connections() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.accepted
}

func (n *Node) close(ctx context.Context) {
	if n.srv == nil { // start failed before serving
		return
	}
	_ = n.srv.Shutdown(ctx)
	n.mu.Lock()
	n.closeConnsLocked()
	n.mu.Unlock()
	if n.sshSrv != nil {
		_ = n.sshSrv.Close()
	}
}
