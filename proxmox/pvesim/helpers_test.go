package pvesim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Test tokens: an admin token, the demo Corral token, and a fresh
// privilege-separated token without ACLs.
var (
	adminToken = TokenSpec{User: "root@pam", ID: "admin", Secret: "11111111-2222-3333-4444-555555555555"}
	emptyToken = TokenSpec{User: "root@pam", ID: "empty", Secret: "99999999-2222-3333-4444-555555555555", Privsep: true}
	corralTok  = TokenSpec{User: "corral@pve", ID: "corral", Secret: DemoTokenSecret, Privsep: true, Privileges: CorralACL()}
)

func authHeader(t TokenSpec) string { return "PVEAPIToken=" + t.FullID() + "=" + t.Secret }

// testOptions is a two-node cluster "homelab" (pve, pve2) plus standalone
// "solo", with a few guests, fast tasks and the three test tokens.
func testOptions() Options {
	return Options{
		Clusters:     []ClusterSpec{{Name: "homelab", Nodes: []string{"pve", "pve2"}}},
		Standalone:   []string{"solo"},
		Seed:         7,
		TaskDuration: 20 * time.Millisecond,
		Tokens:       []TokenSpec{adminToken, emptyToken, corralTok},
		Guests: []GuestSpec{
			{Node: "pve", VMID: 105, Name: "mqtt", Running: true, Cores: 2, MemoryMiB: 2048, Tags: "mqtt;iot"},
			{Node: "pve", VMID: 110, Name: "web", Running: false, Net0: "name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1"},
			{Node: "pve", VMID: 900, Name: "debian-base", Template: true},
			{Node: "pve2", VMID: 200, Type: QEMU, Name: "win11", Cores: 4, MemoryMiB: 8192, DiskGiB: 64},
			{Node: "pve2", VMID: 120, Name: "db", Running: true},
			{Node: "solo", VMID: 100, Name: "backup", Running: true},
		},
	}
}

func newTestSim(t *testing.T) *Sim {
	t.Helper()
	opts := testOptions()
	opts.Dir = t.TempDir()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pinnedClient trusts exactly the node's current certificate fingerprint,
// the way Corral pins it.
func pinnedClient(fingerprint string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				if got := Fingerprint(cs.PeerCertificates[0].Raw); got != fingerprint {
					return fmt.Errorf("fingerprint mismatch: %s", got)
				}
				return nil
			},
		},
	}}
}

// resp is a decoded answer.
type resp struct {
	status int
	reason string
	raw    []byte
	body   map[string]any
}

func (r resp) data() any { return r.body["data"] }

func (r resp) dataMap(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.data().(map[string]any)
	if !ok {
		t.Fatalf("data is %T, want object: %s", r.data(), r.raw)
	}
	return m
}

func (r resp) dataList(t *testing.T) []any {
	t.Helper()
	l, ok := r.data().([]any)
	if !ok {
		t.Fatalf("data is %T, want array: %s", r.data(), r.raw)
	}
	return l
}

// call does one API request as tok against node n.
func call(t *testing.T, n *Node, tok TokenSpec, method, path string, form url.Values) resp {
	t.Helper()
	r, err := tryCall(t.Context(), n, authHeader(tok), method, path, form)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func tryCall(ctx context.Context, n *Node, auth, method, path string, form url.Values) (resp, error) {
	var body io.Reader
	target := n.APIURL() + path
	if form != nil {
		if method == http.MethodPost || method == http.MethodPut {
			body = strings.NewReader(form.Encode())
		} else {
			target += "?" + form.Encode()
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return resp{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	hr, err := pinnedClient(n.Fingerprint()).Do(req)
	if err != nil {
		return resp{}, err
	}
	defer hr.Body.Close()
	raw, err := io.ReadAll(hr.Body)
	if err != nil {
		return resp{}, err
	}
	r := resp{status: hr.StatusCode, reason: strings.TrimSpace(hr.Status[3:]), raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			return resp{}, fmt.Errorf("decode %q: %w", raw, err)
		}
	}
	return r, nil
}

func wantStatus(t *testing.T, r resp, status int, reason string) {
	t.Helper()
	if r.status != status || (reason != "" && r.reason != reason) {
		t.Fatalf("got %d %q (%s), want %d %q", r.status, r.reason, r.raw, status, reason)
	}
}

// waitTask polls a task until it stops and returns its final status object.
func waitTask(t *testing.T, n *Node, tok TokenSpec, upid string) map[string]any {
	t.Helper()
	path := "/nodes/" + n.Name() + "/tasks/" + url.PathEscape(upid) + "/status"
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		r := call(t, n, tok, http.MethodGet, path, nil)
		wantStatus(t, r, 200, "")
		st := r.dataMap(t)
		if st["status"] == "stopped" {
			return st
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatal("task did not finish")
		}
	}
}

func upidOf(t *testing.T, r resp) string {
	t.Helper()
	wantStatus(t, r, 200, "")
	s, ok := r.data().(string)
	if !ok || !upidRe.MatchString(s) {
		t.Fatalf("not a UPID: %s", r.raw)
	}
	return s
}

func leafOf(t *testing.T, n *Node) *x509.Certificate {
	t.Helper()
	return n.Certificate().Leaf
}
