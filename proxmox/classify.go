package proxmox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// transportError classifies a failure that produced no HTTP status.
func (c *Client) transportError(parent, ctx context.Context, method, path string, err error, connected bool) *Error {
	e := &Error{Host: c.addr, Method: method, Path: path, Err: err}
	var mismatch *mismatchError
	var verify *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var dns *net.DNSError
	var recordHeader tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.As(err, &mismatch):
		e.Kind, e.Expected, e.Actual = KindTLSMismatch, mismatch.expected, mismatch.actual
		e.Message = "certificate fingerprint changed"
	case errors.As(err, &verify):
		e.Kind, e.Message = KindTLSUntrusted, verifyMessage(verify.Err)
		if len(verify.UnverifiedCertificates) > 0 {
			e.Actual = Fingerprint(verify.UnverifiedCertificates[0].Raw)
		}
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		e.Kind, e.Message = KindTLSUntrusted, verifyMessage(err)
	case errCanceled(parent):
		e.Kind, e.Message = KindCanceled, "canceled"
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &netErr) && netErr.Timeout()):
		// Only our own per-attempt timeout, spent before the node took the
		// connection, says the node is unreachable. The caller's deadline can
		// end while the request waits in the transport's queue for a
		// connection another request is dialling; that is a timeout.
		if connected || parent.Err() != nil {
			e.Kind, e.Message = KindTimeout, "no answer before the deadline"
		} else {
			e.Kind, e.Message = KindUnreachable, "timed out while connecting"
		}
	case errors.As(err, &dns):
		e.Kind, e.Message = KindUnreachable, "cannot resolve host name "+dns.Name
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Kind, e.Message = KindUnreachable, "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		e.Kind, e.Message = KindUnreachable, "no route to host"
	case errors.As(err, &recordHeader):
		e.Kind, e.Message = KindUnreachable, "the server does not speak HTTPS on this port"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		e.Kind, e.Message = KindUnreachable, "connection dropped"
	default:
		e.Kind, e.Message = KindUnreachable, "connection failed"
	}
	return e
}

func verifyMessage(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknownCA):
		return "signed by an unknown authority"
	case errors.As(err, &hostname):
		return "issued for another host name"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "expired or not yet valid"
	}
	return "verification failed"
}

// errorBody is the body of a Proxmox error answer (8.4+ adds "message").
type errorBody struct {
	Message string                     `json:"message"`
	Errors  map[string]json.RawMessage `json:"errors"`
}

// permissionPattern matches "Permission check failed (/vms/100, VM.Audit)".
var permissionPattern = regexp.MustCompile(`^Permission check failed \((/[^,()]*), ([A-Za-z][A-Za-z0-9.|]*)\)$`)

// statusError classifies a non-2xx answer. Proxmox carries its message in the
// HTTP reason phrase, so that wins over the body's "message".
func (c *Client) statusError(method, path string, resp *http.Response, raw []byte) *Error {
	e := &Error{Host: c.addr, Method: method, Path: path, Status: resp.StatusCode}
	reason := strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	if reason == http.StatusText(resp.StatusCode) {
		reason = "" // Go's default text, not Proxmox's
	}
	var body errorBody
	if json.Unmarshal(raw, &body) == nil && len(body.Errors) > 0 {
		e.Params = make(map[string]string, len(body.Errors))
		for k, v := range body.Errors {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(v)
			}
			e.Params[k] = strings.TrimSpace(s)
		}
	}
	e.Message = reason
	if e.Message == "" {
		e.Message = strings.TrimSpace(body.Message)
	}
	if e.Message == "" && len(e.Params) == 0 {
		e.Message = http.StatusText(resp.StatusCode)
	}

	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		e.Kind = KindUnauthorized
	case resp.StatusCode == http.StatusForbidden:
		e.Kind = KindForbidden
		if m := permissionPattern.FindStringSubmatch(e.Message); m != nil {
			e.ACLPath, e.Privilege = m[1], m[2]
		}
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusNotImplemented:
		e.Kind = KindNotFound
	case resp.StatusCode == 595 || resp.StatusCode == 596:
		e.Kind = KindProxyTimeout
	case e.Message == configChangedMessage:
		e.Kind = KindConfigChanged
	case lockIn(e.Message) != "":
		e.Kind, e.Lock = KindLocked, lockIn(e.Message)
	case looksNotFound(e.Message) || looksNotFound(e.paramText()):
		// Proxmox has no 404: missing guests are 500 "... does not exist",
		// unknown tasks 400 "no such task".
		e.Kind = KindNotFound
	default:
		e.Kind = KindRefused
	}
	if e.Kind == KindRefused && e.Message == "" {
		e.Message = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return e
}

func looksNotFound(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "does not exist") || strings.Contains(m, "no such ")
}
