package exec

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// probeBudget bounds FetchHostKey and ProbeHost each, including `pct list`.
const probeBudget = 5 * time.Second

// HostKeyInfo describes a host key the way a user compares it with
// `ssh-keygen -lf` on the host.
type HostKeyInfo struct {
	KeyType       string // e.g. "ssh-ed25519"
	Fingerprint   string // "SHA256:…"
	AuthorizedKey string // the key in authorized_keys format, to pin as HostTarget.HostKey
}

func hostKeyInfo(key ssh.PublicKey) HostKeyInfo {
	return HostKeyInfo{
		KeyType:       key.Type(),
		Fingerprint:   ssh.FingerprintSHA256(key),
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))),
	}
}

// ProbeResult is what ProbeHost learnt about a host over its pinned key.
type ProbeResult struct {
	HostKeyInfo
	PctList string // output of `pct list`
}

// errKeySeen ends FetchHostKey's handshake once the key is known.
var errKeySeen = errors.New("host key seen")

// FetchHostKey reads the SSH host key of host:port without logging in: the
// handshake stops as soon as the host has proven it holds the key, before
// any user name, password or key is offered. It is the first step of
// trusting a host; credentials go only to a key the user then confirmed
// (ProbeHost, Dial). It returns ErrUnreachable (wrapped) when no SSH server
// answered within 5 s.
func FetchHostKey(ctx context.Context, host string, port int) (HostKeyInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, probeBudget)
	defer cancel()
	addr := HostTarget{Host: host, Port: port}.Addr()
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return HostKeyInfo{}, fmt.Errorf("exec: host key of %s: %w (%w)", addr, ErrUnreachable, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var info HostKeyInfo
	cfg := &ssh.ClientConfig{
		// No Auth: nothing could be sent even if the callback let it through.
		// OpenSSH's order, so the key shown is the one `ssh` would pin.
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384,
			ssh.KeyAlgoECDSA521, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			info = hostKeyInfo(key)
			return errKeySeen
		},
	}
	_, _, _, err = ssh.NewClientConn(conn, addr, cfg)
	if errors.Is(err, errKeySeen) {
		return info, nil
	}
	if err == nil {
		err = errors.New("handshake ended without a host key")
	}
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return HostKeyInfo{}, fmt.Errorf("exec: host key of %s: %w (%w)", addr, ErrUnreachable, err)
}

// ProbeHost logs in to a host whose key is pinned in t.HostKey and runs
// `pct list` to prove pct works. A host presenting another key gets no
// credential: the handshake stops with a *HostKeyChangedError. It returns
// ErrNoHostKey, ErrUnreachable, ErrAuthFailed, ErrPctMissing or
// *HostKeyChangedError (all wrapped), and gives up after 5 s.
func ProbeHost(ctx context.Context, t HostTarget) (ProbeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, probeBudget)
	defer cancel()

	h, err := Dial(ctx, t)
	if err != nil {
		return ProbeResult{}, err
	}
	defer h.Close()
	pinned, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(t.HostKey)) // Dial parsed it
	res := ProbeResult{HostKeyInfo: hostKeyInfo(pinned)}

	addr := t.Addr()
	// A host's answers are capped like a container's: a hostile or broken
	// host cannot grow Corral's memory.
	out, errOut := &capBuffer{max: MaxOutput}, &capBuffer{max: maxStderr}
	code, err := h.Run(ctx, PctList, out, errOut)
	if err != nil {
		return res, fmt.Errorf("exec: probe %s: %w", addr, err)
	}
	res.PctList = out.String()
	if code == 127 || strings.Contains(errOut.String(), "not found") {
		return res, fmt.Errorf("exec: probe %s: %w", addr, ErrPctMissing)
	}
	if code != 0 {
		return res, fmt.Errorf("exec: probe %s: pct list exited %d: %s", addr, code, firstLine(errOut.String()))
	}
	return res, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
