package proxmox

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"time"
)

// DefaultPort is the port pveproxy listens on.
const DefaultPort = 8006

// DefaultTimeout bounds every HTTP request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config describes one Proxmox node and how to trust it.
type Config struct {
	Host        string        // name or address of the node
	Port        int           // 0 means DefaultPort
	TokenID     string        // user@realm!tokenname
	TokenSecret string        // the token's UUID secret; never logged or shown
	Fingerprint string        // pinned SHA-256 of the leaf certificate (colon hex)
	UseCA       bool          // verify a CA chain instead of a pinned fingerprint
	Timeout     time.Duration // per request; 0 means DefaultTimeout
}

// tokenIDPattern is the token id grammar of pve-access-control.
var tokenIDPattern = regexp.MustCompile(`^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$`)

// Validate reports the first problem with c, without mentioning the secret.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return errors.New("proxmox: config: host is required")
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("proxmox: config: port %d out of range", c.Port)
	case !tokenIDPattern.MatchString(c.TokenID):
		return fmt.Errorf("proxmox: config: token id %q must look like user@realm!name", c.TokenID)
	case c.TokenSecret == "":
		return errors.New("proxmox: config: token secret is required")
	case c.Timeout < 0:
		return errors.New("proxmox: config: timeout must not be negative")
	}
	if c.Fingerprint == "" && !c.UseCA {
		return errors.New("proxmox: config: either a pinned certificate fingerprint or UseCA is required")
	}
	if c.Fingerprint != "" {
		if _, err := parseFingerprint(c.Fingerprint); err != nil {
			return fmt.Errorf("proxmox: config: %w", err)
		}
	}
	return nil
}

// Addr returns host:port, defaulting the port.
func (c Config) Addr() string {
	port := c.Port
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// String describes the endpoint without the secret.
func (c Config) String() string {
	trust := "fingerprint " + c.Fingerprint
	if c.UseCA {
		trust = "CA"
	}
	return fmt.Sprintf("proxmox %s as %s (secret redacted, trust %s)", c.Addr(), c.TokenID, trust)
}

// GoString keeps %#v from printing the secret.
func (c Config) GoString() string { return c.String() }

// LogValue keeps slog from printing the secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr()),
		slog.String("token_id", c.TokenID),
		slog.Bool("use_ca", c.UseCA),
		slog.String("fingerprint", c.Fingerprint),
	)
}

// Retry is the backoff for idempotent reads: Attempts tries in all, waiting
// Base·2^n between them, never more than Max.
type Retry struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
}

// DefaultRetry is used unless WithRetry says otherwise.
var DefaultRetry = Retry{Attempts: 3, Base: 200 * time.Millisecond, Max: 2 * time.Second}

func (r Retry) delay(n int) time.Duration {
	d := r.Base << n
	if d <= 0 || d > r.Max {
		return r.Max
	}
	return d
}

// options collects what Option values set.
type options struct {
	logger   *slog.Logger
	rootCAs  *x509.CertPool
	retry    Retry
	poll     time.Duration
	resolver *net.Resolver
	observer func(Request)
}

// Option adjusts a Client.
type Option func(*options)

// WithLogger sets the logger for debug request logs (never containing secrets).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRootCAs sets the roots used when Config.UseCA is true (default: the system pool).
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.rootCAs = pool } }

// WithRetry replaces DefaultRetry; Attempts 1 disables retries.
func WithRetry(r Retry) Option { return func(o *options) { o.retry = r } }

// WithPollInterval sets how often WaitTask polls (default 1 s).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.poll = d } }

// WithResolver sets the DNS resolver used to find the node (default: the system's).
func WithResolver(r *net.Resolver) Option { return func(o *options) { o.resolver = r } }

func buildOptions(opts []Option) options {
	o := options{retry: DefaultRetry, poll: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.retry.Attempts < 1 {
		o.retry.Attempts = 1
	}
	if o.poll <= 0 {
		o.poll = time.Second
	}
	return o
}
