package proxmox

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Client talks to one Proxmox node. It is safe for concurrent use.
type Client struct {
	addr    string // host:port, for messages
	base    string // https://host:port/api2/json
	auth    string // Authorization header value; holds the secret
	http    *http.Client
	timeout time.Duration
	retry   Retry
	poll    time.Duration
	log     *slog.Logger
	observe func(Request) // nil: nobody watches
}

// New validates cfg and returns a client for it. A config with neither a
// pinned fingerprint nor UseCA is rejected: Corral never trusts blindly.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	tc, err := tlsConfig(cfg, o.rootCAs)
	if err != nil {
		return nil, fmt.Errorf("proxmox: config: %w", err)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Resolver: o.resolver}
	transport := &http.Transport{
		Proxy:               nil, // a home-lab node is reached directly
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: timeout,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		// Nodes are on the home network, and Corral often runs on a Pi:
		// inflating a 5,000-guest /cluster/resources cost the Pi more CPU
		// than the uncompressed bytes cost the LAN (and pveproxy saves the
		// deflate too).
		DisableCompression: true,
	}
	return &Client{
		addr: cfg.Addr(),
		base: "https://" + cfg.Addr() + "/api2/json",
		auth: "PVEAPIToken=" + cfg.TokenID + "=" + cfg.TokenSecret,
		http: &http.Client{
			Transport: transport,
			// Proxmox never redirects; following one would carry the token elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
		retry:   o.retry,
		poll:    o.poll,
		log:     o.logger.With(slog.String("node_addr", cfg.Addr())),
		observe: o.observer,
	}, nil
}

// Addr returns the host:port the client talks to.
func (c *Client) Addr() string { return c.addr }

// String describes the client without its secret.
func (c *Client) String() string { return "proxmox.Client(" + c.addr + ")" }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// GoString keeps %#v from printing the token secret.
func (c *Client) GoString() string { return c.String() }
