package pvesim

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	path := "/cluster/resources"

	t.Run("Status500Once", func(t *testing.T) {
		n.Faults().Set(Fault{Path: path, Kind: FaultStatus, Status: 500, Message: "pvestatd is down", Times: 1})
		r := call(t, n, adminToken, http.MethodGet, path, nil)
		wantStatus(t, r, 500, "pvestatd is down")
		if r.body["message"] != "pvestatd is down\n" {
			t.Fatalf("body = %s", r.raw)
		}
		wantStatus(t, call(t, n, adminToken, http.MethodGet, path, nil), 200, "")
		if n.Faults().Hits(path) != 1 {
			t.Fatalf("hits = %d", n.Faults().Hits(path))
		}
	})
	t.Run("596", func(t *testing.T) {
		n.Faults().Set(Fault{Path: "/nodes/pve2/*", Kind: FaultStatus, Status: 596, Times: 1})
		r := call(t, n, adminToken, http.MethodGet, "/nodes/pve2/lxc", nil)
		wantStatus(t, r, 596, "Connection timed out")
		if len(r.raw) != 0 {
			t.Fatalf("596 body = %q", r.raw)
		}
	})
	t.Run("MethodFilter", func(t *testing.T) {
		n.Faults().Set(Fault{Path: "*", Method: http.MethodPost, Kind: FaultStatus, Status: 503, Times: 1})
		wantStatus(t, call(t, n, adminToken, http.MethodGet, "/version", nil), 200, "")
		wantStatus(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/110/status/start", nil), 503, "Service Unavailable")
		s.WaitTasks()
	})
	t.Run("Latency", func(t *testing.T) {
		n.Faults().Set(Fault{Path: "/version", Kind: FaultLatency, Delay: time.Hour, Times: 1})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := tryCall(ctx, n, authHeader(adminToken), http.MethodGet, "/version", nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want deadline exceeded", err)
		}
		n.Faults().Clear()
		n.Faults().Set(Fault{Path: "/version", Kind: FaultLatency, Delay: time.Millisecond, Times: 1})
		wantStatus(t, call(t, n, adminToken, http.MethodGet, "/version", nil), 200, "")
	})
	t.Run("Hang", func(t *testing.T) {
		n.Faults().Set(Fault{Path: "/version", Kind: FaultHang, Times: 1})
		// The client gives up once the node holds the request. A fixed 50ms
		// deadline could run out in the TLS handshake on a busy machine and
		// leave the fault for the next call, which then hung.
		before := n.Faults().Hits("/version")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() {
			for n.Faults().Hits("/version") == before {
				select {
				case <-ctx.Done():
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
			cancel()
		}()
		_, err := tryCall(ctx, n, authHeader(adminToken), http.MethodGet, "/version", nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want the client's cancel", err)
		}
		wantStatus(t, call(t, n, adminToken, http.MethodGet, "/version", nil), 200, "")
	})
	t.Run("Drop", func(t *testing.T) {
		n.Faults().Set(Fault{Path: "/version", Kind: FaultDrop, Times: 1})
		if _, err := tryCall(t.Context(), n, authHeader(adminToken), http.MethodGet, "/version", nil); err == nil {
			t.Fatal("dropped connection gave no error")
		}
		wantStatus(t, call(t, n, adminToken, http.MethodGet, "/version", nil), 200, "")
	})
	t.Run("RotateCertificate", func(t *testing.T) {
		old := n.Fingerprint()
		if err := n.RotateCertificate(); err != nil {
			t.Fatal(err)
		}
		if n.Fingerprint() == old {
			t.Fatal("fingerprint unchanged")
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, n.APIURL()+"/version", nil)
		if _, err := pinnedClient(old).Do(req); err == nil {
			t.Fatal("client pinned to the old certificate still connected")
		}
		wantStatus(t, call(t, n, adminToken, http.MethodGet, "/version", nil), 200, "")
	})
	t.Run("RotateHostKey", func(t *testing.T) {
		old := n.SSHHostKey().Marshal()
		if err := n.RotateHostKey(); err != nil {
			t.Fatal(err)
		}
		if string(n.SSHHostKey().Marshal()) == string(old) {
			t.Fatal("host key unchanged")
		}
	})
}

func TestSetDown(t *testing.T) {
	s := newTestSim(t)
	pve, pve2 := s.Node("pve"), s.Node("pve2")
	addr := pve2.Addr()
	if err := pve2.SetDown(true); err != nil {
		t.Fatal(err)
	}
	if _, err := tryCall(t.Context(), pve2, authHeader(adminToken), http.MethodGet, "/version", nil); err == nil {
		t.Fatal("down node answered")
	}
	wantStatus(t, call(t, pve, adminToken, http.MethodGet, "/nodes/pve2/lxc", nil), 595, "Connection refused")

	for _, row := range call(t, pve, adminToken, http.MethodGet, "/nodes", nil).dataList(t) {
		m := row.(map[string]any)
		if m["node"] == "pve2" {
			if _, hasCPU := m["cpu"]; m["status"] != "offline" || hasCPU {
				t.Fatalf("offline row = %v", m)
			}
		}
	}
	for _, row := range call(t, pve, adminToken, http.MethodGet, "/cluster/resources", url.Values{"type": {"vm"}}).dataList(t) {
		m := row.(map[string]any)
		if m["node"] == "pve2" && m["status"] != "unknown" {
			t.Fatalf("guest of offline node = %v", m)
		}
	}

	if err := pve2.SetDown(false); err != nil {
		t.Fatal(err)
	}
	if pve2.Addr() != addr {
		t.Fatalf("address changed: %s → %s", addr, pve2.Addr())
	}
	wantStatus(t, call(t, pve2, adminToken, http.MethodGet, "/version", nil), 200, "")
}

func TestProxy(t *testing.T) {
	s := newTestSim(t)
	pve, pve2 := s.Node("pve"), s.Node("pve2")
	t.Run("OtherNodeAnswersViaEntry", func(t *testing.T) {
		direct := call(t, pve2, adminToken, http.MethodGet, "/nodes/pve2/lxc/120/config", nil)
		via := call(t, pve, adminToken, http.MethodGet, "/nodes/pve2/lxc/120/config", nil)
		if string(direct.raw) != string(via.raw) {
			t.Fatalf("direct %s != proxied %s", direct.raw, via.raw)
		}
	})
	t.Run("ErrorsKeepReason", func(t *testing.T) {
		wantStatus(t, call(t, pve, adminToken, http.MethodGet, "/nodes/pve2/lxc/105/config", nil), 500,
			"Configuration file 'nodes/pve2/lxc/105.conf' does not exist")
	})
	t.Run("TargetFaultsApply", func(t *testing.T) {
		pve2.Faults().Set(Fault{Path: "/nodes/pve2/lxc", Kind: FaultStatus, Status: 502, Times: 1})
		wantStatus(t, call(t, pve, adminToken, http.MethodGet, "/nodes/pve2/lxc", nil), 502, "Bad Gateway")
	})
	t.Run("PostProxied", func(t *testing.T) {
		upid := upidOf(t, call(t, pve, adminToken, http.MethodPost, "/nodes/pve2/lxc/120/status/stop", nil))
		st := waitTask(t, pve2, adminToken, upid)
		if st["node"] != "pve2" || st["exitstatus"] != "OK" {
			t.Fatalf("task = %v", st)
		}
	})
	t.Run("UnknownNode", func(t *testing.T) {
		wantStatus(t, call(t, pve, adminToken, http.MethodGet, "/nodes/solo/lxc", nil), 500,
			"hostname lookup 'solo' failed - failed to get address info for: solo: Name or service not known")
	})
}
