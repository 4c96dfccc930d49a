package pvesim

import (
	"net/http"
	"net/url"
	"testing"
)

func TestRequests_CountedByRouteWhereServed(t *testing.T) {
	s := threeNodeSim(t)
	pve1, pve2, solo := s.Node("pve1"), s.Node("pve2"), s.Node("solo")
	if pve1.Cluster() != "homelab" || solo.Cluster() != "" {
		t.Fatalf("Cluster() = %q, %q", pve1.Cluster(), solo.Cluster())
	}
	get := http.MethodGet
	for range 2 {
		wantStatus(t, call(t, pve1, corralTok, get, "/cluster/resources", url.Values{"type": {"vm"}}), 200, "")
	}
	wantStatus(t, call(t, pve2, corralTok, get, "/cluster/resources", nil), 200, "")
	wantStatus(t, call(t, pve2, corralTok, get, "/cluster/resources", url.Values{"type": {"lxc"}}), 400, "")
	wantStatus(t, call(t, solo, corralTok, get, "/cluster/resources", nil), 200, "")
	if a, b, c := pve1.Requests(get, "/cluster/resources"), pve2.Requests(get, "/cluster/resources"), s.Node("pve3").Requests(get, "/cluster/resources"); a != 2 || b != 2 || c != 0 {
		t.Fatalf("per node: pve1 %d, pve2 %d, pve3 %d", a, b, c)
	}
	if got := s.Node("pve3").ClusterRequests(get, "/cluster/resources"); got != 4 {
		t.Fatalf("cluster total %d, want 4", got)
	}
	if got := solo.ClusterRequests(get, "/cluster/resources"); got != 1 {
		t.Fatalf("standalone total %d, want 1", got)
	}

	// A forwarded request counts on the member that serves it.
	const status = "/nodes/{node}/lxc/{vmid}/status/current"
	wantStatus(t, call(t, pve1, corralTok, get, "/nodes/pve2/lxc/101/status/current", nil), 200, "")
	if a, b := pve1.Requests(get, status), pve2.Requests(get, status); a != 0 || b != 1 {
		t.Fatalf("forwarded status: pve1 %d, pve2 %d", a, b)
	}
	if got := pve1.Requests(http.MethodPost, "/cluster/resources"); got != 0 {
		t.Fatalf("method ignored: %d", got)
	}
}
