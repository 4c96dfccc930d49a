package proxmox

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testTokenID     = "corral@pve!corral"
	testTokenSecret = "0d3a4b5c-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
)

// request is what the fake PVE saw of one call.
type request struct {
	Method     string
	Path       string // decoded
	RequestURI string // as sent on the wire
	Query      url.Values
	Form       url.Values
	Auth       string
	BodyLen    int64
}

// fakePVE is a TLS httptest server answering from testdata fixtures.
type fakePVE struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	routes map[string]http.HandlerFunc // "METHOD /path" below /api2/json
	reqs   []request
}

func newFakePVE(t *testing.T) *fakePVE {
	t.Helper()
	f := &fakePVE{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePVE) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	form := url.Values{}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		form = r.PostForm
	}
	path := strings.TrimPrefix(r.URL.Path, "/api2/json")
	f.mu.Lock()
	f.reqs = append(f.reqs, request{Method: r.Method, Path: path, RequestURI: r.RequestURI,
		Query: r.URL.Query(), Form: form, Auth: r.Header.Get("Authorization"), BodyLen: r.ContentLength})
	h := f.routes[r.Method+" "+path]
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "PVEAPIToken="+testTokenID+"="+testTokenSecret {
		writeRaw(w, 401, "Authentication failed!", nil)
		return
	}
	if h == nil {
		writeRaw(w, 501, fmt.Sprintf("Method '%s %s' not implemented", r.Method, path), nil)
		return
	}
	h(w, r)
}

// handle registers h for method and API path.
func (f *fakePVE) handle(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

// fixture answers method+path with a testdata file (success or error_*).
func (f *fakePVE) fixture(method, path, file string) {
	f.handle(method, path, fixtureHandler(f.t, file))
}

func fixtureHandler(t *testing.T, file string) http.HandlerFunc {
	t.Helper()
	b := readFixture(t, file)
	if strings.HasPrefix(file, "error_") {
		var e struct {
			Status int             `json:"status"`
			Reason string          `json:"reason"`
			Body   json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("fixture %s: %v", file, err)
		}
		body := []byte(e.Body)
		if string(body) == "null" {
			body = nil
		}
		return func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, e.Status, e.Reason, body) }
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = w.Write(b)
	}
}

func readFixture(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requests returns the calls seen for method+path.
func (f *fakePVE) requests(method, path string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []request
	for _, r := range f.reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// requestCount is how many requests of any kind reached the server.
func (f *fakePVE) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// fingerprint is the SHA-256 of the server's certificate.
func (f *fakePVE) fingerprint() string { return Fingerprint(f.srv.Certificate().Raw) }

// hostPort splits the server address.
func (f *fakePVE) hostPort() (string, int) {
	u, _ := url.Parse(f.srv.URL)
	var port int
	fmt.Sscanf(u.Port(), "%d", &port)
	return u.Hostname(), port
}

// config returns a pinned config for the server.
func (f *fakePVE) config() Config {
	host, port := f.hostPort()
	return Config{Host: host, Port: port, TokenID: testTokenID, TokenSecret: testTokenSecret,
		Fingerprint: f.fingerprint(), Timeout: 5 * time.Second}
}

// client returns a pinned client with fast retries and polling.
func (f *fakePVE) client(opts ...Option) *Client {
	f.t.Helper()
	base := []Option{WithRetry(Retry{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}),
		WithPollInterval(5 * time.Millisecond)}
	c, err := New(f.config(), append(base, opts...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(c.Close)
	return c
}

// writeRaw writes a response with Proxmox's own reason phrase, which
// net/http's ResponseWriter cannot do, by hijacking the connection.
func writeRaw(w http.ResponseWriter, status int, reason string, body []byte) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nServer: pve-api-daemon/3.0\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		status, reason, len(body))
	_, _ = buf.Write(body)
	_ = buf.Flush()
}

// asPErr extracts the *Error or fails the test.
func asPErr(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !asError(err, &e) {
		t.Fatalf("error %v (%T) is not a *proxmox.Error", err, err)
	}
	return e
}
