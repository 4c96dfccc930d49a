package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// With --metrics, /metrics answers the token's holder with what the
// dashboard cost: its route's latency and the Proxmox requests it made.
func TestDemoMetrics(t *testing.T) {
	const token = "metrics-token-for-the-test"
	d := demoStartEnv(t, map[string]string{"CORRAL_METRICS_TOKEN": token}, "--metrics")
	if res, err := d.hc.Get(d.base + "/containers"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	// The wizard's VMID field: the first check reads the cluster, the
	// second finds the cache filled.
	res, err := d.hc.Get(d.base + "/settings/nodes")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	tok, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	edit, _ := doc.Find(`[data-testid="node-edit"]`).First().Attr("href")
	nodeID, ok := strings.CutPrefix(edit, "/settings/nodes/")
	if !ok || nodeID == "" {
		t.Fatalf("no node on /settings/nodes (edit link %q)", edit)
	}
	for _, vmid := range []string{"900", "901"} {
		res, err := d.hc.PostForm(d.base+"/containers/vmid", url.Values{"_csrf": {tok}, "node_id": {nodeID}, "vmid": {vmid}})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("vmid check: %v %v", res, err)
		}
		res.Body.Close()
	}
	scrape := func(bearer string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, d.base+"/metrics", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		// A plain client: the signed-in session must not be what opens it.
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := scrape(""); code != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", code)
	}
	code, body := scrape(token)
	if code != http.StatusOK {
		t.Fatalf("with the token: %d", code)
	}
	for _, want := range []string{
		`corral_http_request_duration_seconds_count{code="200",method="GET",route="/containers"} `,
		`corral_proxmox_requests_total{endpoint="/cluster/resources",method="GET",status="200"}`,
		`process_resident_memory_bytes`,
		`corral_sessions{door="ssh"} 0`,
		`corral_sessions{door="console"} 0`,
		`corral_vmid_lookups_total{result="hit"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(body, token) {
		t.Error("the metrics echo the token")
	}
}

// Without --metrics there is no /metrics, whatever the token.
func TestServeWithoutMetrics(t *testing.T) {
	addr, stop := startServe(t, t.TempDir())
	defer stop()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer anything-at-all-here")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusOK || strings.Contains(string(body), "# HELP") {
		t.Fatalf("/metrics answered %d without --metrics:\n%s", res.StatusCode, body)
	}
}
