package pvesim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The client engineer's recorded shapes live in proxmox/testdata. Each
// success file is compared with the simulator's answer field by field and
// JSON type by JSON type; error files ({status, reason, body}) also by
// status and reason. Suffixed files are older forms the simulator does not
// produce.
const shapeDir = "../testdata"

// shapeCase fetches the simulator's answer for one recorded file.
type shapeCase struct {
	method, path string
	tok          TokenSpec
	form         url.Values
	// slow runs against a simulator whose tasks never finish (creation states).
	slow bool
	// prep runs first and may return a path that replaces path (e.g. with a UPID).
	prep func(t *testing.T, s *Sim) string
	// loose are paths ("data.cpulimit", "data[].hastate") that may be absent
	// from or extra in the simulator's answer.
	loose []string
	// dynamic are object paths whose keys are data (ACL paths, privileges).
	dynamic []string
	// reasonPrefix relaxes the reason comparison of an error file.
	reasonPrefix string
	// mixed are paths whose JSON type differs from item to item (config
	// values in GET …/pending): only their presence is compared.
	mixed []string
	// opts adjusts the simulator for this case.
	opts func(*Options)
}

func shapeCases() map[string]shapeCase {
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	finished := func(method, path string, form url.Values, tok TokenSpec) func(*testing.T, *Sim) string {
		return func(t *testing.T, s *Sim) string {
			n := s.Node("pve")
			upid := upidOf(t, call(t, n, tok, method, path, form))
			waitTask(t, n, tok, upid)
			return "/nodes/pve/tasks/" + url.PathEscape(upid) + "/status"
		}
	}
	return map[string]shapeCase{
		"version.json":                   {method: get, path: "/version"},
		"access_permissions.json":        {method: get, path: "/access/permissions", tok: corralTok, dynamic: []string{"data", "data.*"}},
		"access_permissions_empty.json":  {method: get, path: "/access/permissions", tok: emptyToken},
		"aplinfo.json":                   {method: get, path: "/nodes/pve/aplinfo", loose: []string{"data[].manageurl"}},
		"aplinfo_download.json":          {method: post, path: "/nodes/pve/aplinfo", form: url.Values{"storage": {"local"}, "template": {"debian-13-standard_13.1-2_amd64.tar.zst"}}},
		"cluster_resources_vm.json":      {method: get, path: "/cluster/resources", form: url.Values{"type": {"vm"}}, loose: []string{"data[].hastate", "data[].lock"}},
		"cluster_status.json":            {method: get, path: "/cluster/status"},
		"cluster_status_standalone.json": {method: get, path: "/cluster/status", prep: func(*testing.T, *Sim) string { return "@solo" }},
		"lxc_config.json": {method: get, path: "/nodes/pve/lxc/105/config", loose: []string{
			"data.cpulimit", "data.cpuunits", "data.tty", "data.onboot", "data.console", "data.description",
			"data.features", "data.nameserver", "data.searchdomain", "data.net1", "data.lxc"}},
		"lxc_config_creating.json":    {method: get, path: "/nodes/pve/lxc/150/config", slow: true, prep: creating},
		"lxc_create.json":             {method: post, path: "/nodes/pve/lxc", form: createForm("151")},
		"lxc_start.json":              {method: post, path: "/nodes/pve/lxc/110/status/start"},
		"lxc_shutdown.json":           {method: post, path: "/nodes/pve/lxc/105/status/shutdown", prep: waitAll},
		"lxc_delete.json":             {method: del, path: "/nodes/pve/lxc/900"},
		"lxc_interfaces.json":         {method: get, path: "/nodes/pve/lxc/105/interfaces"},
		"lxc_interfaces_stopped.json": {method: get, path: "/nodes/pve/lxc/110/interfaces", prep: waitAll},
		"lxc_list.json":               {method: get, path: "/nodes/pve/lxc", slow: true, prep: creating},
		"lxc_rrddata.json":            {method: get, path: "/nodes/pve/lxc/105/rrddata", form: url.Values{"timeframe": {"hour"}, "cf": {"AVERAGE"}}},
		"lxc_status_current.json":     {method: get, path: "/nodes/pve/lxc/105/status/current"},
		"network_any_bridge.json": {method: get, path: "/nodes/pve/network", form: url.Values{"type": {"any_bridge"}},
			loose: []string{"data[].address", "data[].netmask", "data[].cidr", "data[].gateway", "data[].bridge_vlan_aware",
				"data[].bridge_vids", "data[].mtu", "data[].comments"}},
		"nextid.json":                 {method: get, path: "/cluster/nextid"},
		"nextid_vmid_free.json":       {method: get, path: "/cluster/nextid", form: url.Values{"vmid": {"150"}}},
		"node_status.json":            {method: get, path: "/nodes/pve/status", loose: []string{"data.cpuinfo.vendor", "data.cpuinfo.family"}},
		"nodes.json":                  {method: get, path: "/nodes"},
		"nodes_no_audit.json":         {method: get, path: "/nodes", tok: emptyToken},
		"storage.json":                {method: get, path: "/nodes/pve/storage"},
		"storage_content_vztmpl.json": {method: get, path: "/nodes/pve/storage/local/content", form: url.Values{"content": {"vztmpl"}}},
		"task_log.json": {method: get, prep: func(t *testing.T, s *Sim) string {
			return strings.TrimSuffix(finished(post, "/nodes/pve/lxc", createForm("152"), adminToken)(t, s), "/status") + "/log"
		}},
		"task_log_empty.json": {method: get, slow: true, prep: func(t *testing.T, s *Sim) string {
			upid := upidOf(t, call(t, s.Node("pve"), adminToken, post, "/nodes/pve/lxc/110/status/start", nil))
			return "/nodes/pve/tasks/" + url.PathEscape(upid) + "/log"
		}},
		"task_status_ok.json":       {method: get, tok: corralTok, prep: finished(post, "/nodes/pve/lxc", createForm("153"), corralTok)},
		"task_status_error.json":    {method: get, tok: corralTok, prep: finished(post, "/nodes/pve/lxc/777/status/start", nil, corralTok)},
		"task_status_warnings.json": {method: get, tok: corralTok, prep: finished(del, "/nodes/pve/lxc/105", url.Values{"force": {"1"}}, corralTok)},
		"task_status_running.json": {method: get, tok: corralTok, slow: true, prep: func(t *testing.T, s *Sim) string {
			upid := upidOf(t, call(t, s.Node("pve"), corralTok, post, "/nodes/pve/lxc", createForm("154")))
			return "/nodes/pve/tasks/" + url.PathEscape(upid) + "/status"
		}},

		"lxc_config_put.json":          {method: put, path: "/nodes/pve/lxc/110/config", form: url.Values{"memory": {"768"}}},
		"lxc_config_mountpoints.json":  {method: get, path: "/nodes/pve/lxc/110/config", prep: mountPointsPrep},
		"lxc_pending.json":             {method: get, path: "/nodes/pve/lxc/105/pending", prep: pendingPrep, mixed: []string{"data[].value", "data[].pending"}},
		"lxc_resize.json":              {method: put, path: "/nodes/pve/lxc/110/resize", form: url.Values{"disk": {"rootfs"}, "size": {"+1G"}}},
		"lxc_snapshot_list.json":       {method: get, path: "/nodes/pve/lxc/105/snapshot", prep: snapshotsPrep, loose: []string{"data[].snapstate"}},
		"lxc_snapshot_create.json":     {method: post, path: "/nodes/pve/lxc/105/snapshot", form: url.Values{"snapname": {"clean"}}},
		"lxc_snapshot_delete.json":     {method: del, path: "/nodes/pve/lxc/105/snapshot/clean"},
		"lxc_snapshot_rollback.json":   {method: post, path: "/nodes/pve/lxc/105/snapshot/clean/rollback", form: url.Values{"start": {"1"}}},
		"lxc_snapshot_index.json":      {method: get, path: "/nodes/pve/lxc/105/snapshot/clean"},
		"lxc_snapshot_config.json":     {method: get, path: "/nodes/pve/lxc/105/snapshot/clean/config", prep: snapshotsPrep},
		"lxc_snapshot_config_put.json": {method: put, path: "/nodes/pve/lxc/105/snapshot/clean/config", form: url.Values{"description": {"base"}}, prep: snapshotsPrep},
		"vzdump.json":                  {method: post, path: "/nodes/pve/vzdump", form: url.Values{"vmid": {"105"}, "storage": {"local"}}},
		"vzdump_elsewhere.json":        {method: post, path: "/nodes/pve/vzdump", form: url.Values{"vmid": {"120"}, "storage": {"local"}}},
		"storage_content_backup.json": {method: get, path: "/nodes/pve/storage/local/content", form: url.Values{"content": {"backup"}, "vmid": {"105"}},
			prep: func(t *testing.T, s *Sim) string { backupPrep(t, s, true); backupPrep(t, s, false); return "" }},
		"lxc_restore.json": {method: post, form: url.Values{"vmid": {"150"}, "restore": {"1"}, "storage": {"local-lvm"}},
			prep: func(t *testing.T, s *Sim) string {
				return "POST /nodes/pve/lxc?" + url.Values{"ostemplate": {backupPrep(t, s, false)}}.Encode()
			}},
		"task_status_locked.json": {method: get, tok: corralTok, prep: func(t *testing.T, s *Sim) string {
			lockCT(t, s, "105", "backup")
			return finished(post, "/nodes/pve/lxc/105/snapshot", url.Values{"snapname": {"clean"}}, corralTok)(t, s)
		}},
		"task_log_vzdump.json": {method: get, prep: func(t *testing.T, s *Sim) string {
			form := url.Values{"vmid": {"105"}, "storage": {"local"}, "mode": {"snapshot"}, "compress": {"zstd"}, "notes-template": {"{{guestname}}"}}
			return strings.TrimSuffix(finished(post, "/nodes/pve/vzdump", form, adminToken)(t, s), "/status") + "/log"
		}},

		"error_500_config_modified.json": {method: put, path: "/nodes/pve/lxc/110/config",
			form: url.Values{"memory": {"768"}, "digest": {"0123456789abcdef0123456789abcdef01234567"}}},
		"error_500_ct_locked.json": {method: put, path: "/nodes/pve/lxc/105/config", form: url.Values{"memory": {"768"}},
			prep: func(t *testing.T, s *Sim) string { lockCT(t, s, "105", "backup"); return "" }},
		"error_500_config_lock_timeout.json": {method: put, path: "/nodes/pve/lxc/110/config", form: url.Values{"memory": {"768"}},
			opts: func(o *Options) { o.TaskDuration, o.LockTimeout = time.Hour, 10*time.Millisecond }, prep: resizeHoldsLock},
		"error_403_bind_mount.json":        {method: put, path: "/nodes/pve/lxc/110/config", form: url.Values{"mp0": {"/srv/media,mp=/media"}}},
		"error_500_resize_shrink.json":     {method: put, path: "/nodes/pve/lxc/110/resize", form: url.Values{"disk": {"rootfs"}, "size": {"4G"}}},
		"error_500_snapshot_reserved.json": {method: post, path: "/nodes/pve/lxc/105/snapshot", form: url.Values{"snapname": {"current"}}},
		"error_400_config_delete.json":     {method: put, path: "/nodes/pve/lxc/110/config", form: url.Values{"delete": {"bogus"}}},
		"error_500_restore_running.json": {method: post, path: "/nodes/pve/lxc", form: url.Values{"vmid": {"105"}, "restore": {"1"}, "force": {"1"},
			"storage": {"local-lvm"}, "ostemplate": {"local:backup/vzdump-lxc-105-2025_01_21-03_00_01.tar.zst"}}},
		"error_401.json":                 {method: get, path: "/version", tok: TokenSpec{User: "root@pam", ID: "admin", Secret: "wrong"}},
		"error_403_permission.json":      {method: get, path: "/nodes/pve/lxc/100/status/current", tok: emptyToken},
		"error_403_cluster_status.json":  {method: get, path: "/cluster/status", tok: emptyToken},
		"error_400_nextid_taken.json":    {method: get, path: "/cluster/nextid", form: url.Values{"vmid": {"200"}}},
		"error_400_create_params.json":   {method: post, path: "/nodes/pve/lxc", form: url.Values{"vmid": {"160"}, "hostname": {"bad_name"}}},
		"error_400_no_such_task.json":    {method: get, path: "/nodes/pve/tasks/" + url.PathEscape("UPID:pve:00001234:00005678:6720F1A2:vzstart:105:root@pam:") + "/status"},
		"error_500_config_missing.json":  {method: get, path: "/nodes/pve/lxc/123/config"},
		"error_500_already_running.json": {method: get, path: "", prep: func(*testing.T, *Sim) string { return "POST /nodes/pve/lxc/105/status/start" }},
		"error_500_destroy_running.json": {method: del, path: "/nodes/pve/lxc/105"},
		"error_501_not_implemented.json": {method: get, path: "/nodes/pve/lxc/105/nothing", reasonPrefix: "Method 'GET /nodes/pve/lxc/105/"},
		"error_596.json": {method: get, path: "/nodes/pve2/lxc", prep: func(t *testing.T, s *Sim) string {
			s.Node("pve").Faults().Set(Fault{Path: "/nodes/pve2/lxc", Kind: FaultStatus, Status: 596, Times: 1})
			return ""
		}},
	}
}

// creating starts a create of CT 150 on a simulator whose tasks never end.
func creating(t *testing.T, s *Sim) string {
	upidOf(t, call(t, s.Node("pve"), adminToken, http.MethodPost, "/nodes/pve/lxc", createForm("150")))
	return ""
}

func waitAll(t *testing.T, s *Sim) string { s.WaitTasks(); return "" }

// runWait runs one task-starting call against pve and waits for the task.
func runWait(t *testing.T, s *Sim, method, path string, form url.Values) {
	t.Helper()
	n := s.Node("pve")
	if st := waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, method, path, form))); st["exitstatus"] != "OK" {
		t.Fatalf("%s %s: %v", method, path, st)
	}
}

func putOK(t *testing.T, s *Sim, path string, form url.Values) {
	t.Helper()
	wantStatus(t, call(t, s.Node("pve"), corralTok, http.MethodPut, path, form), 200, "")
}

// lockCT sets a config lock the way a running task would hold it.
func lockCT(t *testing.T, s *Sim, vmid, lock string) {
	putOK(t, s, "/nodes/pve/lxc/"+vmid+"/config", url.Values{"lock": {lock}})
}

// mountPointsPrep gives CT 110 the settings of lxc_config_mountpoints.json.
func mountPointsPrep(t *testing.T, s *Sim) string {
	cfg := "/nodes/pve/lxc/110/config"
	putOK(t, s, cfg, url.Values{"onboot": {"1"}, "startup": {"order=2,up=30"}, "description": {"Nextcloud\nmedia from the NAS"},
		"tags": {"web"}, "net0": {"name=eth0,bridge=vmbr0,firewall=1,ip=192.168.1.40/24,gw=192.168.1.1,ip6=auto"},
		"mp0": {"local-lvm:2,mp=/var/lib/nextcloud,backup=1"}, "mp2": {"local-lvm:1,mp=/scratch"}})
	runWait(t, s, http.MethodPost, "/nodes/pve/lxc/110/snapshot", url.Values{"snapname": {"clean"}})
	putOK(t, s, cfg, url.Values{"delete": {"mp2"}})
	if err := s.Node("pve").updateConfig(rootPam, 110, configUpdate{set: ctConf{"mp1": "/srv/media,mp=/media,ro=1"}, any: true}); err != nil {
		t.Fatal(err)
	}
	return ""
}

// pendingPrep leaves CT 105 (running) with a pending value, a pending
// deletion and a pending new key.
func pendingPrep(t *testing.T, s *Sim) string {
	cfg := "/nodes/pve/lxc/105/config"
	putOK(t, s, cfg, url.Values{"nameserver": {"1.1.1.1"}, "searchdomain": {"home.arpa"}})
	runWait(t, s, http.MethodPost, "/nodes/pve/lxc/105/status/stop", nil)
	runWait(t, s, http.MethodPost, "/nodes/pve/lxc/105/status/start", nil)
	putOK(t, s, cfg, url.Values{"nameserver": {"9.9.9.9"}, "delete": {"searchdomain"}, "features": {"nesting=1"}})
	return ""
}

// snapshotsPrep takes "clean" (described) and "upgraded" of CT 105.
func snapshotsPrep(t *testing.T, s *Sim) string {
	runWait(t, s, http.MethodPost, "/nodes/pve/lxc/105/snapshot", url.Values{"snapname": {"clean"}, "description": {"before provisioning"}})
	runWait(t, s, http.MethodPost, "/nodes/pve/lxc/105/snapshot", url.Values{"snapname": {"upgraded"}})
	return ""
}

// backupPrep backs CT 105 up to local and returns the new volume id.
func backupPrep(t *testing.T, s *Sim, protected bool) string {
	form := url.Values{"vmid": {"105"}, "storage": {"local"}, "compress": {"zstd"}, "notes-template": {"{{guestname}}"}}
	if protected {
		form.Set("protected", "1")
	}
	before := map[string]bool{}
	n := s.Node("pve")
	list := func() []any {
		return call(t, n, adminToken, http.MethodGet, "/nodes/pve/storage/local/content", url.Values{"content": {"backup"}}).dataList(t)
	}
	for _, row := range list() {
		before[row.(map[string]any)["volid"].(string)] = true
	}
	runWait(t, s, http.MethodPost, "/nodes/pve/vzdump", form)
	for _, row := range list() {
		if v := row.(map[string]any)["volid"].(string); !before[v] {
			return v
		}
	}
	t.Fatal("the backup added no volume")
	return ""
}

// resizeHoldsLock starts a resize of CT 110 whose task never ends and
// waits until it holds the config lock.
func resizeHoldsLock(t *testing.T, s *Sim) string {
	n := s.Node("pve")
	upidOf(t, call(t, n, adminToken, http.MethodPut, "/nodes/pve/lxc/110/resize", url.Values{"disk": {"rootfs"}, "size": {"+1G"}}))
	n.estate.mu.Lock()
	g := n.estate.guests[110]
	n.estate.mu.Unlock()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for len(g.flock) == 0 {
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatal("the resize never took the config lock")
		}
	}
	return ""
}

// skippedShapes are older or HA forms the simulator does not produce.
func isOlderForm(file string) bool {
	for _, suffix := range []string{"_7x.json", "_8_0.json", "_8_1.json", "_8_3.json", "_ha_bool.json", "_ha_managed.json"} {
		if strings.HasSuffix(file, suffix) {
			return true
		}
	}
	return false
}

func TestShapes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(shapeDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded shapes in %s: %v", shapeDir, err)
	}
	cases := shapeCases()
	for _, f := range files {
		name := filepath.Base(f)
		if isOlderForm(name) {
			continue
		}
		tc, ok := cases[name]
		if !ok {
			t.Errorf("%s: no shape case; add one to shapeCases", name)
			continue
		}
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			runShapeCase(t, f, tc)
		})
	}
}

func runShapeCase(t *testing.T, file string, tc shapeCase) {
	opts := testOptions()
	opts.Dir = t.TempDir()
	if tc.slow {
		opts.TaskDuration = time.Hour
	}
	if tc.opts != nil {
		tc.opts(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if tc.tok.User == "" {
		tc.tok = adminToken
	}
	n := s.Node("pve")
	path, method := tc.path, tc.method
	if tc.prep != nil {
		switch p := tc.prep(t, s); {
		case strings.HasPrefix(p, "@"):
			n = s.Node(p[1:])
		case strings.Contains(p, " "):
			method, path, _ = strings.Cut(p, " ")
		case p != "":
			path = p
		}
	}
	got, err := tryCall(t.Context(), n, authHeader(tc.tok), method, path, tc.form)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	c := shapeCmp{loose: setOf(tc.loose), dynamic: setOf(tc.dynamic), mixed: setOf(tc.mixed)}
	if strings.HasPrefix(filepath.Base(file), "error_") {
		w := want.(map[string]any)
		reason := w["reason"].(string)
		if got.status != int(w["status"].(float64)) ||
			(tc.reasonPrefix == "" && got.reason != reason) || !strings.HasPrefix(got.reason, tc.reasonPrefix) {
			t.Fatalf("got %d %q, want %v %q", got.status, got.reason, w["status"], reason)
		}
		var gotBody any
		if got.body != nil {
			gotBody = map[string]any(got.body)
		}
		c.compare("body", w["body"], gotBody)
	} else {
		wantStatus(t, got, 200, "")
		c.compare("", want, map[string]any(got.body))
	}
	for _, e := range c.errs {
		t.Error(e)
	}
	if t.Failed() {
		t.Logf("simulator answer: %s", got.raw)
	}
}

func setOf(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// shapeCmp compares JSON values by field names and JSON types.
type shapeCmp struct {
	loose, dynamic, mixed map[string]bool
	errs                  []string
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *shapeCmp) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *shapeCmp) compare(path string, want, got any) {
	if c.mixed[path] {
		return
	}
	if wt, gt := jsonType(want), jsonType(got); wt != gt {
		c.fail("%s: type %s, want %s", path, gt, wt)
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		if c.dynamic[path] {
			merged, _ := mergeValues(slices.Collect(mapsValues(w)))
			for k, v := range g {
				if merged != nil {
					c.compare(path+".*", merged, v)
				}
				_ = k
			}
			return
		}
		c.compareObject(path, w, g, keysOf(w))
	case []any:
		g := got.([]any)
		if len(w) == 0 {
			return
		}
		merged, required := mergeValues(w)
		for _, gv := range g {
			if wm, ok := merged.(map[string]any); ok {
				gm, ok := gv.(map[string]any)
				if !ok {
					c.fail("%s[]: type %s, want object", path, jsonType(gv))
					continue
				}
				c.compareObject(path+"[]", wm, gm, required)
				continue
			}
			c.compare(path+"[]", merged, gv)
		}
	}
}

// compareObject checks required keys are present and every key has the right type.
func (c *shapeCmp) compareObject(path string, want, got map[string]any, required []string) {
	for _, k := range required {
		if _, ok := got[k]; !ok && !c.loose[join(path, k)] {
			c.fail("%s: missing", join(path, k))
		}
	}
	for _, k := range keysOf(got) {
		wv, ok := want[k]
		if !ok {
			if !c.loose[join(path, k)] {
				c.fail("%s: not in the recorded shape", join(path, k))
			}
			continue
		}
		c.compare(join(path, k), wv, got[k])
	}
}

// mergeValues folds array items into one: objects get the union of their
// keys; required are the keys every item has.
func mergeValues(items []any) (any, []string) {
	if len(items) == 0 {
		return nil, nil
	}
	first, ok := items[0].(map[string]any)
	if !ok {
		return items[0], nil
	}
	merged := map[string]any{}
	count := map[string]int{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range m {
			if _, seen := merged[k]; !seen || merged[k] == nil {
				merged[k] = v
			}
			count[k]++
		}
	}
	_ = first
	var required []string
	for k, n := range count {
		if n == len(items) {
			required = append(required, k)
		}
	}
	sort.Strings(required)
	return merged, required
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mapsValues(m map[string]any) func(func(any) bool) {
	return func(yield func(any) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}
