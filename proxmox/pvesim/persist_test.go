package pvesim

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPersist_RestartComesBackWhole: with Persist, a restarted simulator
// is the same estate: the same certificates, host keys and (free) ports,
// the guests it had with their state and files, downloaded templates; the
// seed guests are not added twice. A port someone else took meanwhile is
// replaced by a free one, with the same certificate.
func TestPersist_RestartComesBackWhole(t *testing.T) {
	opts := testOptions()
	opts.Dir, opts.Persist = t.TempDir(), true
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Restored() {
		t.Fatal("a fresh directory counts as restored")
	}
	n := s.Node("pve")
	form := createForm("131")
	form.Set("start", "1")
	form.Set("description", "Created by a test")
	waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc", form)))
	waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/aplinfo",
		url.Values{"storage": {"local"}, "template": {"alpine-3.22-default_20250617_amd64.tar.xz"}})))
	s.WaitTasks()
	waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/105/status/stop", nil)))
	if _, _, code := runSSH(t, mustSSH(t, n), "pct exec 131 -- sh -c 'echo kept > /root/note'", ""); code != 0 {
		t.Fatalf("pct exec: %d", code)
	}
	before := map[string][3]string{}
	for _, name := range s.Nodes() {
		m := s.Node(name)
		before[name] = [3]string{m.Fingerprint(), string(m.SSHHostKey().Marshal()), m.Addr() + " " + m.SSHAddr()}
	}
	// A config edit (no task) and a snapshot are part of what comes back.
	putConfig(t, n, adminToken, "131", url.Values{"memory": {"768"}, "onboot": {"1"}})
	waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/131/snapshot", url.Values{"snapname": {"before"}})))
	cfgBefore := call(t, n, adminToken, http.MethodGet, "/nodes/pve/lxc/131/config", nil).dataMap(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Restored() {
		t.Fatal("not restored")
	}
	for name, want := range before {
		m := s.Node(name)
		if got := [3]string{m.Fingerprint(), string(m.SSHHostKey().Marshal()), m.Addr() + " " + m.SSHAddr()}; got != want {
			t.Errorf("node %s came back as %q, was %q", name, got, want)
		}
	}
	n = s.Node("pve")
	cfg := call(t, n, adminToken, http.MethodGet, "/nodes/pve/lxc/131/config", nil).dataMap(t)
	for _, k := range []string{"hostname", "description", "net0", "features", "tags", "memory", "onboot", "digest"} {
		if cfg[k] != cfgBefore[k] {
			t.Errorf("config %s = %v, was %v", k, cfg[k], cfgBefore[k])
		}
	}
	if snaps := call(t, n, adminToken, http.MethodGet, "/nodes/pve/lxc/131/snapshot", nil).raw; !bytes.Contains(snaps, []byte(`"before"`)) {
		t.Errorf("the snapshot is gone: %s", snaps)
	}
	for vmid, want := range map[string]string{"131": "running", "105": "stopped", "110": "stopped"} {
		if st := call(t, n, adminToken, http.MethodGet, "/nodes/pve/lxc/"+vmid+"/status/current", nil).dataMap(t)["status"]; st != want {
			t.Errorf("CT %s is %v, want %s", vmid, st, want)
		}
	}
	if out, _, code := runSSH(t, mustSSH(t, n), "pct exec 131 -- cat /root/note", ""); code != 0 || out != "kept\n" {
		t.Errorf("the container's files: %d %q", code, out)
	}
	if got := len(call(t, n, adminToken, http.MethodGet, "/cluster/resources", url.Values{"type": {"vm"}}).dataList(t)); got != 6 {
		t.Errorf("%d guests in the cluster after the restart, want 6", got)
	}
	content := call(t, n, adminToken, http.MethodGet, "/nodes/pve/storage/local/content", url.Values{"content": {"vztmpl"}})
	if !bytes.Contains(content.raw, []byte("alpine-3.22")) {
		t.Errorf("the downloaded template is gone: %s", content.raw)
	}

	// Someone takes pve's API port while the simulator is down.
	taken, _, _ := strings.Cut(before["pve"][2], " ")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", taken)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := s.Node("pve"); n.Addr() == taken || n.Fingerprint() != before["pve"][0] {
		t.Errorf("pve came back at %s with %s", n.Addr(), n.Fingerprint())
	}
	if b, err := os.ReadFile(filepath.Join(opts.Dir, stateFile)); err != nil || !bytes.Contains(b, []byte(`"api_port": `+strconv.Itoa(s.Node("pve").Port()))) {
		t.Errorf("the new port is not saved: %v", err)
	}
}
