package proxmox

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

func TestFingerprint_Format(t *testing.T) {
	fp := Fingerprint([]byte("hello"))
	if len(fp) != 95 || strings.ToUpper(fp) != fp || strings.Count(fp, ":") != 31 {
		t.Fatalf("fingerprint %q is not 32 colon-separated upper-case hex bytes", fp)
	}
	if !strings.HasPrefix(fp, "2C:F2:4D:BA") {
		t.Fatalf("fingerprint %q is not SHA-256 of the input", fp)
	}
	for _, in := range []string{strings.ToLower(fp), strings.ReplaceAll(fp, ":", "")} {
		got, err := NormalizeFingerprint(in)
		if err != nil || got != fp {
			t.Errorf("NormalizeFingerprint(%q) = %q, %v; want %q", in, got, err, fp)
		}
	}
	if _, err := NormalizeFingerprint("AB:CD"); err == nil {
		t.Error("a short fingerprint was accepted")
	}
}

func TestNew_Validation(t *testing.T) {
	good := Config{Host: "pve.lan", TokenID: testTokenID, TokenSecret: testTokenSecret,
		Fingerprint: Fingerprint([]byte("x"))}
	if _, err := New(good); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	tests := map[string]func(*Config){
		"NoTrust":        func(c *Config) { c.Fingerprint = "" },
		"BadFingerprint": func(c *Config) { c.Fingerprint = "zz" },
		"NoHost":         func(c *Config) { c.Host = "" },
		"BadTokenID":     func(c *Config) { c.TokenID = "root@pam" },
		"NoSecret":       func(c *Config) { c.TokenSecret = "" },
		"BadPort":        func(c *Config) { c.Port = 70000 },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := good
			mutate(&cfg)
			if _, err := New(cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			} else if strings.Contains(err.Error(), testTokenSecret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
	ca := good
	ca.Fingerprint, ca.UseCA = "", true
	if _, err := New(ca); err != nil {
		t.Fatalf("UseCA config rejected: %v", err)
	}
}

func TestClient_Pinning(t *testing.T) {
	f := newFakePVE(t)
	f.fixture("GET", "/version", "version.json")

	t.Run("OK", func(t *testing.T) {
		// Lower case without colons must pin the same certificate.
		cfg := f.config()
		cfg.Fingerprint = strings.ToLower(strings.ReplaceAll(cfg.Fingerprint, ":", ""))
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Version(t.Context()); err != nil {
			t.Fatalf("pinned call failed: %v", err)
		}
	})

	t.Run("HostnameIrrelevant", func(t *testing.T) {
		// The test certificate names example.com and 127.0.0.1, not localhost.
		cfg := f.config()
		cfg.Host = "localhost"
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Version(t.Context()); err != nil {
			t.Fatalf("pinned call to a name not in the certificate failed: %v", err)
		}
	})

	t.Run("ErrTLSMismatch", func(t *testing.T) {
		cfg := f.config()
		wrong := Fingerprint([]byte("another certificate"))
		cfg.Fingerprint = wrong
		c, err := New(cfg, WithRetry(Retry{Attempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Version(t.Context())
		if !errors.Is(err, ErrTLSMismatch) {
			t.Fatalf("err = %v, want ErrTLSMismatch", err)
		}
		e := asPErr(t, err)
		if e.Expected != wrong || e.Actual != f.fingerprint() {
			t.Fatalf("expected/actual = %s / %s, want %s / %s", e.Expected, e.Actual, wrong, f.fingerprint())
		}
		if !strings.Contains(e.UserMessage(), wrong) || !strings.Contains(e.UserMessage(), f.fingerprint()) {
			t.Fatalf("user message lacks the fingerprints: %s", e.UserMessage())
		}
	})

	t.Run("UseCAUntrusted", func(t *testing.T) {
		cfg := f.config()
		cfg.Fingerprint, cfg.UseCA = "", true
		c, err := New(cfg, WithRetry(Retry{Attempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Version(t.Context())
		if !errors.Is(err, ErrTLSUntrusted) {
			t.Fatalf("err = %v, want ErrTLSUntrusted", err)
		}
		if e := asPErr(t, err); e.Actual != f.fingerprint() {
			t.Fatalf("actual fingerprint %q, want %q", e.Actual, f.fingerprint())
		}
	})

	t.Run("UseCATrusted", func(t *testing.T) {
		cfg := f.config()
		cfg.Fingerprint, cfg.UseCA = "", true
		pool := x509.NewCertPool()
		pool.AddCert(f.srv.Certificate())
		c, err := New(cfg, WithRootCAs(pool))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Version(t.Context()); err != nil {
			t.Fatalf("CA-verified call failed: %v", err)
		}
	})
}

func TestProbe(t *testing.T) {
	f := newFakePVE(t)
	f.fixture("GET", "/version", "version.json")
	host, port := f.hostPort()
	cert := f.srv.Certificate()

	t.Run("CertificateOnly", func(t *testing.T) {
		res, err := Probe(t.Context(), host, port)
		if err != nil {
			t.Fatal(err)
		}
		if res.Fingerprint != f.fingerprint() {
			t.Errorf("fingerprint %s, want %s", res.Fingerprint, f.fingerprint())
		}
		if res.Subject != cert.Subject.String() || res.Issuer != cert.Issuer.String() {
			t.Errorf("subject/issuer = %q / %q", res.Subject, res.Issuer)
		}
		if !res.NotBefore.Equal(cert.NotBefore) || !res.NotAfter.Equal(cert.NotAfter) {
			t.Errorf("validity %v–%v, want %v–%v", res.NotBefore, res.NotAfter, cert.NotBefore, cert.NotAfter)
		}
		if res.TrustedByCA {
			t.Error("a self-signed test certificate reported as CA-trusted")
		}
		if n := f.requestCount(); n != 0 {
			t.Errorf("the probe sent %d requests to a certificate nobody confirmed", n)
		}
	})

	t.Run("TrustedByCA", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		res, err := Probe(t.Context(), host, port, WithRootCAs(pool))
		if err != nil {
			t.Fatal(err)
		}
		if !res.TrustedByCA {
			t.Error("certificate signed by the given root not reported as CA-trusted")
		}
	})

	t.Run("Refused", func(t *testing.T) {
		_, err := Probe(t.Context(), "127.0.0.1", closedPort(t))
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
	})
}

// closedPort returns a loopback port with nothing listening.
func closedPort(t *testing.T) int {
	t.Helper()
	f := newFakePVE(t)
	_, port := f.hostPort()
	f.srv.Close()
	return port
}
