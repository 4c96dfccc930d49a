package proxmox

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
)

// Fingerprint returns the SHA-256 of a DER certificate the way the Proxmox UI
// shows it: upper-case hex bytes separated by colons.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return formatFingerprint(sum[:])
}

func formatFingerprint(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// NormalizeFingerprint accepts a SHA-256 fingerprint with or without colons,
// in any case, and returns the canonical colon upper-case form.
func NormalizeFingerprint(s string) (string, error) {
	b, err := parseFingerprint(s)
	if err != nil {
		return "", err
	}
	return formatFingerprint(b), nil
}

func parseFingerprint(s string) ([]byte, error) {
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("fingerprint %q is not a SHA-256 fingerprint (32 hex bytes)", s)
	}
	return b, nil
}

// mismatchError is what the pinning check returns; classify turns it into a
// KindTLSMismatch *Error.
type mismatchError struct{ expected, actual string }

func (m *mismatchError) Error() string {
	return fmt.Sprintf("certificate fingerprint %s does not match pinned %s", m.actual, m.expected)
}

// tlsConfig returns the client TLS configuration for cfg: either a pinned
// fingerprint or normal CA verification, never blind trust.
func tlsConfig(cfg Config, rootCAs *x509.CertPool) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if net.ParseIP(cfg.Host) == nil {
		tc.ServerName = cfg.Host
	}
	if cfg.UseCA {
		tc.RootCAs = rootCAs
		return tc, nil
	}
	want, err := parseFingerprint(cfg.Fingerprint)
	if err != nil {
		return nil, err
	}
	// Pinned certificates are self-signed for a name the user may not use, so
	// chain and hostname checks are replaced (not skipped) by the fingerprint
	// comparison in VerifyConnection, which runs on every handshake.
	tc.InsecureSkipVerify = true
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server presented no certificate")
		}
		got := sha256.Sum256(cs.PeerCertificates[0].Raw)
		if !bytes.Equal(got[:], want) {
			return &mismatchError{expected: formatFingerprint(want), actual: formatFingerprint(got[:])}
		}
		return nil
	}
	return tc, nil
}
