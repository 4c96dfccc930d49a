package pvesim

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func createForm(vmid string) url.Values {
	return url.Values{
		"vmid": {vmid}, "ostemplate": {"local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst"},
		"hostname": {"app"}, "rootfs": {"local-lvm:8"}, "memory": {"1024"}, "cores": {"2"},
		"net0": {"name=eth0,bridge=vmbr0,ip=dhcp,firewall=yes"}, "password": {"secret1"},
		"unprivileged": {"1"}, "features": {"nesting=1"}, "tags": {"Web,db web"},
		"ssh-public-keys": {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk1lS3Ulu5ONZbQKRC9WzNFlQ9A5LHvbc0k9YIM0jIR a@b"},
	}
}

func TestLXC_Lifecycle(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	tok := corralTok

	upid := upidOf(t, call(t, n, tok, http.MethodPost, "/nodes/pve/lxc", createForm("130")))
	if !strings.Contains(upid, ":vzcreate:130:corral@pve!corral:") {
		t.Fatalf("upid = %s", upid)
	}

	// Right after the POST the CT exists, locked, with no statistics yet.
	cfg := call(t, n, tok, http.MethodGet, "/nodes/pve/lxc/130/config", nil).dataMap(t)
	running := call(t, n, tok, http.MethodGet, "/nodes/pve/tasks/"+url.PathEscape(upid)+"/status", nil).dataMap(t)
	if running["status"] == "running" && cfg["lock"] != "create" {
		t.Fatalf("config during create = %v", cfg)
	}
	if running["user"] != "corral@pve" || running["tokenid"] != "corral" || running["id"] != "130" {
		t.Fatalf("task status = %v", running)
	}

	st := waitTask(t, n, tok, upid)
	if st["exitstatus"] != "OK" {
		t.Fatalf("create task = %v", st)
	}
	log := call(t, n, tok, http.MethodGet, "/nodes/pve/tasks/"+url.PathEscape(upid)+"/log", url.Values{"limit": {"0"}})
	lines := log.dataList(t)
	last := lines[len(lines)-1].(map[string]any)
	if last["t"] != "TASK OK" || log.body["total"] != float64(len(lines)) || lines[0].(map[string]any)["n"] != float64(1) {
		t.Fatalf("log = %s", log.raw)
	}

	cfg = call(t, n, tok, http.MethodGet, "/nodes/pve/lxc/130/config", nil).dataMap(t)
	if _, locked := cfg["lock"]; locked || cfg["hostname"] != "app" || cfg["memory"] != float64(1024) ||
		cfg["tags"] != "db;web" || cfg["rootfs"] != "local-lvm:vm-130-disk-0,size=8G" || cfg["unprivileged"] != float64(1) {
		t.Fatalf("config = %v", cfg)
	}
	net0 := cfg["net0"].(string)
	if !strings.HasPrefix(net0, "name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:") || !strings.HasSuffix(net0, ",ip=dhcp,type=veth") {
		t.Fatalf("net0 = %s", net0)
	}
	if b, err := os.ReadFile(filepath.Join(n.ContainerDir(130), "root/.ssh/authorized_keys")); err != nil || !strings.HasPrefix(string(b), "ssh-ed25519 ") {
		t.Fatalf("authorized_keys: %q %v", b, err)
	}

	// stopped → interfaces null
	r := call(t, n, tok, http.MethodGet, "/nodes/pve/lxc/130/interfaces", nil)
	if r.data() != nil || r.status != 200 {
		t.Fatalf("interfaces of stopped CT = %s", r.raw)
	}

	st = waitTask(t, n, tok, upidOf(t, call(t, n, tok, http.MethodPost, "/nodes/pve/lxc/130/status/start", nil)))
	if st["exitstatus"] != "OK" {
		t.Fatalf("start = %v", st)
	}
	cur := call(t, n, tok, http.MethodGet, "/nodes/pve/lxc/130/status/current", nil).dataMap(t)
	if cur["status"] != "running" || cur["vmid"] != float64(130) || cur["pid"] == nil {
		t.Fatalf("status/current = %v", cur)
	}
	ifs := call(t, n, tok, http.MethodGet, "/nodes/pve/lxc/130/interfaces", nil).dataList(t)
	eth0 := ifs[1].(map[string]any)
	if eth0["name"] != "eth0" || !strings.HasPrefix(eth0["inet"].(string), "192.168.1.") {
		t.Fatalf("interfaces = %v", ifs)
	}

	wantStatus(t, call(t, n, tok, http.MethodPost, "/nodes/pve/lxc/130/status/start", nil), 500, "CT 130 already running")
	wantStatus(t, call(t, n, tok, http.MethodDelete, "/nodes/pve/lxc/130", nil), 500, "unable to destroy CT 130 - container is running")

	st = waitTask(t, n, tok, upidOf(t, call(t, n, tok, http.MethodPost, "/nodes/pve/lxc/130/status/shutdown", url.Values{"timeout": {"30"}})))
	if st["exitstatus"] != "OK" {
		t.Fatalf("shutdown = %v", st)
	}
	wantStatus(t, call(t, n, tok, http.MethodPost, "/nodes/pve/lxc/130/status/stop", nil), 500, "CT 130 not running")
	wantStatus(t, call(t, n, tok, http.MethodPost, "/nodes/pve/lxc/130/status/reboot", nil), 500, "VM 130 not running")

	dir := n.ContainerDir(130)
	st = waitTask(t, n, tok, upidOf(t, call(t, n, tok, http.MethodDelete, "/nodes/pve/lxc/130", url.Values{"purge": {"1"}, "destroy-unreferenced-disks": {"1"}})))
	if st["exitstatus"] != "OK" {
		t.Fatalf("delete = %v", st)
	}
	wantStatus(t, call(t, n, tok, http.MethodGet, "/nodes/pve/lxc/130/config", nil), 500, "Configuration file 'nodes/pve/lxc/130.conf' does not exist")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("container dir left behind: %v", err)
	}
	if call(t, n, tok, http.MethodGet, "/cluster/nextid", url.Values{"vmid": {"130"}}).data() != "130" {
		t.Fatal("vmid not free after delete")
	}
}

func TestLXC_CreateStartAndForceDelete(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve2")
	form := createForm("131")
	form.Set("start", "1")
	form.Set("net0", "name=eth0,bridge=vmbr0,ip=10.1.2.3/24,gw=10.1.2.1")
	waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve2/lxc", form)))
	s.WaitTasks() // the separate vzstart task
	cur := call(t, n, adminToken, http.MethodGet, "/nodes/pve2/lxc/131/status/current", nil).dataMap(t)
	if cur["status"] != "running" {
		t.Fatalf("start=1 did not start: %v", cur)
	}
	ifs := call(t, n, adminToken, http.MethodGet, "/nodes/pve2/lxc/131/interfaces", nil).dataList(t)
	if ifs[1].(map[string]any)["inet"] != "10.1.2.3/24" {
		t.Fatalf("static ip not reported: %v", ifs)
	}
	st := waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodDelete, "/nodes/pve2/lxc/131", url.Values{"force": {"1"}})))
	if st["exitstatus"] != "WARNINGS: 1" {
		t.Fatalf("force delete = %v", st)
	}
}

func TestLXC_CreateErrors(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	post := func(mod func(url.Values)) resp {
		f := createForm("140")
		mod(f)
		return call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc", f)
	}
	paramErr := func(t *testing.T, r resp, key, msg string) {
		t.Helper()
		wantStatus(t, r, 400, "Parameter verification failed.")
		if got := r.body["errors"].(map[string]any)[key]; got != msg {
			t.Fatalf("errors[%s] = %q, want %q (%s)", key, got, msg, r.raw)
		}
	}
	t.Run("VMIDTakenByVMOnOtherNode", func(t *testing.T) {
		wantStatus(t, post(func(f url.Values) { f.Set("vmid", "200") }), 500, "VM 200 already exists on node 'pve2'")
	})
	t.Run("VMIDTakenByCT", func(t *testing.T) {
		wantStatus(t, post(func(f url.Values) { f.Set("vmid", "120") }), 500, "CT 120 already exists on node 'pve2'")
	})
	t.Run("BooleanTrue", func(t *testing.T) {
		paramErr(t, post(func(f url.Values) { f.Set("start", "true") }), "start", "type check ('boolean') failed - got 'true'")
	})
	t.Run("MissingTemplate", func(t *testing.T) {
		paramErr(t, post(func(f url.Values) { f.Del("ostemplate") }), "ostemplate", "property is missing and it is not optional")
	})
	t.Run("BadHostname", func(t *testing.T) {
		paramErr(t, post(func(f url.Values) { f.Set("hostname", "my_host") }), "hostname", "invalid format - value does not look like a valid DNS name\n")
	})
	t.Run("NetWithoutName", func(t *testing.T) {
		paramErr(t, post(func(f url.Values) { f.Set("net0", "bridge=vmbr0") }), "net0",
			"invalid format - format error\nnet0.name: property is missing and it is not optional")
	})
	t.Run("MemoryTooSmall", func(t *testing.T) {
		paramErr(t, post(func(f url.Values) { f.Set("memory", "8") }), "memory", "value must have a minimum value of 16")
	})
	t.Run("ShortPassword", func(t *testing.T) {
		paramErr(t, post(func(f url.Values) { f.Set("password", "abc") }), "password", "value must be at least 5 characters long")
	})
	t.Run("TemplateNotThere", func(t *testing.T) {
		wantStatus(t, post(func(f url.Values) { f.Set("ostemplate", "local:vztmpl/nope.tar.zst") }), 500, "can't find file 'local:vztmpl/nope.tar.zst'")
	})
	t.Run("TemplateWrongContent", func(t *testing.T) {
		wantStatus(t, post(func(f url.Values) { f.Set("ostemplate", "local-lvm:vm-105-disk-0") }), 500,
			"unable to use volume local-lvm:vm-105-disk-0 - content type needs to be 'vztmpl'")
	})
	t.Run("StorageWithoutRootdir", func(t *testing.T) {
		paramErr(t, post(func(f url.Values) { f.Set("rootfs", "local:8") }), "storage", "storage 'local' does not support container directories")
	})
	t.Run("UnknownStorage", func(t *testing.T) {
		wantStatus(t, post(func(f url.Values) { f.Set("rootfs", "tank:8") }), 500, "storage 'tank' does not exist")
	})
	t.Run("BadSSHKey", func(t *testing.T) {
		wantStatus(t, post(func(f url.Values) { f.Set("ssh-public-keys", "not a key") }), 500, "SSH public key validation error")
	})
	t.Run("FeatureOtherThanNesting", func(t *testing.T) {
		wantStatus(t, post(func(f url.Values) { f.Set("features", "nesting=1,keyctl=1") }), 403,
			"Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)")
	})
	t.Run("PrivilegedNeedsSysModify", func(t *testing.T) {
		f := createForm("140")
		f.Set("unprivileged", "0")
		f.Del("features")
		wantStatus(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc", f), 403, "Permission check failed (/, Sys.Modify)")
	})
	t.Run("NoAllocate", func(t *testing.T) {
		wantStatus(t, call(t, n, emptyToken, http.MethodPost, "/nodes/pve/lxc", createForm("140")), 403, "Permission check failed (/vms/140, VM.Allocate)")
	})
	t.Run("NothingCreated", func(t *testing.T) {
		wantStatus(t, call(t, n, adminToken, http.MethodGet, "/nodes/pve/lxc/140/config", nil), 500, "Configuration file 'nodes/pve/lxc/140.conf' does not exist")
	})
}

func TestLXC_PowerEdgeCases(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	t.Run("StartMissingFailsInTask", func(t *testing.T) {
		st := waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/777/status/start", nil)))
		if st["exitstatus"] != "Configuration file 'nodes/pve/lxc/777.conf' does not exist" {
			t.Fatalf("status = %v", st)
		}
		log := call(t, n, adminToken, http.MethodGet, "/nodes/pve/tasks/"+url.PathEscape(st["upid"].(string))+"/log", nil).dataList(t)
		if log[len(log)-1].(map[string]any)["t"] != "TASK ERROR: Configuration file 'nodes/pve/lxc/777.conf' does not exist" {
			t.Fatalf("log = %v", log)
		}
	})
	t.Run("StartTemplate", func(t *testing.T) {
		st := waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/900/status/start", nil)))
		if st["exitstatus"] != "you can't start a CT if it's a template" {
			t.Fatalf("status = %v", st)
		}
	})
	t.Run("StopMissing", func(t *testing.T) {
		wantStatus(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/777/status/stop", nil), 500, "CT 777 not running")
	})
	t.Run("CTOnOtherNode", func(t *testing.T) {
		wantStatus(t, call(t, n, adminToken, http.MethodGet, "/nodes/pve/lxc/120/status/current", nil), 500,
			"Configuration file 'nodes/pve/lxc/120.conf' does not exist")
	})
	t.Run("NoPowerMgmt", func(t *testing.T) {
		wantStatus(t, call(t, n, emptyToken, http.MethodPost, "/nodes/pve/lxc/105/status/stop", nil), 403, "Permission check failed (/vms/105, VM.PowerMgmt)")
	})
	t.Run("ShutdownTimesOut", func(t *testing.T) {
		n.IgnoreShutdown(105, true)
		st := waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/105/status/shutdown", url.Values{"timeout": {"1"}})))
		if st["exitstatus"] != "container did not stop" {
			t.Fatalf("status = %v", st)
		}
		st = waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/105/status/shutdown",
			url.Values{"timeout": {"1"}, "forceStop": {"1"}})))
		if st["exitstatus"] != "OK" {
			t.Fatalf("forced status = %v", st)
		}
		if status, _ := n.GuestStatus(105); status != "stopped" {
			t.Fatalf("status after forceStop = %s", status)
		}
	})
	t.Run("Reboot", func(t *testing.T) {
		st := waitTask(t, s.Node("pve2"), adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve2/lxc/120/status/reboot", nil)))
		if st["exitstatus"] != "OK" || st["type"] != "vzreboot" {
			t.Fatalf("reboot = %v", st)
		}
	})
}

func TestTasks_Errors(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	r := call(t, n, adminToken, http.MethodGet, "/nodes/pve/tasks/garbage/status", nil)
	wantStatus(t, r, 400, "Parameter verification failed.")
	if r.body["errors"].(map[string]any)["upid"] != "unable to parse worker upid" {
		t.Fatalf("errors = %s", r.raw)
	}
	unknown := "UPID:pve:00001234:00005678:6720F1A2:vzstart:105:root@pam:"
	r = call(t, n, adminToken, http.MethodGet, "/nodes/pve/tasks/"+url.PathEscape(unknown)+"/status", nil)
	if r.status != 400 || r.body["errors"].(map[string]any)["upid"] != "no such task" {
		t.Fatalf("unknown task = %d %s", r.status, r.raw)
	}
	r = call(t, n, adminToken, http.MethodGet, "/nodes/pve/tasks/"+url.PathEscape(unknown)+"/log", nil)
	if r.status != 200 || r.dataList(t)[0].(map[string]any)["t"] != "unable to open file - No such file or directory" {
		t.Fatalf("unknown log = %d %s", r.status, r.raw)
	}
	upid := upidOf(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc/110/status/start", nil))
	waitTask(t, n, corralTok, upid)
	// Another token without Sys.Audit may not read it.
	wantStatus(t, call(t, n, emptyToken, http.MethodGet, "/nodes/pve/tasks/"+url.PathEscape(upid)+"/status", nil), 403, "")
	list := call(t, n, adminToken, http.MethodGet, "/nodes/pve/tasks", url.Values{"vmid": {"110"}, "typefilter": {"vzstart"}})
	if list.body["total"] != float64(1) || list.dataList(t)[0].(map[string]any)["status"] != "OK" {
		t.Fatalf("task list = %s", list.raw)
	}
}
