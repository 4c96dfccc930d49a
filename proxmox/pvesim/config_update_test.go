package pvesim

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func configOf(t *testing.T, n *Node, vmid string, current bool) map[string]any {
	t.Helper()
	q := url.Values{}
	if current {
		q.Set("current", "1")
	}
	return call(t, n, corralTok, http.MethodGet, "/nodes/"+n.Name()+"/lxc/"+vmid+"/config", q).dataMap(t)
}

func putConfig(t *testing.T, n *Node, tok TokenSpec, vmid string, form url.Values) resp {
	t.Helper()
	return call(t, n, tok, http.MethodPut, "/nodes/"+n.Name()+"/lxc/"+vmid+"/config", form)
}

func paramError(t *testing.T, r resp, key, msg string) {
	t.Helper()
	wantStatus(t, r, 400, "Parameter verification failed.")
	if got := r.body["errors"].(map[string]any)[key]; got != msg {
		t.Fatalf("errors[%s] = %q, want %q (%s)", key, got, msg, r.raw)
	}
}

func TestConfig_RunningHotplugAndPending(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	before := configOf(t, n, "105", false)
	digest := before["digest"].(string)

	r := putConfig(t, n, corralTok, "105", url.Values{
		"memory": {"1024"}, "swap": {"256"}, "cores": {"3"}, "onboot": {"1"}, "description": {"line one\nline two"},
		"tags": {"web,DB"}, "startup": {"order=2,up=30"}, "nameserver": {"1.1.1.1"}, "digest": {digest},
	})
	wantStatus(t, r, 200, "")
	if r.data() != nil {
		t.Fatalf("PUT config answered %s, want null data", r.raw)
	}
	cur := configOf(t, n, "105", true)
	for k, want := range map[string]any{"memory": float64(1024), "swap": float64(256), "cores": float64(3), "onboot": float64(1),
		"description": "line one\nline two\n", "tags": "db;web", "startup": "order=2,up=30"} {
		if cur[k] != want {
			t.Errorf("current %s = %#v, want %#v", k, cur[k], want)
		}
	}
	if _, ok := cur["nameserver"]; ok {
		t.Errorf("nameserver applied to a running CT: %v", cur)
	}
	if pend := configOf(t, n, "105", false); pend["nameserver"] != "1.1.1.1" {
		t.Errorf("pending view lacks the nameserver: %v", pend)
	}
	var nsRow map[string]any
	for _, row := range call(t, n, corralTok, http.MethodGet, "/nodes/pve/lxc/105/pending", nil).dataList(t) {
		if m := row.(map[string]any); m["key"] == "nameserver" {
			nsRow = m
		}
	}
	if nsRow == nil || nsRow["pending"] != "1.1.1.1" || nsRow["value"] != nil {
		t.Errorf("pending row = %v", nsRow)
	}

	t.Run("StaleDigest", func(t *testing.T) {
		r := putConfig(t, n, corralTok, "105", url.Values{"memory": {"2048"}, "digest": {digest}})
		wantStatus(t, r, 500, "detected modified configuration - file changed by other user? Try again.")
		if configOf(t, n, "105", true)["memory"] != float64(1024) {
			t.Error("a refused change was applied")
		}
	})
	t.Run("DeleteFastplug", func(t *testing.T) {
		wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"delete": {"onboot,description"}}), 200, "")
		cur := configOf(t, n, "105", true)
		if _, ok := cur["onboot"]; ok {
			t.Errorf("onboot still set: %v", cur)
		}
	})
	t.Run("Refusals", func(t *testing.T) {
		wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"delete": {"memory"}}), 500, "unable to delete required option 'memory'")
		paramError(t, putConfig(t, n, corralTok, "105", url.Values{"delete": {"bogus"}}), "delete", "unknown option 'bogus'")
		paramError(t, putConfig(t, n, corralTok, "105", url.Values{"delete": {"cores"}, "cores": {"2"}}), "delete",
			"you can't use '-cores' and -delete cores' at the same time")
		wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"digest": {"abc"}}), 500, "no options specified")
		paramError(t, putConfig(t, n, corralTok, "105", url.Values{"startup": {"first"}}), "startup", "invalid format - unable to parse startup options\n")
		paramError(t, putConfig(t, n, corralTok, "105", url.Values{"cores": {"0"}}), "cores", "value must have a minimum value of 1")
		wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"mp0": {"/srv/data,mp=/data"}}), 403,
			"Permission check failed (mount point type bind is only allowed for root@pam)")
		wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"features": {"nesting=1,keyctl=1"}}), 403,
			"Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)")
		wantStatus(t, putConfig(t, n, emptyToken, "105", url.Values{"memory": {"512"}}), 403,
			"Permission check failed (/vms/105, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)")
		wantStatus(t, putConfig(t, n, corralTok, "123", url.Values{"memory": {"512"}}), 500, "Configuration file 'nodes/pve/lxc/123.conf' does not exist")
	})
	t.Run("NetworkAppliesLive", func(t *testing.T) {
		net0 := "name=eth0,bridge=vmbr0,ip=10.0.0.9/24,gw=10.0.0.1,tag=20,firewall=1"
		wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"net0": {net0}}), 200, "")
		got := configOf(t, n, "105", true)["net0"].(string)
		if !strings.Contains(got, "ip=10.0.0.9/24") || !strings.Contains(got, "tag=20") || !strings.Contains(got, "hwaddr=") {
			t.Fatalf("net0 = %q", got)
		}
		ifs := call(t, n, corralTok, http.MethodGet, "/nodes/pve/lxc/105/interfaces", nil).dataList(t)
		if ifs[1].(map[string]any)["inet"] != "10.0.0.9/24" {
			t.Errorf("interfaces = %v", ifs)
		}
		r := putConfig(t, n, corralTok, "105", url.Values{"net1": {"name=eth1,bridge=vmbr7"}})
		paramError(t, r, "net1", "unable to hotplug net1: bridge 'vmbr7' does not exist\n")
	})
	t.Run("PendingAppliesAtStart", func(t *testing.T) {
		waitTask(t, n, corralTok, upidOf(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc/105/status/stop", nil)))
		waitTask(t, n, corralTok, upidOf(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc/105/status/start", nil)))
		if cur := configOf(t, n, "105", true); cur["nameserver"] != "1.1.1.1" {
			t.Errorf("nameserver after a restart = %v", cur["nameserver"])
		}
		for _, row := range call(t, n, corralTok, http.MethodGet, "/nodes/pve/lxc/105/pending", nil).dataList(t) {
			if _, ok := row.(map[string]any)["pending"]; ok {
				t.Errorf("still pending after a restart: %v", row)
			}
		}
	})
	t.Run("Locked", func(t *testing.T) {
		wantStatus(t, putConfig(t, n, adminToken, "110", url.Values{"lock": {"backup"}}), 200, "")
		wantStatus(t, putConfig(t, n, corralTok, "110", url.Values{"memory": {"768"}}), 500, "CT is locked (backup)")
		wantStatus(t, call(t, n, corralTok, http.MethodPut, "/nodes/pve/lxc/110/resize", url.Values{"disk": {"rootfs"}, "size": {"+1G"}}),
			500, "CT is locked (backup)")
	})
}

func TestConfig_MountPoints(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	lvmUsed := func() float64 {
		for _, row := range call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage", nil).dataList(t) {
			if m := row.(map[string]any); m["storage"] == "local-lvm" {
				return m["used"].(float64)
			}
		}
		t.Fatal("no local-lvm")
		return 0
	}
	disks := func() []string {
		var out []string
		for _, row := range call(t, n, corralTok, http.MethodGet, "/nodes/pve/storage/local-lvm/content", url.Values{"vmid": {"110"}}).dataList(t) {
			out = append(out, row.(map[string]any)["volid"].(string))
		}
		return out
	}
	used := lvmUsed()

	wantStatus(t, putConfig(t, n, corralTok, "110", url.Values{"mp0": {"local-lvm:2,mp=/data,backup=1"}}), 200, "")
	if got := configOf(t, n, "110", true)["mp0"]; got != "local-lvm:vm-110-disk-1,mp=/data,backup=1,size=2G" {
		t.Fatalf("mp0 = %v", got)
	}
	if d := disks(); len(d) != 2 || d[1] != "local-lvm:vm-110-disk-1" {
		t.Fatalf("disks = %v", d)
	}
	if grown := lvmUsed() - used; grown != float64(int64(2<<30)/thinShare) {
		t.Errorf("local-lvm used grew by %v", grown)
	}

	// Removing a volume mount point from a stopped CT leaves an unused disk;
	// deleting that frees the space.
	wantStatus(t, putConfig(t, n, corralTok, "110", url.Values{"delete": {"mp0"}}), 200, "")
	cfg := configOf(t, n, "110", true)
	if _, ok := cfg["mp0"]; ok || cfg["unused0"] != "local-lvm:vm-110-disk-1" {
		t.Fatalf("after delete mp0: %v", cfg)
	}
	wantStatus(t, putConfig(t, n, corralTok, "110", url.Values{"delete": {"unused0"}}), 200, "")
	if d := disks(); len(d) != 1 || lvmUsed() != used {
		t.Fatalf("after delete unused0: disks %v, used %v (was %v)", d, lvmUsed(), used)
	}

	t.Run("HotplugIntoRunning", func(t *testing.T) {
		wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"mp0": {"local-lvm:1,mp=/srv/cache"}}), 200, "")
		if got := configOf(t, n, "105", true)["mp0"]; got != "local-lvm:vm-105-disk-1,mp=/srv/cache,size=1G" {
			t.Fatalf("mp0 = %v", got)
		}
		// Deleting it from a running CT waits for the restart.
		wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"delete": {"mp0"}}), 200, "")
		if _, ok := configOf(t, n, "105", true)["mp0"]; !ok {
			t.Error("mp0 was removed from a running CT")
		}
	})
	t.Run("BadValues", func(t *testing.T) {
		paramError(t, putConfig(t, n, corralTok, "110", url.Values{"mp1": {"local-lvm:1"}}), "mp1",
			"invalid format - format error\nmp1.mp: property is missing and it is not optional")
		wantStatus(t, putConfig(t, n, corralTok, "110", url.Values{"mp1": {"local:1,mp=/x"}}), 500,
			"storage 'local' does not allow content type 'rootdir' (Container)")
	})
	t.Run("BindMountOverSSH", func(t *testing.T) {
		c := mustSSH(t, n)
		if _, errOut, code := runSSH(t, c, "pct set 110 -mp1 /srv/media,mp=/media,ro=1", ""); code != 0 {
			t.Fatalf("pct set: %d %q", code, errOut)
		}
		if got := configOf(t, n, "110", true)["mp1"]; got != "/srv/media,mp=/media,ro=1" {
			t.Fatalf("mp1 = %v", got)
		}
		// The source is checked when the container mounts it.
		st := waitTask(t, n, corralTok, upidOf(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc/110/status/start", nil)))
		if st["exitstatus"] != "startup for container '110' failed" {
			t.Fatalf("start with a missing bind source = %v", st)
		}
		if err := os.MkdirAll(filepath.Join(n.HostDir(), "srv/media"), 0o755); err != nil {
			t.Fatal(err)
		}
		st = waitTask(t, n, corralTok, upidOf(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc/110/status/start", nil)))
		if st["exitstatus"] != "OK" {
			t.Fatalf("start = %v", st)
		}
		_, errOut, code := runSSH(t, c, "pct set 110 -mp2 /srv/nothing,mp=/nothing", "")
		if code != 255 || errOut != "400 Parameter verification failed.\nmp2: unable to hotplug mp2: directory '/srv/nothing' does not exist\npct set <vmid> [OPTIONS]\n" {
			t.Fatalf("hotplug of a missing dir: %d %q", code, errOut)
		}
		if _, errOut, code := runSSH(t, c, "pct set 110 -mp2 /srv/media,mp=/nothing", ""); code != 0 {
			t.Fatalf("hotplug: %d %q", code, errOut)
		}
	})
}

func TestConfig_LockTimeout(t *testing.T) {
	opts := testOptions()
	opts.Dir = t.TempDir()
	opts.TaskDuration = time.Hour // the resize holds the config lock
	opts.LockTimeout = 50 * time.Millisecond
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	n := s.Node("pve")
	upidOf(t, call(t, n, corralTok, http.MethodPut, "/nodes/pve/lxc/110/resize", url.Values{"disk": {"rootfs"}, "size": {"+1G"}}))
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := putConfig(t, n, corralTok, "110", url.Values{"memory": {"768"}})
		if r.status == 500 {
			wantStatus(t, r, 500, "can't lock file '/run/lock/lxc/pve-config-110.lock' - got timeout")
			return
		}
		// The worker may not have taken the lock yet.
		if time.Now().After(deadline) {
			t.Fatalf("PUT never waited for the resize: %s", r.raw)
		}
	}
}
