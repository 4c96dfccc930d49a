package proxmox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"time"
)

// ProbeResult is what a user needs to decide whether to trust a node.
type ProbeResult struct {
	Addr        string // host:port probed
	Fingerprint string // SHA-256 of the leaf certificate, colon upper-case hex
	Subject     string
	Issuer      string
	NotBefore   time.Time
	NotAfter    time.Time
	DNSNames    []string
	IPAddresses []string
	// TrustedByCA reports whether the chain also verifies against the CA roots
	// (system pool or WithRootCAs) for this host name, so UseCA would work.
	TrustedByCA bool
}

// Probe connects to host:port without trusting it and reports the leaf
// certificate, so the user can compare the fingerprint before pinning it.
// It takes no credentials and sends nothing over that untrusted connection:
// the token goes only to a Client pinned to a fingerprint the user confirmed.
func Probe(ctx context.Context, host string, port int, opts ...Option) (*ProbeResult, error) {
	o := buildOptions(opts)
	cfg := Config{Host: host, Port: port}
	addr := cfg.Addr()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}

	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} // inspection only; see above
	if net.ParseIP(host) == nil {
		tc.ServerName = host
	}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Resolver: o.resolver}, Config: tc}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		c := &Client{addr: addr} // only for its error classification
		return nil, c.transportError(ctx, ctx, "", "", err, false)
	}
	state := conn.(*tls.Conn).ConnectionState()
	_ = conn.Close()
	if len(state.PeerCertificates) == 0 {
		return nil, &Error{Kind: KindTLSUntrusted, Host: addr, Message: "the server presented no certificate"}
	}
	leaf := state.PeerCertificates[0]
	res := &ProbeResult{
		Addr:        addr,
		Fingerprint: Fingerprint(leaf.Raw),
		Subject:     leaf.Subject.String(),
		Issuer:      leaf.Issuer.String(),
		NotBefore:   leaf.NotBefore,
		NotAfter:    leaf.NotAfter,
		DNSNames:    leaf.DNSNames,
		TrustedByCA: verifiesWithCA(host, state.PeerCertificates, o.rootCAs),
	}
	for _, ip := range leaf.IPAddresses {
		res.IPAddresses = append(res.IPAddresses, ip.String())
	}
	return res, nil
}

func verifiesWithCA(host string, chain []*x509.Certificate, roots *x509.CertPool) bool {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter})
	return err == nil
}
