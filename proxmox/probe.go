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
	// Version is the node's /version, fetched over a connection pinned to
	// Fingerprint; nil when no token was given.
	Version *Version
}

// Probe connects to host:port without trusting it and reports the leaf
// certificate, so the user can compare the fingerprint before pinning it.
// Nothing is sent over that untrusted connection. When tokenID is non-empty,
// Probe then calls /version over a new connection pinned to the fingerprint it
// just saw; if that fails, the certificate details are returned with the error.
func Probe(ctx context.Context, host string, port int, tokenID, tokenSecret string, opts ...Option) (*ProbeResult, error) {
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
	if tokenID == "" {
		return res, nil
	}
	cfg.TokenID, cfg.TokenSecret, cfg.Fingerprint = tokenID, tokenSecret, res.Fingerprint
	client, err := New(cfg, opts...)
	if err != nil {
		return res, err
	}
	defer client.Close()
	v, err := client.Version(ctx)
	if err != nil {
		return res, err
	}
	res.Version = v
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
