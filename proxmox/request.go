package proxmox

import (
	"bytes"
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

// envelope is Proxmox's {"data": ..., "total": N} wrapper. Data holds the
// caller's pointer, so the answer is decoded straight into it in one pass
// over the bytes: at 5,000 guests, unwrapping first and decoding the data
// afterwards scanned the same megabyte three times.
type envelope struct {
	Data  any  `json:"data"`
	Total *Int `json:"total"`
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
	return c.doTotal(ctx, method, path, query, form, out, nil)
}

// doTotal is do that also reads the envelope's total (paged answers) into total.
func (c *Client) doTotal(ctx context.Context, method, path string, query, form url.Values, out any, total *Int) error {
	raw, err := c.call(ctx, method, path, query, form)
	if err != nil {
		return err
	}
	if err := c.unwrap(method, path, raw, out, total); err != nil {
		return err // not the typed nil *Error
	}
	return nil
}

// call runs the request, retrying reads (GET only) with backoff on transient
// failures. Writes are never retried: a POST that timed out may have started a task.
func (c *Client) call(ctx context.Context, method, path string, query, form url.Values) ([]byte, error) {
	attempts := 1
	if method == http.MethodGet {
		attempts = c.retry.Attempts
	}
	for n := 0; ; n++ {
		raw, err := c.attempt(ctx, method, path, query, form)
		if err == nil {
			return raw, nil // not the typed nil *Error
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

// attempt makes one request and returns the body of a 2xx answer.
func (c *Client) attempt(parent context.Context, method, path string, query, form url.Values) ([]byte, *Error) {
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
	raw, err := readBody(resp)
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
	return raw, nil
}

// unwrap decodes the {"data": ...} envelope's data into out (if non-nil)
// and its total into total (if non-nil), tolerating an unwrapped body.
func (c *Client) unwrap(method, path string, raw []byte, out any, total *Int) *Error {
	if len(bytes.TrimSpace(raw)) == 0 {
		// pveproxy always answers a success with a JSON envelope; an empty
		// body means something in between cut the answer short, and taking
		// it as "no data" would read as, say, "no guests: every VMID free".
		return &Error{Kind: KindBadResponse, Host: c.addr, Method: method, Path: path,
			Message: "Proxmox sent an empty answer"}
	}
	fail := func(message string, err error) *Error {
		return &Error{Kind: KindBadResponse, Host: c.addr, Method: method, Path: path, Message: message, Err: err}
	}
	if totalText, ok := decodeEnvelope(raw, out); ok {
		// A plain envelope, valid JSON, its data decoded into out.
		if totalText != nil {
			var n Int
			if err := n.UnmarshalJSON(totalText); err != nil {
				return fail("cannot decode the answer", err)
			}
			if total != nil {
				*total = n
			}
		}
		return nil
	}
	return c.unwrapSlowly(raw, out, total, fail)
}

// unwrapSlowly is unwrap by encoding/json alone: for answers the envelope
// scanner is not sure of, and the reference FuzzUnwrap compares it with.
func (c *Client) unwrapSlowly(raw []byte, out any, total *Int, fail func(string, error) *Error) *Error {
	if !hasDataKey(raw) {
		if !json.Valid(raw) {
			return fail("the answer is not JSON", nil)
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fail("cannot decode the answer", err)
			}
		}
		return nil
	}
	var ignored json.RawMessage
	env := envelope{Data: out, Total: total}
	if out == nil {
		env.Data = &ignored
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fail("the answer is not JSON", err)
		}
		return fail("cannot decode the answer", err)
	}
	return nil
}

// hasDataKey reports whether raw is a JSON object with a top-level "data"
// member, reading only the object's keys (values are skipped by a scanner
// that does not decode them).
func hasDataKey(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		if key == "data" {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// readBody reads at most maxBody bytes, into one buffer of the announced
// size when there is one (a megabyte of guests otherwise grows the buffer
// a dozen times).
func readBody(resp *http.Response) ([]byte, error) {
	body := io.LimitReader(resp.Body, maxBody)
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		// One byte more than announced, so the read also sees the end
		// of the body (which lets the connection be reused).
		buf := make([]byte, n+1)
		got, err := io.ReadFull(body, buf)
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return buf[:got], nil
		case err != nil:
			return nil, err
		}
		rest, err := io.ReadAll(body) // longer than announced: keep reading
		return append(buf, rest...), err
	}
	return io.ReadAll(body)
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
