package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"corral/handlers/metrics"
	"corral/proxmox"
	"corral/store"
)

const token = "s3cret-metrics-token-of-some-length"

func serve(t *testing.T, src metrics.Sources) (*metrics.Metrics, *httptest.Server) {
	t.Helper()
	m := metrics.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.SetSources(src)
	e := echo.New()
	e.Use(m.Middleware())
	e.GET("/metrics", m.Handler(token))
	e.GET("/containers/:node/:vmid", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/boom", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot) })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return m, srv
}

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestMetrics_Token(t *testing.T) {
	_, srv := serve(t, metrics.Sources{})
	for _, bearer := range []string{"", "wrong", token + "x", strings.ToUpper(token)} {
		code, body := get(t, srv.URL+"/metrics", bearer)
		if code != http.StatusUnauthorized || strings.Contains(body, "corral_") {
			t.Errorf("bearer %q: %d %q", bearer, code, body)
		}
	}
	if code, body := get(t, srv.URL+"/metrics", token); code != http.StatusOK || !strings.Contains(body, "process_resident_memory_bytes") {
		t.Fatalf("with the token: %d\n%s", code, body)
	}
}

// An empty configured token never matches an empty or missing header.
func TestMetrics_EmptyTokenRefusesAll(t *testing.T) {
	m := metrics.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := echo.New()
	e.GET("/metrics", m.Handler(""))
	srv := httptest.NewServer(e)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer ")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("empty token: %d", res.StatusCode)
	}
}

func TestMetrics_Series(t *testing.T) {
	src := metrics.Sources{
		Sessions: func() map[string]int { return map[string]int{"ssh": 2, "console": 1} },
		Jobs: func(context.Context) (map[store.JobState]int, error) {
			return map[store.JobState]int{store.JobDone: 7, store.JobRunning: 1}, nil
		},
	}
	m, srv := serve(t, src)
	get(t, srv.URL+"/containers/pve1/100", "")
	get(t, srv.URL+"/containers/pve2/101", "")
	get(t, srv.URL+"/boom", "")
	get(t, srv.URL+"/nowhere", "")
	m.ObserveProxmox(proxmox.Request{Method: "GET", Path: "/nodes/pve1/lxc/100/status/current", Status: 200, Duration: time.Millisecond})
	m.ObserveProxmox(proxmox.Request{Method: "GET", Path: "/nodes/pve2/lxc/101/status/current", Status: 200, Duration: time.Millisecond})
	m.ObserveProxmox(proxmox.Request{Method: "GET", Path: "/cluster/resources", Kind: proxmox.KindTimeout, Duration: time.Second})
	m.VMIDLookup(true)
	m.VMIDLookup(true)
	m.VMIDLookup(false)
	m.VMIDRefresh(50*time.Millisecond, nil)
	m.VMIDRefresh(time.Second, errors.New("down"))

	_, body := get(t, srv.URL+"/metrics", token)
	for _, want := range []string{
		`corral_http_request_duration_seconds_count{code="200",method="GET",route="/containers/:node/:vmid"} 2`,
		`corral_http_request_duration_seconds_count{code="418",method="GET",route="/boom"} 1`,
		`corral_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`,
		`corral_proxmox_requests_total{endpoint="/nodes/{node}/lxc/{vmid}/status/current",method="GET",status="200"} 2`,
		`corral_proxmox_requests_total{endpoint="/cluster/resources",method="GET",status="timeout"} 1`,
		`corral_vmid_lookups_total{result="hit"} 2`,
		`corral_vmid_lookups_total{result="miss"} 1`,
		`corral_vmid_refresh_duration_seconds_count{result="error"} 1`,
		`corral_sessions{door="console"} 1`,
		`corral_sessions{door="ssh"} 2`,
		`corral_jobs{state="done"} 7`,
		`corral_jobs{state="running"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	// Series are per route and endpoint, never per container.
	for _, leak := range []string{"pve1/100", "/lxc/101", `node="pve2"`} {
		if strings.Contains(body, leak) {
			t.Errorf("a series names one container: %s", leak)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}
