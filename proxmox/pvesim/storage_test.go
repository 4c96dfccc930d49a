package pvesim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestStorage(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	t.Run("ContentFilter", func(t *testing.T) {
		rows := call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage", url.Values{"content": {"rootdir"}}).dataList(t)
		if len(rows) != 1 || rows[0].(map[string]any)["storage"] != "local-lvm" {
			t.Fatalf("rootdir storages = %v", rows)
		}
	})
	t.Run("UnknownStorageFilter", func(t *testing.T) {
		r := call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage", url.Values{"storage": {"tank"}})
		wantStatus(t, r, 400, "Parameter verification failed.")
	})
	t.Run("Templates", func(t *testing.T) {
		rows := call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage/local/content", url.Values{"content": {"vztmpl"}}).dataList(t)
		if len(rows) != len(DefaultTemplates) {
			t.Fatalf("templates = %v", rows)
		}
		first := rows[0].(map[string]any)
		if first["volid"] != "local:vztmpl/"+DefaultTemplates[0] || first["format"] != "tzst" {
			t.Fatalf("first = %v", first)
		}
	})
	t.Run("WrongContentIsEmpty", func(t *testing.T) {
		rows := call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage/local-lvm/content", url.Values{"content": {"vztmpl"}}).dataList(t)
		if len(rows) != 0 {
			t.Fatalf("rows = %v", rows)
		}
	})
	t.Run("UnknownStorage", func(t *testing.T) {
		wantStatus(t, call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage/tank/content", nil), 500, "storage 'tank' does not exist")
	})
	t.Run("ContainerDisks", func(t *testing.T) {
		rows := call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage/local-lvm/content", nil).dataList(t)
		if len(rows) != 3 || rows[0].(map[string]any)["volid"] != "local-lvm:vm-105-disk-0" {
			t.Fatalf("disks = %v", rows)
		}
	})
	t.Run("NoAudit403", func(t *testing.T) {
		wantStatus(t, call(t, n, emptyToken, http.MethodGet, "/nodes/pve/storage/local/content", nil), 403,
			"Permission check failed (/storage/local, Datastore.Audit|Datastore.AllocateSpace)")
	})
}

func TestAplinfo(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	rows := call(t, n, corralTok, http.MethodGet, "/nodes/pve/aplinfo", nil).dataList(t)
	if len(rows) < 5 {
		t.Fatalf("catalogue = %d rows", len(rows))
	}
	for _, r := range rows {
		for k, v := range r.(map[string]any) {
			if _, ok := v.(string); !ok {
				t.Fatalf("%s is %T, aplinfo values are strings", k, v)
			}
		}
	}
	file := "alpine-3.22-default_20250617_amd64.tar.xz"
	upid := upidOf(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {file}}))
	if !strings.Contains(upid, ":download:"+file+":") {
		t.Fatalf("upid = %s", upid)
	}
	if st := waitTask(t, n, corralTok, upid); st["exitstatus"] != "OK" {
		t.Fatalf("download = %v", st)
	}
	found := false
	for _, r := range call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage/local/content", url.Values{"content": {"vztmpl"}}).dataList(t) {
		m := r.(map[string]any)
		if m["volid"] == "local:vztmpl/"+file {
			found = m["format"] == "txz"
		}
	}
	if !found {
		t.Fatal("downloaded template not in storage content")
	}
	// Storages are per node: pve2 did not get it.
	for _, r := range call(t, n, corralTok, http.MethodGet, "/nodes/pve2/storage/local/content", nil).dataList(t) {
		if r.(map[string]any)["volid"] == "local:vztmpl/"+file {
			t.Fatal("template appeared on another node")
		}
	}
	t.Run("Errors", func(t *testing.T) {
		wantStatus(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local-lvm"}, "template": {file}}),
			500, "storage 'local-lvm' does not support templates")
		wantStatus(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {"x.tar.gz"}}),
			500, "no such template 'x.tar.gz'")
		wantStatus(t, call(t, n, emptyToken, http.MethodPost, "/nodes/pve/aplinfo", url.Values{"storage": {"local"}, "template": {file}}),
			403, "Permission check failed (/storage/local, Datastore.AllocateTemplate)")
	})
}

func TestNetwork(t *testing.T) {
	s := newTestSim(t)
	rows := call(t, s.Node("pve"), corralTok, http.MethodGet, "/nodes/pve/network", url.Values{"type": {"any_bridge"}}).dataList(t)
	if len(rows) != 1 {
		t.Fatalf("bridges = %v", rows)
	}
	br := rows[0].(map[string]any)
	if br["iface"] != "vmbr0" || br["netmask"] != "24" || br["bridge_fd"] != "0" {
		t.Fatalf("bridge = %v", br)
	}
	all := call(t, s.Node("pve"), corralTok, http.MethodGet, "/nodes/pve/network", nil).dataList(t)
	if len(all) != 2 {
		t.Fatalf("all = %v", all)
	}
}

func TestJSONBody(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, n.APIURL()+"/nodes/pve/lxc",
		strings.NewReader(`{"vmid":161,"ostemplate":"local:vztmpl/`+DefaultTemplates[1]+`","rootfs":"local-lvm:4","start":true,"unprivileged":true}`))
	req.Header.Set("Authorization", authHeader(adminToken))
	req.Header.Set("Content-Type", "application/json")
	hr, err := pinnedClient(n.Fingerprint()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hr.Body.Close()
	if hr.StatusCode != 200 {
		t.Fatalf("JSON create = %s", hr.Status)
	}
	s.WaitTasks()
	if st, _ := n.GuestStatus(161); st != "running" {
		t.Fatalf("status = %q", st)
	}
	cfg := call(t, n, adminToken, http.MethodGet, "/nodes/pve/lxc/161/config", nil).dataMap(t)
	if cfg["ostype"] != "ubuntu" || cfg["hostname"] != "CT161" {
		t.Fatalf("config = %v", cfg)
	}
}

func TestDemo(t *testing.T) {
	opts := DemoOptions()
	opts.Dir = t.TempDir()
	opts.TaskDuration = -1
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok := TokenSpec{User: "corral@pve", ID: "corral", Secret: DemoTokenSecret}
	if tok.FullID() != DemoTokenID {
		t.Fatalf("demo token id %s", tok.FullID())
	}
	rows := call(t, s.Node("pve1"), tok, http.MethodGet, "/cluster/resources", url.Values{"type": {"vm"}}).dataList(t)
	running, stopped, qemu := 0, 0, 0
	for _, r := range rows {
		m := r.(map[string]any)
		if m["type"] == "qemu" {
			qemu++
		}
		switch m["status"] {
		case "running":
			running++
		case "stopped":
			stopped++
		}
	}
	if len(rows) != 6 || running == 0 || stopped == 0 || qemu == 0 {
		t.Fatalf("demo guests = %v", rows)
	}
	wantStatus(t, call(t, s.Node("pve-solo"), tok, http.MethodGet, "/cluster/status", nil), 200, "")
	if got := s.Nodes(); strings.Join(got, ",") != "pve1,pve2,pve3,pve-solo" {
		t.Fatalf("nodes = %v", got)
	}
}
