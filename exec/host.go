package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// HostTarget says how to reach a Proxmox host over SSH.
type HostTarget struct {
	Host       string
	Port       int // 22 when zero
	User       string
	Password   string
	PrivateKey string // PEM; used before Password when both are set
	// HostKey is the pinned host key in authorized_keys format. It may be
	// empty only for ProbeHost.
	HostKey string
}

// Addr is host:port, with port 22 when Port is zero.
func (t HostTarget) Addr() string {
	port := t.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(port))
}

// Timeouts of the upstream leg. The handshake deadline applies only when the
// caller's context has none: x/crypto's own Timeout covers the TCP dial only.
const (
	dialTimeout       = 10 * time.Second
	handshakeTimeout  = 15 * time.Second
	keepaliveInterval = 15 * time.Second
	keepaliveMisses   = 3
)

// Host is an authenticated SSH connection to a Proxmox host. It is safe for
// concurrent use; each Run or Pct opens its own session.
type Host struct {
	client *ssh.Client
	addr   string

	closeOnce sync.Once
	done      chan struct{}
	kaDone    chan struct{}
}

// Dial connects to t, verifies that the host presents exactly the pinned key
// and logs in. A different key yields a *HostKeyChangedError before any
// credential is sent.
func Dial(ctx context.Context, t HostTarget) (*Host, error) {
	if strings.TrimSpace(t.HostKey) == "" {
		return nil, fmt.Errorf("exec: dial %s: %w", t.Addr(), ErrNoHostKey)
	}
	pinned, _, _, _, err := ssh.ParseAuthorizedKey([]byte(t.HostKey))
	if err != nil {
		return nil, fmt.Errorf("exec: dial %s: parse pinned host key: %w", t.Addr(), err)
	}
	addr := t.Addr()
	check := func(_ string, _ net.Addr, key ssh.PublicKey) error {
		if bytes.Equal(key.Marshal(), pinned.Marshal()) {
			return nil
		}
		return &HostKeyChangedError{Addr: addr, Pinned: ssh.FingerprintSHA256(pinned), Got: ssh.FingerprintSHA256(key)}
	}
	client, err := dialClient(ctx, t, check, hostKeyAlgorithms(pinned))
	if err != nil {
		return nil, err
	}
	return newHost(client, addr, keepaliveInterval), nil
}

func newHost(client *ssh.Client, addr string, interval time.Duration) *Host {
	h := &Host{client: client, addr: addr, done: make(chan struct{}), kaDone: make(chan struct{})}
	go h.keepalive(interval, keepaliveMisses)
	return h
}

// Close ends the connection and its keepalive loop.
func (h *Host) Close() error {
	var err error
	h.closeOnce.Do(func() {
		// Stop the keepalive loop before closing: SendRequest on a closed
		// connection has spun in some x/crypto releases.
		close(h.done)
		err = h.client.Close()
		<-h.kaDone
	})
	return err
}

// keepalive probes the host with keepalive@openssh.com and closes the
// connection when no reply came within misses intervals, so a dead host
// does not hold a session open forever.
func (h *Host) keepalive(interval time.Duration, misses int) {
	defer close(h.kaDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
		}
		// SendRequest waits for the reply forever; the timer closes the
		// connection when it does not come, which makes SendRequest fail.
		stop := time.AfterFunc(interval*time.Duration(misses), func() { h.client.Close() })
		_, _, err := h.client.SendRequest("keepalive@openssh.com", true, nil)
		stop.Stop()
		if err != nil {
			// Any error means the transport is gone.
			h.client.Close()
			return
		}
	}
}

// dialClient dials and handshakes under ctx, with deadlines on every step.
func dialClient(ctx context.Context, t HostTarget, check ssh.HostKeyCallback, algos []string) (*ssh.Client, error) {
	addr := t.Addr()
	auth, err := authMethods(t)
	if err != nil {
		return nil, fmt.Errorf("exec: dial %s: %w", addr, err)
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("exec: dial %s: %w (%w)", addr, ErrUnreachable, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(handshakeTimeout)
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	cfg := &ssh.ClientConfig{
		User:              t.User,
		Auth:              auth,
		HostKeyCallback:   check,
		HostKeyAlgorithms: algos,
		Config:            ssh.Config{Ciphers: upstreamCiphers()},
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if !stop() || err != nil {
		conn.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, classifyHandshake(ctx, addr, err)
	}
	conn.SetDeadline(time.Time{})
	// No channel handlers are registered, so the client rejects agent, X11
	// and forwarded channels the host might try to open.
	return ssh.NewClient(c, chans, reqs), nil
}

func classifyHandshake(ctx context.Context, addr string, err error) error {
	var changed *HostKeyChangedError
	switch {
	case errors.As(err, &changed):
		return fmt.Errorf("exec: dial %s: %w", addr, changed)
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("exec: dial %s: %w", addr, ErrAuthFailed)
	case ctx.Err() != nil:
		return fmt.Errorf("exec: dial %s: %w (%w)", addr, ErrUnreachable, ctx.Err())
	default:
		return fmt.Errorf("exec: dial %s: %w (%w)", addr, ErrUnreachable, err)
	}
}

func authMethods(t HostTarget) ([]ssh.AuthMethod, error) {
	var auth []ssh.AuthMethod
	if t.PrivateKey != "" {
		signer, err := ssh.ParsePrivateKey([]byte(t.PrivateKey))
		if err != nil {
			return nil, fmt.Errorf("parse private key: %w", err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if t.Password != "" {
		pw := t.Password
		auth = append(auth, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(auth) == 0 {
		return nil, fmt.Errorf("%w: no password or key given", ErrAuthFailed)
	}
	return auth, nil
}

// hostKeyAlgorithms restricts negotiation to the pinned key's type, so a
// host that also has another key type is not mistaken for a changed key.
func hostKeyAlgorithms(pinned ssh.PublicKey) []string {
	if pinned.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{pinned.Type()}
}
