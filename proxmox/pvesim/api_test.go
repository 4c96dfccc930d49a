package pvesim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAPI_Version(t *testing.T) {
	s := newTestSim(t)
	r := call(t, s.Node("pve"), adminToken, http.MethodGet, "/version", nil)
	wantStatus(t, r, 200, "")
	d := r.dataMap(t)
	if d["version"] != "9.0.6" || d["release"] != "9.0" || len(d["repoid"].(string)) != 16 {
		t.Fatalf("version = %v", d)
	}
}

func TestAPI_Auth(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	t.Run("NoHeader", func(t *testing.T) {
		r, err := tryCall(t.Context(), n, "", http.MethodGet, "/version", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, r, 401, "No ticket")
	})
	for name, hdr := range map[string]string{
		"WrongSecret":  "PVEAPIToken=root@pam!admin=wrong",
		"UnknownToken": "PVEAPIToken=root@pam!nope=" + adminToken.Secret,
		"NoBang":       "PVEAPIToken=root@pam=" + adminToken.Secret,
	} {
		t.Run(name, func(t *testing.T) {
			r, err := tryCall(t.Context(), n, hdr, http.MethodGet, "/version", nil)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus(t, r, 401, "Authentication failed!")
			if len(r.raw) != 0 {
				t.Fatalf("401 body = %q, want empty", r.raw)
			}
		})
	}
	t.Run("SpaceSeparatorAndEscapes", func(t *testing.T) {
		hdr := "PVEAPIToken root%40pam%21admin=" + adminToken.Secret
		r, err := tryCall(t.Context(), n, hdr, http.MethodGet, "/version", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, r, 200, "")
	})
	t.Run("Revoked", func(t *testing.T) {
		s.RemoveToken(corralTok.FullID())
		t.Cleanup(func() { s.AddToken(corralTok) })
		r := call(t, n, corralTok, http.MethodGet, "/version", nil)
		wantStatus(t, r, 401, "Authentication failed!")
	})
}

func TestAPI_PrivilegeSeparation(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	t.Run("VersionWorksWithoutACL", func(t *testing.T) {
		wantStatus(t, call(t, n, emptyToken, http.MethodGet, "/version", nil), 200, "")
	})
	t.Run("ClusterStatus403", func(t *testing.T) {
		r := call(t, n, emptyToken, http.MethodGet, "/cluster/status", nil)
		wantStatus(t, r, 403, "Permission check failed (/, Sys.Audit)")
		if r.body["message"] != "Permission check failed (/, Sys.Audit)\n" {
			t.Fatalf("message = %q", r.body["message"])
		}
	})
	t.Run("ListsFilteredEmpty", func(t *testing.T) {
		for _, p := range []string{"/nodes/pve/lxc", "/cluster/resources?type=vm", "/nodes/pve/storage"} {
			path, q, _ := strings.Cut(p, "?")
			form, _ := url.ParseQuery(q)
			r := call(t, n, emptyToken, http.MethodGet, path, form)
			wantStatus(t, r, 200, "")
			if l := r.dataList(t); len(l) != 0 {
				t.Fatalf("%s: %d rows for a token without ACLs", p, len(l))
			}
		}
	})
	t.Run("NodesWithoutMetrics", func(t *testing.T) {
		r := call(t, n, emptyToken, http.MethodGet, "/nodes", nil)
		for _, row := range r.dataList(t) {
			m := row.(map[string]any)
			if _, ok := m["cpu"]; ok {
				t.Fatalf("metrics visible without Sys.Audit: %v", m)
			}
			if m["ssl_fingerprint"] == "" {
				t.Fatal("fingerprint missing")
			}
		}
	})
	t.Run("StatusCurrent403", func(t *testing.T) {
		r := call(t, n, emptyToken, http.MethodGet, "/nodes/pve/lxc/105/status/current", nil)
		wantStatus(t, r, 403, "Permission check failed (/vms/105, VM.Audit)")
	})
	t.Run("NodeStatus403", func(t *testing.T) {
		r := call(t, n, emptyToken, http.MethodGet, "/nodes/pve/status", nil)
		wantStatus(t, r, 403, "Permission check failed (/nodes/pve, Sys.Audit)")
	})
	t.Run("PermissionsEmpty", func(t *testing.T) {
		r := call(t, n, emptyToken, http.MethodGet, "/access/permissions", nil)
		if len(r.dataMap(t)) != 0 {
			t.Fatalf("permissions = %s", r.raw)
		}
	})
	t.Run("PermissionsCorral", func(t *testing.T) {
		r := call(t, n, corralTok, http.MethodGet, "/access/permissions", nil)
		root, _ := r.dataMap(t)["/"].(map[string]any)
		for _, p := range CorralPrivileges {
			if root[p] != float64(1) {
				t.Fatalf("privilege %s = %v in %s", p, root[p], r.raw)
			}
		}
		if _, ok := root["Sys.Modify"]; ok {
			t.Fatal("Corral token has Sys.Modify")
		}
	})
	t.Run("PermissionsForPath", func(t *testing.T) {
		r := call(t, n, corralTok, http.MethodGet, "/access/permissions", url.Values{"path": {"/vms/105"}})
		m, _ := r.dataMap(t)["/vms/105"].(map[string]any)
		if m["VM.Audit"] != float64(1) {
			t.Fatalf("inherited privilege missing: %s", r.raw)
		}
	})
	t.Run("RootWithoutPrivsepHasAll", func(t *testing.T) {
		r := call(t, n, adminToken, http.MethodGet, "/access/permissions", nil)
		root, _ := r.dataMap(t)["/"].(map[string]any)
		if root["Sys.Modify"] != float64(1) {
			t.Fatalf("root token lacks Sys.Modify: %s", r.raw)
		}
	})
}

func TestAPI_ClusterStatus(t *testing.T) {
	s := newTestSim(t)
	t.Run("Cluster", func(t *testing.T) {
		rows := call(t, s.Node("pve2"), adminToken, http.MethodGet, "/cluster/status", nil).dataList(t)
		if len(rows) != 3 {
			t.Fatalf("rows = %v", rows)
		}
		c := rows[0].(map[string]any)
		if c["type"] != "cluster" || c["name"] != "homelab" || c["nodes"] != float64(2) || c["quorate"] != float64(1) {
			t.Fatalf("cluster row = %v", c)
		}
		for _, row := range rows[1:] {
			m := row.(map[string]any)
			wantLocal := float64(b2i(m["name"] == "pve2"))
			if m["local"] != wantLocal || m["online"] != float64(1) {
				t.Fatalf("node row = %v", m)
			}
		}
	})
	t.Run("Standalone", func(t *testing.T) {
		rows := call(t, s.Node("solo"), adminToken, http.MethodGet, "/cluster/status", nil).dataList(t)
		if len(rows) != 1 || rows[0].(map[string]any)["type"] != "node" {
			t.Fatalf("standalone rows = %v", rows)
		}
	})
}

func TestAPI_ClusterResources(t *testing.T) {
	s := newTestSim(t)
	rows := call(t, s.Node("pve"), adminToken, http.MethodGet, "/cluster/resources", url.Values{"type": {"vm"}}).dataList(t)
	var ids []string
	for _, row := range rows {
		m := row.(map[string]any)
		ids = append(ids, m["id"].(string))
		if _, ok := m["vmid"].(float64); !ok {
			t.Fatalf("vmid not a number: %v", m)
		}
	}
	// String order of vmid; QEMU and LXC share the list; other estates absent.
	want := "lxc/105,lxc/110,lxc/120,qemu/200,lxc/900"
	if got := strings.Join(ids, ","); got != want {
		t.Fatalf("ids = %s, want %s", got, want)
	}
	t.Run("BadType", func(t *testing.T) {
		r := call(t, s.Node("pve"), adminToken, http.MethodGet, "/cluster/resources", url.Values{"type": {"lxc"}})
		wantStatus(t, r, 400, "Parameter verification failed.")
		errs := r.body["errors"].(map[string]any)
		if !strings.HasPrefix(errs["type"].(string), "value 'lxc' does not have a value in the enumeration") {
			t.Fatalf("errors = %v", errs)
		}
	})
	t.Run("AllTypes", func(t *testing.T) {
		rows := call(t, s.Node("pve"), adminToken, http.MethodGet, "/cluster/resources", nil).dataList(t)
		kinds := map[string]int{}
		for _, row := range rows {
			kinds[row.(map[string]any)["type"].(string)]++
		}
		if kinds["node"] != 2 || kinds["storage"] != 4 || kinds["lxc"] != 4 || kinds["qemu"] != 1 {
			t.Fatalf("kinds = %v", kinds)
		}
	})
}

func TestAPI_NextID(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	r := call(t, n, adminToken, http.MethodGet, "/cluster/nextid", nil)
	if r.data() != "100" {
		t.Fatalf("nextid = %s", r.raw)
	}
	r = call(t, s.Node("solo"), adminToken, http.MethodGet, "/cluster/nextid", nil)
	if r.data() != "101" {
		t.Fatalf("solo nextid = %s (100 is used there)", r.raw)
	}
	r = call(t, n, adminToken, http.MethodGet, "/cluster/nextid", url.Values{"vmid": {"150"}})
	if r.data() != "150" {
		t.Fatalf("free vmid = %s", r.raw)
	}
	r = call(t, n, adminToken, http.MethodGet, "/cluster/nextid", url.Values{"vmid": {"200"}})
	wantStatus(t, r, 400, "Parameter verification failed.")
	if r.body["errors"].(map[string]any)["vmid"] != "VM 200 already exists" {
		t.Fatalf("errors = %s", r.raw)
	}
	for v, msg := range map[string]string{
		"abc": "type check ('integer') failed - got 'abc'",
		"99":  "invalid format - value does not look like a valid VM ID\n",
	} {
		r = call(t, n, adminToken, http.MethodGet, "/cluster/nextid", url.Values{"vmid": {v}})
		wantStatus(t, r, 400, "Parameter verification failed.")
		if got := r.body["errors"].(map[string]any)["vmid"]; got != msg {
			t.Fatalf("vmid=%s: %q, want %q", v, got, msg)
		}
	}
}

func TestAPI_Nodes(t *testing.T) {
	s := newTestSim(t)
	rows := call(t, s.Node("pve"), adminToken, http.MethodGet, "/nodes", nil).dataList(t)
	if len(rows) != 2 {
		t.Fatalf("rows = %v", rows)
	}
	for _, row := range rows {
		m := row.(map[string]any)
		n := s.Node(m["node"].(string))
		if m["ssl_fingerprint"] != n.Fingerprint() || len(n.Fingerprint()) != 95 || strings.ToUpper(n.Fingerprint()) != n.Fingerprint() {
			t.Fatalf("fingerprint %v vs %s", m["ssl_fingerprint"], n.Fingerprint())
		}
		if _, ok := m["cpu"].(float64); !ok || m["status"] != "online" {
			t.Fatalf("row = %v", m)
		}
	}
	st := call(t, s.Node("pve"), adminToken, http.MethodGet, "/nodes/pve/status", nil).dataMap(t)
	if _, ok := st["loadavg"].([]any)[0].(string); !ok {
		t.Fatalf("loadavg items must be strings: %v", st["loadavg"])
	}
	if _, ok := st["cpuinfo"].(map[string]any)["mhz"].(string); !ok {
		t.Fatal("cpuinfo.mhz must be a string")
	}
}

func TestAPI_Certificate(t *testing.T) {
	s := newTestSim(t)
	leaf := leafOf(t, s.Node("pve"))
	if leaf.Subject.CommonName != "pve.pvesim.internal" || leaf.Subject.OrganizationalUnit[0] != "PVE Cluster Node" ||
		leaf.Subject.Organization[0] != "Proxmox Virtual Environment" {
		t.Fatalf("subject = %v", leaf.Subject)
	}
	if leaf.Issuer.Organization[0] != "PVE Cluster Manager CA" {
		t.Fatalf("issuer = %v", leaf.Issuer)
	}
	if s.Node("pve").Fingerprint() == s.Node("pve2").Fingerprint() {
		t.Fatal("nodes share a certificate")
	}
}

func TestAPI_RequestRules(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	t.Run("UnknownPath501", func(t *testing.T) {
		r := call(t, n, adminToken, http.MethodGet, "/nodes/pve/foo", nil)
		wantStatus(t, r, 501, "Method 'GET /nodes/pve/foo' not implemented")
	})
	t.Run("UnknownParam400", func(t *testing.T) {
		r := call(t, n, adminToken, http.MethodGet, "/version", url.Values{"x": {"1"}})
		wantStatus(t, r, 400, "Parameter verification failed.")
	})
	t.Run("DuplicateKeyIsArray", func(t *testing.T) {
		r := call(t, n, adminToken, http.MethodGet, "/cluster/resources", url.Values{"type": {"vm", "node"}})
		wantStatus(t, r, 400, "")
		if r.body["errors"].(map[string]any)["type"] != "type check ('string') failed - got ARRAY" {
			t.Fatalf("errors = %s", r.raw)
		}
	})
	t.Run("BodyOnDelete501", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, n.APIURL()+"/nodes/pve/lxc/110", strings.NewReader("purge=1"))
		req.Header.Set("Authorization", authHeader(adminToken))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hr, err := pinnedClient(n.Fingerprint()).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		hr.Body.Close()
		if hr.Status != "501 Unexpected content for method 'DELETE'" {
			t.Fatalf("status = %q", hr.Status)
		}
	})
	t.Run("Gzip", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, n.APIURL()+"/nodes/pve/aplinfo", nil)
		req.Header.Set("Authorization", authHeader(adminToken))
		req.Header.Set("Accept-Encoding", "gzip")
		hr, err := pinnedClient(n.Fingerprint()).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		hr.Body.Close()
		if hr.Header.Get("Content-Encoding") != "gzip" || hr.Header.Get("Server") != "pve-api-daemon/3.0" {
			t.Fatalf("headers = %v", hr.Header)
		}
	})
}
