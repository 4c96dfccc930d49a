package pvesim

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// taskLines returns a finished task's log lines.
func taskLines(t *testing.T, n *Node, tok TokenSpec, upid string) []string {
	t.Helper()
	var out []string
	for _, row := range call(t, n, tok, http.MethodGet, "/nodes/"+n.Name()+"/tasks/"+url.PathEscape(upid)+"/log", url.Values{"limit": {"0"}}).dataList(t) {
		out = append(out, row.(map[string]any)["t"].(string))
	}
	return out
}

// runTask starts a task with one call and waits for it; it returns the exit status and the log.
func runTask(t *testing.T, n *Node, tok TokenSpec, method, path string, form url.Values) (string, []string) {
	t.Helper()
	upid := upidOf(t, call(t, n, tok, method, path, form))
	st := waitTask(t, n, tok, upid)
	return st["exitstatus"].(string), taskLines(t, n, tok, upid)
}

func snapshotsOf(t *testing.T, n *Node, vmid string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, row := range call(t, n, corralTok, http.MethodGet, "/nodes/pve/lxc/"+vmid+"/snapshot", nil).dataList(t) {
		m := row.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

func writeGuestFile(t *testing.T, n *Node, vmid int, rel, content string) {
	t.Helper()
	p := filepath.Join(n.ContainerDir(vmid), rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readGuestFile(t *testing.T, n *Node, vmid int, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.ContainerDir(vmid), rel))
	if err != nil {
		return ""
	}
	return string(b)
}

func TestSnapshots(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	base := "/nodes/pve/lxc/105/snapshot"
	writeGuestFile(t, n, 105, "etc/app.conf", "clean\n")

	status, log := runTask(t, n, corralTok, http.MethodPost, base, url.Values{"snapname": {"clean"}, "description": {"before provisioning"}})
	if status != "OK" || !strings.Contains(strings.Join(log, "\n"), `Logical volume "snap_vm-105-disk-0_clean" created.`) {
		t.Fatalf("snapshot: %s %q", status, log)
	}
	snaps := snapshotsOf(t, n, "105")
	if c := snaps["clean"]; c == nil || c["description"] != "before provisioning\n" || c["snaptime"] == nil || c["parent"] != nil {
		t.Fatalf("clean = %v", c)
	}
	if cur := snaps["current"]; cur["parent"] != "clean" || cur["running"] != float64(1) || cur["digest"] == nil {
		t.Fatalf("current = %v", cur)
	}

	writeGuestFile(t, n, 105, "etc/app.conf", "provisioned\n")
	wantStatus(t, putConfig(t, n, corralTok, "105", url.Values{"memory": {"4096"}}), 200, "")
	if status, _ := runTask(t, n, corralTok, http.MethodPost, base, url.Values{"snapname": {"after"}}); status != "OK" {
		t.Fatalf("second snapshot: %s", status)
	}
	if snaps := snapshotsOf(t, n, "105"); snaps["after"]["parent"] != "clean" || snaps["current"]["parent"] != "after" {
		t.Fatalf("tree = %v", snaps)
	}

	t.Run("Refusals", func(t *testing.T) {
		status, _ := runTask(t, n, corralTok, http.MethodPost, base, url.Values{"snapname": {"clean"}})
		if status != "snapshot name 'clean' already used" {
			t.Errorf("duplicate name: %s", status)
		}
		wantStatus(t, call(t, n, corralTok, http.MethodPost, base, url.Values{"snapname": {"current"}}), 500,
			"unable to use snapshot name 'current' (reserved name)")
		paramError(t, call(t, n, corralTok, http.MethodPost, base, url.Values{"snapname": {"1st"}}), "snapname",
			"invalid format - invalid configuration ID '1st'\n")
		status, _ = runTask(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc/105/snapshot/nope/rollback", nil)
		if status != "snapshot 'nope' does not exist" {
			t.Errorf("rollback to a missing snapshot: %s", status)
		}
		wantStatus(t, call(t, n, emptyToken, http.MethodPost, base, url.Values{"snapname": {"s2"}}), 403, "Permission check failed (/vms/105, VM.Snapshot)")
	})
	t.Run("Config", func(t *testing.T) {
		c := call(t, n, corralTok, http.MethodGet, base+"/clean/config", nil).dataMap(t)
		if c["memory"] != float64(2048) || c["description"] != "before provisioning\n" || c["snaptime"] == nil {
			t.Fatalf("snapshot config = %v", c)
		}
		wantStatus(t, call(t, n, corralTok, http.MethodPut, base+"/clean/config", url.Values{"description": {"clean base"}}), 200, "")
		if d := snapshotsOf(t, n, "105")["clean"]["description"]; d != "clean base\n" {
			t.Errorf("description = %v", d)
		}
		wantStatus(t, call(t, n, corralTok, http.MethodGet, base+"/nope/config", nil), 500, "snapshot 'nope' does not exist")
		idx := call(t, n, corralTok, http.MethodGet, base+"/clean", nil).dataList(t)
		if len(idx) != 2 {
			t.Errorf("snapshot index = %v", idx)
		}
	})
	t.Run("RollbackAndStart", func(t *testing.T) {
		status, log := runTask(t, n, corralTok, http.MethodPost, base+"/clean/rollback", url.Values{"start": {"1"}})
		if status != "OK" || !strings.Contains(strings.Join(log, "\n"), `Logical volume "vm-105-disk-0" created.`) {
			t.Fatalf("rollback: %s %q", status, log)
		}
		s.WaitTasks() // the separate vzstart
		if st, _ := n.GuestStatus(105); st != "running" {
			t.Errorf("CT 105 is %s after rollback with start=1", st)
		}
		if got := readGuestFile(t, n, 105, "etc/app.conf"); got != "clean\n" {
			t.Errorf("file after rollback = %q", got)
		}
		cfg := configOf(t, n, "105", true)
		if cfg["memory"] != float64(2048) || cfg["parent"] != "clean" {
			t.Errorf("config after rollback = %v", cfg)
		}
	})
	t.Run("DeleteRelinks", func(t *testing.T) {
		status, log := runTask(t, n, corralTok, http.MethodDelete, base+"/clean", nil)
		if status != "OK" || !strings.Contains(strings.Join(log, "\n"), `Logical volume "snap_vm-105-disk-0_clean" successfully removed.`) {
			t.Fatalf("delete: %s %q", status, log)
		}
		snaps := snapshotsOf(t, n, "105")
		if _, ok := snaps["clean"]; ok || snaps["after"]["parent"] != nil || snaps["current"]["parent"] != nil {
			t.Fatalf("tree after delete = %v", snaps)
		}
		if cfg := configOf(t, n, "105", true); cfg["unused0"] != nil {
			t.Errorf("the mounted root disk became unused: %v", cfg)
		}
	})
	t.Run("BindMountBlocksSnapshots", func(t *testing.T) {
		c := mustSSH(t, n)
		if _, errOut, code := runSSH(t, c, "pct set 110 -mp0 /srv/x,mp=/x", ""); code != 0 {
			t.Fatal(errOut)
		}
		status, _ := runTask(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc/110/snapshot", url.Values{"snapname": {"s1"}})
		if status != "snapshot feature is not available" {
			t.Errorf("snapshot with a bind mount: %s", status)
		}
	})
	t.Run("Locked", func(t *testing.T) {
		wantStatus(t, putConfig(t, n, adminToken, "105", url.Values{"lock": {"backup"}}), 200, "")
		status, _ := runTask(t, n, corralTok, http.MethodPost, base, url.Values{"snapname": {"s2"}})
		if status != "CT is locked (backup)" {
			t.Errorf("snapshot of a locked CT: %s", status)
		}
		c := mustSSH(t, n)
		if _, errOut, code := runSSH(t, c, "pct unlock 105", ""); code != 0 {
			t.Fatalf("pct unlock: %d %q", code, errOut)
		}
		if _, errOut, code := runSSH(t, c, "pct unlock 105", ""); code != 255 || errOut != "no lock found trying to remove any lock\n" {
			t.Fatalf("second pct unlock: %d %q", code, errOut)
		}
		if status, _ := runTask(t, n, corralTok, http.MethodPost, base, url.Values{"snapname": {"s2"}}); status != "OK" {
			t.Errorf("snapshot after unlock: %s", status)
		}
	})
}

func TestPctSnapshot(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	c := mustSSH(t, n)
	out, errOut, code := runSSH(t, c, "pct snapshot 110 base --description 'first one'", "")
	if code != 0 || errOut != "" || !strings.Contains(out, `Logical volume "snap_vm-110-disk-0_base" created.`) {
		t.Fatalf("pct snapshot: %d %q %q", code, out, errOut)
	}
	out, _, code = runSSH(t, c, "pct listsnapshot 110", "")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "`-> base ") || !strings.HasSuffix(lines[0], " first one") ||
		!strings.HasPrefix(lines[1], " `-> current ") || !strings.HasSuffix(lines[1], "You are here!") {
		t.Fatalf("listsnapshot: %d %q", code, out)
	}
	_, errOut, code = runSSH(t, c, "pct snapshot 110 base", "")
	if code != 255 || errOut != "snapshot name 'base' already used\n" {
		t.Fatalf("duplicate: %d %q", code, errOut)
	}
	if _, errOut, code := runSSH(t, c, "pct rollback 110 base --start 1", ""); code != 0 {
		t.Fatalf("rollback: %d %q", code, errOut)
	}
	if _, errOut, code := runSSH(t, c, "pct delsnapshot 110 base", ""); code != 0 {
		t.Fatalf("delsnapshot: %d %q", code, errOut)
	}
	if len(snapshotsOf(t, n, "110")) != 1 {
		t.Errorf("snapshots left: %v", snapshotsOf(t, n, "110"))
	}
}
