package exec

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// probeBudget bounds ProbeHost as a whole, including `pct list`.
const probeBudget = 5 * time.Second

// ProbeResult is what ProbeHost learnt about a host, for the user to check
// before the key is pinned.
type ProbeResult struct {
	KeyType       string // e.g. "ssh-ed25519"
	Fingerprint   string // "SHA256:…"
	AuthorizedKey string // the key in authorized_keys format, to pin as HostTarget.HostKey
	PctList       string // output of `pct list`
}

// ProbeHost connects to a host on trust-on-first-use terms: it accepts and
// reports whatever host key is presented (or checks it when t.HostKey is set),
// logs in with the credentials and runs `pct list` to prove pct works. It
// returns ErrUnreachable, ErrAuthFailed, ErrPctMissing or *HostKeyChangedError
// (all wrapped). It gives up after 5 s.
func ProbeHost(ctx context.Context, t HostTarget) (ProbeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, probeBudget)
	defer cancel()

	var res ProbeResult
	var pinned ssh.PublicKey
	if strings.TrimSpace(t.HostKey) != "" {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(t.HostKey))
		if err != nil {
			return res, fmt.Errorf("exec: probe %s: parse pinned host key: %w", t.Addr(), err)
		}
		pinned = k
	}
	addr := t.Addr()
	accept := func(_ string, _ net.Addr, key ssh.PublicKey) error {
		res.KeyType = key.Type()
		res.Fingerprint = ssh.FingerprintSHA256(key)
		res.AuthorizedKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
		if pinned != nil && !bytes.Equal(pinned.Marshal(), key.Marshal()) {
			return &HostKeyChangedError{Addr: addr, Pinned: ssh.FingerprintSHA256(pinned), Got: res.Fingerprint}
		}
		return nil
	}
	var algos []string
	if pinned != nil {
		algos = hostKeyAlgorithms(pinned)
	}
	client, err := dialClient(ctx, t, accept, algos)
	if err != nil {
		return res, err
	}
	h := newHost(client, addr, keepaliveInterval)
	defer h.Close()

	var out, errOut bytes.Buffer
	code, err := h.Run(ctx, PctList, &out, &errOut)
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
