package proxmox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// maxBody bounds what we read from Proxmox; the appliance index is the largest
// answer at a few hundred KiB.
const maxBody = 32 << 20

// envelope is Proxmox's {"data": ..., "total": N} wrapper.
type envelope struct {
	Data  json.RawMessage `json:"data"`
	Total Int             `json:"total"`
}

// apiPath joins path segments, escaping each one. UPIDs contain '@' and '!',
// which are escaped; ':' is legal in a path segment and left as is.
func apiPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(url.PathEscape(s), "@", "%40"))
	}
	return b.String()
}

func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, query, nil, out)
}

func (c *Client) post(ctx context.Context, path string, form url.Values, out any) error {
	return c.do(ctx, http.MethodPost, path, nil, form, out)
}

func (c *Client) put(ctx context.Context, path string, form url.Values, out any) error {
	return c.do(ctx, http.MethodPut, path, nil, form, out)
}

func (c *Client) delete(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodDelete, path, query, nil, out)
}

// do performs one API call and decodes the unwrapped data into out (if non-nil).
func (c *Client) do(ctx context.Context, method, path string, query, form url.Values, out any) error {
	env, err := c.call(ctx, method, path, query, form)
	if err != nil {
		return err
	}
	return c.decode(method, path, env.Data, out)
}

func (c *Client) decode(method, path string, data json.RawMessage, out any) error {
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Kind: KindBadResponse, Host: c.addr, Method: method, Path: path,
			Message: "cannot decode the answer", Err: err}
	}
	return nil
}

// call runs the request, retrying reads (GET only) with backoff on transient
// failures. Writes are never retried: a POST that timed out may have started a task.
func (c *Client) call(ctx context.Context, method, path string, query, form url.Values) (*envelope, error) {
	attempts := 1
	if method == http.MethodGet {
		attempts = c.retry.Attempts
	}
	for n := 0; ; n++ {
		env, err := c.attempt(ctx, method, path, query, form)
		if err == nil {
			return env, nil // not the typed nil *Error
		}
		if n+1 >= attempts || !retryable(err) {
			return nil, err
		}
		wait := time.NewTimer(c.retry.delay(n))
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, err
		case <-wait.C:
		}
		c.log.DebugContext(ctx, "proxmox retry", slog.String("method", method),
			slog.String("path", path), slog.Int("attempt", n+2), slog.String("err", err.Kind.String()))
	}
}

// retryable reports whether a failed read is worth another try: network
// failures and 5xx, but not 596 (the cluster proxy already waited), not
// timeouts (the node is slow; retrying makes it slower) and not 4xx.
func retryable(err *Error) bool {
	switch err.Kind {
	case KindUnreachable:
		return true
	case KindRefused:
		return err.Status >= 500
	}
	return false
}

func (c *Client) attempt(parent context.Context, method, path string, query, form url.Values) (*envelope, *Error) {
	// A caller that already gave up is not an unreachable node: without this,
	// the failed dial would read as "timed out while connecting".
	if err := parent.Err(); err != nil {
		e := &Error{Kind: KindTimeout, Host: c.addr, Method: method, Path: path,
			Message: "no answer before the deadline", Err: err}
		if errCanceled(parent) {
			e.Kind, e.Message = KindCanceled, "canceled"
		}
		return nil, e
	}
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	// Whether the node took the TCP connection tells a connect timeout
	// (unreachable) from a slow answer (timeout). A node that accepted the
	// connection is reachable even while its TLS handshake is still slow.
	var connected atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				connected.Store(true)
			}
		},
		GotConn: func(httptrace.GotConnInfo) { connected.Store(true) },
	})

	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, &Error{Kind: KindUnknown, Host: c.addr, Method: method, Path: path, Message: "cannot build request", Err: err}
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		e := c.transportError(parent, ctx, method, path, err, connected.Load())
		c.logDone(parent, method, path, 0, start, e)
		return nil, e
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		e := c.transportError(parent, ctx, method, path, err, true)
		c.logDone(parent, method, path, resp.StatusCode, start, e)
		return nil, e
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := c.statusError(method, path, resp, raw)
		c.logDone(parent, method, path, resp.StatusCode, start, e)
		return nil, e
	}
	c.logDone(parent, method, path, resp.StatusCode, start, nil)
	return c.unwrap(method, path, raw)
}

// unwrap strips the {"data": ...} envelope, tolerating an unwrapped body.
func (c *Client) unwrap(method, path string, raw []byte) (*envelope, *Error) {
	if len(strings.TrimSpace(string(raw))) == 0 {
		// pveproxy always answers a success with a JSON envelope; an empty
		// body means something in between cut the answer short, and taking
		// it as "no data" would read as, say, "no guests: every VMID free".
		return nil, &Error{Kind: KindBadResponse, Host: c.addr, Method: method, Path: path,
			Message: "Proxmox sent an empty answer"}
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys["data"] == nil {
		if !json.Valid(raw) {
			return nil, &Error{Kind: KindBadResponse, Host: c.addr, Method: method, Path: path,
				Message: "the answer is not JSON", Err: err}
		}
		return &envelope{Data: raw}, nil
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, &Error{Kind: KindBadResponse, Host: c.addr, Method: method, Path: path,
			Message: "cannot decode the answer envelope", Err: err}
	}
	return &env, nil
}

func (c *Client) logDone(ctx context.Context, method, path string, status int, start time.Time, err *Error) {
	took := time.Since(start)
	if c.observe != nil {
		r := Request{Host: c.addr, Method: method, Path: path, Status: status, Duration: took}
		if err != nil {
			r.Kind = err.Kind
		}
		c.observe(r)
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Duration("duration", took),
	}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "proxmox request", attrs...)
}

// errCanceled reports whether the caller (not our per-request deadline) ended ctx.
func errCanceled(parent context.Context) bool {
	return errors.Is(parent.Err(), context.Canceled)
}
