package pvesim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// apiError is an error answer: the message travels in the HTTP reason
// phrase and, since PVE 8.4, in the body's "message" (with a newline).
type apiError struct {
	status int
	msg    string
	errors map[string]string // parameter errors (400)
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

func errStatus(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// errParam is PVE's 400 "Parameter verification failed."
func errParam(errs map[string]string) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: "Parameter verification failed.", errors: errs}
}

func errPerm(path string, privs ...string) *apiError {
	return errStatus(http.StatusForbidden, "Permission check failed (%s, %s)", path, strings.Join(privs, "|"))
}

// paged is a list answer with the top-level "total" PVE adds to paged lists.
type paged struct {
	data  any
	total int
}

func pveHeaders(h http.Header) {
	h.Set("Server", "pve-api-daemon/3.0")
	h.Set("Cache-Control", "max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Content-Type", "application/json;charset=UTF-8")
}

// writeData writes a 200 envelope, gzip-compressed above 1 KiB when the
// client accepts it, like pveproxy.
func writeData(w http.ResponseWriter, r *http.Request, data any) {
	env := map[string]any{"data": data}
	if p, ok := data.(paged); ok {
		env = map[string]any{"data": p.data, "total": p.total}
	}
	body, err := json.Marshal(env)
	if err != nil {
		body = []byte(`{"data":null}`)
	}
	pveHeaders(w.Header())
	if len(body) > 1024 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		zw := gzipWriters.Get().(*pooledGzip)
		defer gzipWriters.Put(zw)
		zw.buf.Reset()
		zw.Reset(&zw.buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = zw.buf.Bytes()
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// pooledGzip compresses answers at gzip's fastest level: a 5,000-guest
// /cluster/resources costs a few milliseconds instead of tens, and the
// simulator shares the machine with whatever it is tested against.
type pooledGzip struct {
	*gzip.Writer
	buf bytes.Buffer
}

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return &pooledGzip{Writer: zw}
}}

// writeError sends an error with its message as the reason phrase. Go's
// ResponseWriter cannot set a reason phrase, so the connection is hijacked
// and the response written by hand; pveproxy closes after errors anyway.
func writeError(w http.ResponseWriter, e *apiError) {
	var body []byte
	switch e.status {
	case http.StatusUnauthorized:
		// empty body
	case 595, 596:
		// pveproxy's pseudo-statuses carry no body
	default:
		env := map[string]any{"data": nil, "message": e.msg + "\n"}
		if e.errors != nil {
			env["errors"] = e.errors
		}
		body, _ = json.Marshal(env)
	}
	writeRaw(w, e.status, e.msg, body)
}

func writeRaw(w http.ResponseWriter, status int, reason string, body []byte) {
	// A reason with a line break would corrupt the status line; PVE degrades
	// such answers to a plain 400.
	if strings.ContainsAny(reason, "\r\n") {
		status, reason = http.StatusBadRequest, "Bad Request"
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		pveHeaders(w.Header())
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	// Buffered request data is not needed: the connection closes.
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	h := http.Header{}
	pveHeaders(h)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Set("Connection", "close")
	bw := bufio.NewWriter(conn)
	fmt.Fprintf(bw, "HTTP/1.1 %03d %s\r\n", status, reason)
	_ = h.Write(bw)
	_, _ = bw.WriteString("\r\n")
	_, _ = bw.Write(body)
	_ = bw.Flush()
}
