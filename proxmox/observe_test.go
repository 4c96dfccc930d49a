package proxmox

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestEndpoint(t *testing.T) {
	for path, want := range map[string]string{
		"/version":                           "/version",
		"/cluster/resources":                 "/cluster/resources",
		"/nodes":                             "/nodes",
		"/nodes/pve1/lxc":                    "/nodes/{node}/lxc",
		"/nodes/pve1/lxc/100/status/current": "/nodes/{node}/lxc/{vmid}/status/current",
		"/nodes/lxc/lxc/101/config":          "/nodes/{node}/lxc/{vmid}/config",
		"/nodes/pve1/lxc/100/snapshot/before/rollback":                    "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback",
		"/nodes/pve1/tasks/UPID:pve1:0001:vzdump:100:root%40pam:/status":  "/nodes/{node}/tasks/{upid}/status",
		"/nodes/pve1/storage/local/content/local:backup%2Fvzdump.tar.zst": "/nodes/{node}/storage/{storage}/content/{volume}",
	} {
		if got := Endpoint(path); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", path, got, want)
		}
	}
}

// The observer sees every attempt, retries included, with its status and
// the kind of failure.
func TestClient_Observer(t *testing.T) {
	f := newFakePVE(t)
	f.fixture("GET", "/nodes", "nodes.json")
	f.handle("GET", "/nodes/pve1/status", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	var mu sync.Mutex
	var seen []Request
	c := f.client(WithObserver(func(r Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
	}), WithRetry(Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}))
	if _, err := c.Nodes(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NodeStatus(t.Context(), "pve1"); err == nil {
		t.Fatal("want the 503 as an error")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 {
		t.Fatalf("observed %d requests, want 3: %+v", len(seen), seen)
	}
	if r := seen[0]; r.Method != "GET" || r.Path != "/nodes" || r.Status != 200 || r.Kind != KindUnknown || r.Host != c.Addr() {
		t.Errorf("first = %+v", r)
	}
	for _, r := range seen[1:] {
		if r.Path != "/nodes/pve1/status" || r.Status != 503 || r.Kind == KindUnknown {
			t.Errorf("retry = %+v", r)
		}
	}
}
