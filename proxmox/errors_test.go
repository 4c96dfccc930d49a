package proxmox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClient_ErrorKinds(t *testing.T) {
	f := newFakePVE(t)
	f.fixture("GET", "/nodes/pve/lxc/100/status/current", "error_403_permission.json")
	f.fixture("GET", "/nodes/pve/lxc/123/config", "error_500_config_missing.json")
	f.fixture("GET", "/nodes/pve/lxc", "error_500_already_running.json")
	f.fixture("POST", "/nodes/pve/lxc/105/status/start", "error_500_already_running.json")
	f.fixture("GET", "/nodes/pve2/status", "error_596.json")
	f.fixture("POST", "/nodes/pve/lxc", "error_400_create_params.json")
	f.fixture("GET", "/nodes/pve/tasks/"+testUPID+"/status", "error_400_no_such_task.json")
	f.handle("GET", "/nodes/pve/network", func(w http.ResponseWriter, _ *http.Request) {
		writeRaw(w, 404, "Not Found", nil)
	})
	c := f.client()
	ctx := t.Context()

	t.Run("Unauthorized", func(t *testing.T) {
		cfg := f.config()
		cfg.TokenSecret = "not-the-secret"
		bad, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.Version(ctx)
		e := wantKind(t, err, ErrUnauthorized, KindUnauthorized)
		if e.Status != 401 || e.Message != "Authentication failed!" {
			t.Fatalf("status %d message %q", e.Status, e.Message)
		}
		if n := len(f.requests("GET", "/version")); n != 1 {
			t.Fatalf("401 was tried %d times, want 1", n)
		}
	})

	t.Run("ForbiddenPrivilege", func(t *testing.T) {
		_, err := c.LXCStatus(ctx, "pve", 100)
		e := wantKind(t, err, ErrForbidden, KindForbidden)
		if e.ACLPath != "/vms/100" || e.Privilege != "VM.Audit" {
			t.Fatalf("path %q privilege %q", e.ACLPath, e.Privilege)
		}
		if !strings.Contains(e.UserMessage(), "VM.Audit") {
			t.Fatalf("user message does not name the privilege: %s", e.UserMessage())
		}
	})

	t.Run("NotFound404", func(t *testing.T) {
		_, err := c.Bridges(ctx, "pve")
		wantKind(t, err, ErrNotFound, KindNotFound)
	})

	t.Run("NotFoundConfigMissing", func(t *testing.T) {
		_, err := c.LXCConfig(ctx, "pve", 123)
		e := wantKind(t, err, ErrNotFound, KindNotFound)
		if e.Message != "Configuration file 'nodes/pve/lxc/123.conf' does not exist" {
			t.Fatalf("message %q not verbatim", e.Message)
		}
		if n := len(f.requests("GET", "/nodes/pve/lxc/123/config")); n != 1 {
			t.Fatalf("a missing config was tried %d times, want 1", n)
		}
	})

	t.Run("NotFoundTask", func(t *testing.T) {
		_, err := c.TaskStatus(ctx, "pve", testUPID)
		e := wantKind(t, err, ErrNotFound, KindNotFound)
		if e.Params["upid"] != "no such task" {
			t.Fatalf("params %v", e.Params)
		}
	})

	t.Run("Refused500RetriedOnGET", func(t *testing.T) {
		_, err := c.LXCs(ctx, "pve")
		e := wantKind(t, err, ErrRefused, KindRefused)
		if e.Status != 500 || e.Message != "CT 105 already running" {
			t.Fatalf("status %d message %q", e.Status, e.Message)
		}
		if n := len(f.requests("GET", "/nodes/pve/lxc")); n != 3 {
			t.Fatalf("GET 500 tried %d times, want 3", n)
		}
	})

	t.Run("Refused500NotRetriedOnPOST", func(t *testing.T) {
		_, err := c.Start(ctx, "pve", 105)
		wantKind(t, err, ErrRefused, KindRefused)
		if n := len(f.requests("POST", "/nodes/pve/lxc/105/status/start")); n != 1 {
			t.Fatalf("POST tried %d times, want 1", n)
		}
	})

	t.Run("RefusedParams", func(t *testing.T) {
		_, err := c.CreateLXC(ctx, "pve", CreateLXCParams{VMID: 105, OSTemplate: "x", Hostname: "bad_name"})
		e := wantKind(t, err, ErrRefused, KindRefused)
		if e.Status != 400 || !strings.Contains(e.Params["hostname"], "valid DNS name") {
			t.Fatalf("status %d params %v", e.Status, e.Params)
		}
		if !strings.Contains(e.UserMessage(), "hostname: invalid format") {
			t.Fatalf("user message lacks the parameter error: %s", e.UserMessage())
		}
	})

	t.Run("ProxyTimeout596NotRetried", func(t *testing.T) {
		_, err := c.NodeStatus(ctx, "pve2")
		e := wantKind(t, err, ErrProxyTimeout, KindProxyTimeout)
		if e.Status != 596 || e.Message != "Connection timed out" {
			t.Fatalf("status %d message %q", e.Status, e.Message)
		}
		if n := len(f.requests("GET", "/nodes/pve2/status")); n != 1 {
			t.Fatalf("596 tried %d times, want 1", n)
		}
	})
}

func TestClient_TransportErrors(t *testing.T) {
	t.Run("ConnectionRefused", func(t *testing.T) {
		f := newFakePVE(t)
		cfg := f.config()
		f.srv.Close()
		c, err := New(cfg, WithRetry(Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Version(t.Context())
		e := wantKind(t, err, ErrUnreachable, KindUnreachable)
		if e.Message != "connection refused" {
			t.Fatalf("message %q", e.Message)
		}
	})

	t.Run("DNSFailure", func(t *testing.T) {
		cfg := Config{Host: "pve.invalid", TokenID: testTokenID, TokenSecret: testTokenSecret,
			Fingerprint: Fingerprint([]byte("x"))}
		c, err := New(cfg, WithResolver(nxdomainResolver(t)), WithRetry(Retry{Attempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Version(t.Context())
		e := wantKind(t, err, ErrUnreachable, KindUnreachable)
		var dns *net.DNSError
		if !errors.As(err, &dns) || !dns.IsNotFound {
			t.Fatalf("cause %v is not a not-found DNS error", e.Err)
		}
		if !strings.Contains(e.UserMessage(), "pve.invalid:8006") {
			t.Fatalf("user message does not name the host: %s", e.UserMessage())
		}
	})

	t.Run("Drop", func(t *testing.T) {
		f := newFakePVE(t)
		f.handle("GET", "/version", func(w http.ResponseWriter, _ *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		})
		_, err := f.client().Version(t.Context())
		e := wantKind(t, err, ErrUnreachable, KindUnreachable)
		if e.Message != "connection dropped" {
			t.Fatalf("message %q (cause %v)", e.Message, e.Err)
		}
		if n := len(f.requests("GET", "/version")); n != 3 {
			t.Fatalf("dropped GET tried %d times, want 3", n)
		}
	})

	// hang serves /version by never answering, and /nodes normally so a
	// client can open (and keep) its connection before the deadline matters.
	hang := func(t *testing.T) *fakePVE {
		f := newFakePVE(t)
		f.handle("GET", "/version", func(w http.ResponseWriter, r *http.Request) { holdConnection(w, r) })
		f.fixture("GET", "/nodes", "nodes.json")
		return f
	}
	warm := func(t *testing.T, c *Client) {
		t.Helper()
		if _, err := c.Nodes(t.Context()); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("TimeoutPerCall", func(t *testing.T) {
		f := hang(t)
		cfg := f.config()
		cfg.Timeout = 500 * time.Millisecond
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		warm(t, c)
		_, err = c.Version(t.Context())
		wantKind(t, err, ErrTimeout, KindTimeout)
		if n := len(f.requests("GET", "/version")); n != 1 {
			t.Fatalf("timed-out GET tried %d times, want 1", n)
		}
	})

	t.Run("TimeoutCallerDeadline", func(t *testing.T) {
		f := hang(t)
		c := f.client()
		warm(t, c)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Version(ctx)
		wantKind(t, err, ErrTimeout, KindTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cause of %v is not context.DeadlineExceeded", err)
		}
	})

	// A connection that is still being set up when the caller's own deadline
	// ends is the caller's timeout; only Corral's per-call timeout spent
	// before the node took the connection reads as unreachable.
	t.Run("DeadlineBeforeConnected", func(t *testing.T) {
		cfg := Config{Host: "pve.slow", TokenID: testTokenID, TokenSecret: testTokenSecret,
			Fingerprint: Fingerprint([]byte("x")), Timeout: 300 * time.Millisecond}
		c, err := New(cfg, WithResolver(silentResolver(t)), WithRetry(Retry{Attempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err = c.Version(ctx)
		wantKind(t, err, ErrTimeout, KindTimeout)

		_, err = c.Version(t.Context())
		e := wantKind(t, err, ErrUnreachable, KindUnreachable)
		if e.Message != "timed out while connecting" {
			t.Fatalf("message %q (cause %v)", e.Message, e.Err)
		}
	})

	// A node that takes the TCP connection but never finishes the TLS
	// handshake is reachable and slow: a timeout, not "unreachable".
	t.Run("TimeoutDuringHandshake", func(t *testing.T) {
		f := newFakePVE(t)
		cfg := f.config()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		held := make(chan net.Conn, 8)
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				held <- conn // accepted, never answered
			}
		}()
		t.Cleanup(func() {
			for len(held) > 0 {
				(<-held).Close()
			}
		})
		cfg.Host, cfg.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
		cfg.Timeout = 300 * time.Millisecond
		c, err := New(cfg, WithRetry(Retry{Attempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Version(t.Context())
		wantKind(t, err, ErrTimeout, KindTimeout)
	})

	t.Run("Canceled", func(t *testing.T) {
		f := hang(t)
		ctx, cancel := context.WithCancel(t.Context())
		f.handle("GET", "/version", func(w http.ResponseWriter, r *http.Request) {
			cancel()
			holdConnection(w, r)
		})
		_, err := f.client().Version(ctx)
		wantKind(t, err, ErrCanceled, KindCanceled)
	})
}

func TestError_SecretNeverShown(t *testing.T) {
	f := newFakePVE(t)
	f.fixture("GET", "/nodes/pve/lxc", "error_500_already_running.json")
	f.fixture("POST", "/nodes/pve/lxc", "error_400_create_params.json")
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := f.client(WithLogger(logger))
	cfg := f.config()

	var errs []error
	_, err := c.LXCs(t.Context(), "pve")
	errs = append(errs, err)
	_, err = c.CreateLXC(t.Context(), "pve", CreateLXCParams{VMID: 105, OSTemplate: "x", Password: "rootpw-123"})
	errs = append(errs, err)
	bad := cfg
	bad.TokenSecret = testTokenSecret + "-wrong"
	wrong, _ := New(bad)
	_, err = wrong.Version(t.Context())
	errs = append(errs, err)
	mis := cfg
	mis.Fingerprint = Fingerprint([]byte("other"))
	mc, _ := New(mis)
	_, err = mc.Version(t.Context())
	errs = append(errs, err)

	var shown []string
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		e := asPErr(t, err)
		shown = append(shown, err.Error(), fmt.Sprintf("%+v", err), e.UserMessage(), e.Hint())
	}
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", cfg)
	shown = append(shown, logs.String(), cfg.String(), fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg),
		fmt.Sprintf("%v %+v %#v", c, c, c))
	if !strings.Contains(logs.String(), `"path":"/nodes/pve/lxc"`) {
		t.Fatalf("debug log lacks request lines: %s", logs.String())
	}
	for _, s := range shown {
		for _, secret := range []string{testTokenSecret, "rootpw-123"} {
			if strings.Contains(s, secret) {
				t.Fatalf("secret %q shown in %q", secret, s)
			}
		}
	}
}

func TestError_MessagesForEveryKind(t *testing.T) {
	for k := KindUnknown; k <= KindBadResponse; k++ {
		e := &Error{Kind: k, Host: "pve.lan:8006", Message: "m"}
		if e.UserMessage() == "" || k.String() == "" || strings.HasPrefix(k.String(), "kind(") {
			t.Errorf("kind %d lacks a name or a user message", k)
		}
		if k != KindUnknown && k != KindCanceled && e.Hint() == "" {
			t.Errorf("kind %v has no hint", k)
		}
		if k != KindUnknown && !errors.Is(e, k.sentinel()) {
			t.Errorf("kind %v does not match its sentinel", k)
		}
		if k != KindNotFound && errors.Is(e, ErrNotFound) {
			t.Errorf("kind %v matches ErrNotFound", k)
		}
	}
}

// wantKind checks errors.Is against the sentinel and the Kind field.
func wantKind(t *testing.T, err error, sentinel error, kind Kind) *Error {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want %v", err, sentinel)
	}
	e := asPErr(t, err)
	if e.Kind != kind {
		t.Fatalf("kind %v, want %v", e.Kind, kind)
	}
	if e.UserMessage() == "" || e.Hint() == "" && kind != KindCanceled {
		t.Fatalf("missing user message or hint for %v", kind)
	}
	return e
}

// nxdomainResolver returns a resolver whose DNS server, on loopback, answers
// NXDOMAIN to every query, so lookups never leave the machine.
// silentResolver asks a DNS server that reads every question and never
// answers, so a dial stays unconnected until a deadline ends it.
func silentResolver(t *testing.T) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

func nxdomainResolver(t *testing.T) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			end := 12 // header, then one question: labels, 0, type, class
			for end < n && buf[end] != 0 {
				end += int(buf[end]) + 1
			}
			end += 5
			if n < 12 || end > n {
				continue
			}
			resp := append([]byte(nil), buf[:end]...)
			resp[2] = 0x84 | buf[2]&0x01 // response, authoritative, RD copied
			resp[3] = 0x83               // RA, NXDOMAIN
			for i := 6; i < 12; i++ {
				resp[i] = 0 // no answer, authority or additional records
			}
			_, _ = pc.WriteTo(resp, addr)
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// holdConnection never answers: it takes the connection from net/http (so
// not even an implicit empty 200 goes out when the handler returns) and
// keeps it until the client hangs up.
func holdConnection(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		<-r.Context().Done()
		return
	}
	defer conn.Close()
	_, _ = io.Copy(io.Discard, conn)
}
