package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/coder/websocket"
	"golang.org/x/crypto/ssh"
)

// demoConsole opens the browser console of the demo's CT vmid the way
// console.js does: the detail page, a ticket from a POST with its CSRF
// token, then the WebSocket from the page's origin.
func demoConsole(t testing.TB, d *demoRun, vmid string) *websocket.Conn {
	t.Helper()
	res, err := d.hc.Get(d.base + "/containers")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	detail := ""
	doc.Find(`a[href^="/containers/"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		href, _ := s.Attr("href")
		if strings.HasSuffix(href, "/"+vmid) {
			detail = href
			return false
		}
		return true
	})
	tok, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	if detail == "" || tok == "" {
		t.Fatalf("no detail link for CT %s (csrf %q)", vmid, tok)
	}
	res, err = d.hc.PostForm(d.base+detail+"/console/ticket", url.Values{"_csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	var ticket struct{ URL string }
	err = json.NewDecoder(res.Body).Decode(&ticket)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("ticket: %d %v", res.StatusCode, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(d.base, "http")+ticket.URL+"&cols=80&rows=24",
		&websocket.DialOptions{HTTPClient: d.hc, HTTPHeader: http.Header{"Origin": {d.base}}})
	if err != nil {
		t.Fatalf("console WebSocket: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// wsReader reads the console's output messages as one stream.
type wsReader struct {
	ws   *websocket.Conn
	rest []byte
}

func (r *wsReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		kind, b, err := r.ws.Read(context.Background())
		if err != nil {
			return 0, err
		}
		if kind == websocket.MessageText {
			return 0, io.EOF // the shell ended
		}
		r.rest = b
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// wsWriter sends keystrokes as console.js does.
type wsWriter struct{ ws *websocket.Conn }

func (w wsWriter) Write(p []byte) (int, error) {
	if err := w.ws.Write(context.Background(), websocket.MessageBinary, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// readTo reads r until the output ends with want.
func readTo(t testing.TB, r io.Reader, want string) {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for !strings.HasSuffix(string(got), want) {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("waiting for %q: %v; got %q", want, err, got)
		}
	}
}

// demoSSHShell opens `ssh -t demo@corral vmid` on the demo's gateway.
func demoSSHShell(t testing.TB, d *demoRun, vmid string) (io.Writer, io.Reader) {
	t.Helper()
	c, err := ssh.Dial("tcp", d.sshAddr, &ssh.ClientConfig{User: "demo", Auth: []ssh.AuthMethod{ssh.Password(d.password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm-256color", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Start(vmid); err != nil {
		t.Fatal(err)
	}
	return in, out
}

// TestDemoConsole runs a command in the browser console as serve wires
// it: the same shell as ssh, with its exit status at the end.
func TestDemoConsole(t *testing.T) {
	d := demoStart(t)
	ws := demoConsole(t, d, "101")
	r, w := &wsReader{ws: ws}, wsWriter{ws}
	readTo(t, r, "root@mqtt:~# ")
	io.WriteString(w, "echo wired-$((6*7))\r")
	readTo(t, r, "wired-42\r\nroot@mqtt:~# ")
	io.WriteString(w, "exit 5\r")
	_, b, err := ws.Read(t.Context())
	for err == nil && !strings.HasPrefix(string(b), "{") {
		_, b, err = ws.Read(t.Context())
	}
	if err != nil || !strings.Contains(string(b), `"status":5`) {
		t.Fatalf("end of the shell: %s %v", b, err)
	}
}

// BenchmarkKeystrokeRoundTrip types one key into a shell in CT 101 and
// waits for its echo, through the browser console (WebSocket) and through
// the SSH gateway, in the same demo, and reports both and what the
// browser path adds (target under 1 ms). Each round trip is a key and its
// erasure, so the line stays empty.
func BenchmarkKeystrokeRoundTrip(b *testing.B) {
	d := demoStart(b)
	ws := demoConsole(b, d, "101")
	wr, ww := &wsReader{ws: ws}, wsWriter{ws}
	sw, sr := demoSSHShell(b, d, "101")
	readTo(b, wr, "root@mqtt:~# ")
	readTo(b, sr, "root@mqtt:~# ")

	key := func(w io.Writer, r io.Reader) {
		io.WriteString(w, "x")
		readTo(b, r, "x")
		io.WriteString(w, "\x7f")
		readTo(b, r, "\b \b")
	}
	key(ww, wr) // warm up both paths
	key(sw, sr)
	var browser, gateway time.Duration
	for b.Loop() {
		start := time.Now()
		key(ww, wr)
		browser += time.Since(start)
		start = time.Now()
		key(sw, sr)
		gateway += time.Since(start)
	}
	n := float64(2 * b.N)
	b.ReportMetric(float64(browser.Microseconds())/n, "browser-µs")
	b.ReportMetric(float64(gateway.Microseconds())/n, "ssh-µs")
	b.ReportMetric(float64((browser-gateway).Microseconds())/n, "added-µs")
}
