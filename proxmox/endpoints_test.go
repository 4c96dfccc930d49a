package proxmox

import (
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestClient_ReadEndpoints(t *testing.T) {
	f := newFakePVE(t)
	c := f.client()
	ctx := t.Context()

	t.Run("Version", func(t *testing.T) {
		for file, want := range map[string]Version{
			"version.json":    {Version: "9.0.6", Release: "9.0", RepoID: "49c767b70aeb6648"},
			"version_7x.json": {Version: "7.2-3", Release: "7.2", RepoID: "c743d6c1"},
		} {
			f.fixture("GET", "/version", file)
			got, err := c.Version(ctx)
			if err != nil || *got != want {
				t.Errorf("%s: %+v, %v", file, got, err)
			}
		}
	})

	t.Run("Nodes", func(t *testing.T) {
		f.fixture("GET", "/nodes", "nodes.json")
		nodes, err := c.Nodes(ctx)
		if err != nil || len(nodes) != 2 {
			t.Fatalf("%v, %v", nodes, err)
		}
		on, off := nodes[0], nodes[1]
		if on.CPU == nil || *on.CPU != 0.0231 || *on.MaxCPU != 8 || *on.Uptime != 864210 || on.SSLFingerprint[:5] != "80:D4" {
			t.Errorf("online node %+v", on)
		}
		if off.Status != "offline" || off.CPU != nil || off.Uptime != nil || off.MaxMem == nil {
			t.Errorf("offline node: absent metrics must be nil: %+v", off)
		}
		f.fixture("GET", "/nodes", "nodes_no_audit.json")
		nodes, err = c.Nodes(ctx)
		if err != nil || nodes[0].MaxCPU != nil || nodes[0].Status != "online" {
			t.Errorf("no-audit node %+v, %v", nodes, err)
		}
	})

	t.Run("NodeStatus", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/status", "node_status.json")
		st, err := c.NodeStatus(ctx, "pve")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st.LoadAvg, []Float{0.12, 0.20, 0.18}) || st.CPUInfo.MHz != 3192 ||
			st.Memory.Available != 26843545600 || st.CurrentKernel.Release != "6.14.8-2-pve" ||
			st.BootInfo.Mode != "efi" || st.PVEVersion != "pve-manager/9.0.6/49c767b70aeb6648" {
			t.Errorf("node status %+v", st)
		}
	})

	t.Run("ClusterStatus", func(t *testing.T) {
		f.fixture("GET", "/cluster/status", "cluster_status.json")
		cs, err := c.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cs.Name != "homelab" || !cs.Quorate || len(cs.Nodes) != 2 || !cs.Nodes[0].Local ||
			cs.Nodes[1].Online || cs.Nodes[1].IP != "192.168.1.11" || cs.Nodes[1].NodeID != 2 {
			t.Errorf("cluster %+v", cs)
		}
		f.fixture("GET", "/cluster/status", "cluster_status_standalone.json")
		cs, err = c.ClusterStatus(ctx)
		if err != nil || cs.Name != "" || len(cs.Nodes) != 1 || cs.Nodes[0].Name != "pve" {
			t.Errorf("standalone %+v, %v", cs, err)
		}
		f.fixture("GET", "/cluster/status", "error_403_cluster_status.json")
		_, err = c.ClusterStatus(ctx)
		if e := wantKind(t, err, ErrForbidden, KindForbidden); e.Privilege != "Sys.Audit" || e.ACLPath != "/" {
			t.Errorf("privilege %q on %q", e.Privilege, e.ACLPath)
		}
	})

	t.Run("ClusterResources", func(t *testing.T) {
		f.fixture("GET", "/cluster/resources", "cluster_resources_vm.json")
		rs, err := c.ClusterResources(ctx)
		if err != nil || len(rs) != 5 {
			t.Fatalf("%v, %v", rs, err)
		}
		if q := f.requests("GET", "/cluster/resources")[0].Query.Get("type"); q != "vm" {
			t.Errorf("type=%q, want vm", q)
		}
		ct := rs[0]
		if ct.VMID != 105 || ct.Type != "lxc" || ct.Node != "pve" || ct.MaxMem != 2147483648 || ct.CPU != 0.0061 ||
			ct.Uptime != 3600 || !reflect.DeepEqual(ct.TagList(), []string{"iot", "mqtt"}) {
			t.Errorf("lxc row %+v", ct)
		}
		if rs[1].Status != "unknown" || rs[1].Lock != "create" || rs[2].Type != "qemu" || !bool(rs[4].Template) || rs[3].HAState != "started" {
			t.Errorf("rows %+v", rs)
		}
	})

	t.Run("NextID", func(t *testing.T) {
		f.fixture("GET", "/cluster/nextid", "nextid.json")
		id, err := c.NextID(ctx)
		if err != nil || id != 100 {
			t.Errorf("NextID = %d, %v", id, err)
		}
		f.fixture("GET", "/cluster/nextid", "nextid_vmid_free.json")
		free, err := c.VMIDFree(ctx, 150)
		if err != nil || !free {
			t.Errorf("VMIDFree(150) = %v, %v", free, err)
		}
		for _, file := range []string{"error_400_nextid_taken.json", "error_400_nextid_taken_8_3.json"} {
			f.fixture("GET", "/cluster/nextid", file)
			free, err = c.VMIDFree(ctx, 200)
			if err != nil || free {
				t.Errorf("%s: VMIDFree(200) = %v, %v", file, free, err)
			}
		}
		if got := f.requests("GET", "/cluster/nextid"); got[len(got)-1].Query.Get("vmid") != "200" {
			t.Errorf("vmid query %v", got[len(got)-1].Query)
		}
	})

	t.Run("LXCs", func(t *testing.T) {
		for _, file := range []string{"lxc_list.json", "lxc_list_8_1.json"} {
			f.fixture("GET", "/nodes/pve/lxc", file)
			cts, err := c.LXCs(ctx, "pve")
			if err != nil || len(cts) < 2 {
				t.Fatalf("%s: %v, %v", file, cts, err)
			}
			if cts[0].VMID != 105 || cts[0].PID != 12345 || cts[0].CPUs != 2 || cts[0].MaxMem != 2147483648 ||
				cts[1].VMID != 110 || cts[1].Status != "stopped" || cts[1].Lock != "create" {
				t.Errorf("%s: %+v", file, cts)
			}
		}
	})

	t.Run("LXCStatus", func(t *testing.T) {
		for file, managed := range map[string]bool{
			"lxc_status_current.json":            false,
			"lxc_status_current_ha_managed.json": true,
			"lxc_status_current_ha_bool.json":    true,
		} {
			f.fixture("GET", "/nodes/pve/lxc/105/status/current", file)
			st, err := c.LXCStatus(ctx, "pve", 105)
			if err != nil || st.VMID != 105 || st.Status != "running" || bool(st.HA.Managed) != managed {
				t.Errorf("%s: %+v, %v", file, st, err)
			}
		}
	})

	t.Run("LXCConfig", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/lxc/105/config", "lxc_config.json")
		cfg, err := c.LXCConfig(ctx, "pve", 105)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Hostname() != "mqtt" || cfg.Cores() != 2 || cfg.Memory() != 2048 || cfg.Swap() != 512 ||
			!cfg.Unprivileged() || !cfg.OnBoot() || cfg["cpulimit"] != "1.5" || cfg["description"] != "MQTT broker\nmanaged by Corral\n" {
			t.Errorf("config %v", cfg)
		}
		if rf := cfg.RootFS(); rf.Volume != "local-lvm:vm-105-disk-0" || rf.Size != "8G" || rf.Storage() != "local-lvm" {
			t.Errorf("rootfs %+v", rf)
		}
		if ft := cfg.Features(); !ft.Nesting || !ft.Keyctl || ft.Fuse {
			t.Errorf("features %+v", ft)
		}
		if got := cfg.NetIndexes(); !reflect.DeepEqual(got, []int{0, 1}) {
			t.Errorf("net indexes %v", got)
		}
		n0, _ := cfg.Net(0)
		n1, ok := cfg.Net(1)
		if n0.IP != "dhcp" || n0.StaticIPv4() != "" || !n0.Firewall || n0.HWAddr != "BC:24:11:2E:C5:7E" ||
			!ok || n1.StaticIPv4() != "10.0.20.5" || n1.Tag != 20 || n1.GW != "10.0.20.1" {
			t.Errorf("net0 %+v net1 %+v", n0, n1)
		}
		if _, ok := cfg.Net(2); ok {
			t.Error("net2 reported as configured")
		}
		f.fixture("GET", "/nodes/pve/lxc/106/config", "lxc_config_creating.json")
		cfg, err = c.LXCConfig(ctx, "pve", 106)
		if err != nil || cfg.Lock() != "create" || cfg.Hostname() != "" {
			t.Errorf("creating config %v, %v", cfg, err)
		}
	})

	t.Run("LXCInterfaces", func(t *testing.T) {
		for _, file := range []string{"lxc_interfaces.json", "lxc_interfaces_8_0.json"} {
			f.fixture("GET", "/nodes/pve/lxc/105/interfaces", file)
			ifs, err := c.LXCInterfaces(ctx, "pve", 105)
			if err != nil || len(ifs) != 2 || PrimaryIPv4(ifs) != "192.168.3.95" {
				t.Errorf("%s: %+v, %v", file, ifs, err)
			}
		}
		f.fixture("GET", "/nodes/pve/lxc/105/interfaces", "lxc_interfaces_stopped.json")
		ifs, err := c.LXCInterfaces(ctx, "pve", 105)
		if err != nil || ifs != nil {
			t.Errorf("stopped: %+v, %v", ifs, err)
		}
		f.fixture("GET", "/nodes/pve/lxc/105/interfaces", "error_501_not_implemented.json")
		_, err = c.LXCInterfaces(ctx, "pve", 105)
		wantKind(t, err, ErrNotFound, KindNotFound)
	})

	t.Run("LXCRRDData", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/lxc/105/rrddata", "lxc_rrddata.json")
		pts, err := c.LXCRRDData(ctx, "pve", 105, "hour")
		if err != nil || len(pts) != 3 || pts[0].NetIn != 123.45 || pts[2].Time != 1764680580 || pts[2].CPU != 0 {
			t.Errorf("%+v, %v", pts, err)
		}
		if q := f.requests("GET", "/nodes/pve/lxc/105/rrddata")[0].Query; q.Get("timeframe") != "hour" {
			t.Errorf("query %v", q)
		}
	})

	t.Run("Storage", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/storage", "storage.json")
		ss, err := c.Storages(ctx, "pve", "rootdir")
		if err != nil || len(ss) != 3 || !ss[1].Holds("rootdir") || ss[0].Holds("rootdir") || ss[1].Avail != 354912803016 ||
			bool(ss[2].Active) || ss[2].Total != 0 {
			t.Errorf("%+v, %v", ss, err)
		}
		if q := f.requests("GET", "/nodes/pve/storage")[0].Query.Get("content"); q != "rootdir" {
			t.Errorf("content=%q", q)
		}
		f.fixture("GET", "/nodes/pve/storage/local/content", "storage_content_vztmpl.json")
		vols, err := c.StorageContent(ctx, "pve", "local", "vztmpl")
		if err != nil || len(vols) != 2 || vols[1].Size != 141589318 || vols[1].Format != "tzst" {
			t.Errorf("%+v, %v", vols, err)
		}
	})

	t.Run("Bridges", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/network", "network_any_bridge.json")
		br, err := c.Bridges(ctx, "pve")
		if err != nil || len(br) != 2 || br[0].Iface != "vmbr0" || br[0].Netmask != "24" || br[1].MTU != 9000 || !bool(br[1].VLANAware) {
			t.Errorf("%+v, %v", br, err)
		}
		if q := f.requests("GET", "/nodes/pve/network")[0].Query.Get("type"); q != "any_bridge" {
			t.Errorf("type=%q", q)
		}
	})

	t.Run("Aplinfo", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/aplinfo", "aplinfo.json")
		apps, err := c.Aplinfo(ctx, "pve")
		if err != nil || len(apps) != 2 || apps[0].Template != "debian-12-standard_12.12-1_amd64.tar.zst" || apps[1].Section != "turnkeylinux" {
			t.Errorf("%+v, %v", apps, err)
		}
	})

	t.Run("Permissions", func(t *testing.T) {
		f.fixture("GET", "/access/permissions", "access_permissions.json")
		p, err := c.Permissions(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if !p.Has("/vms/105", "VM.Audit") || !p.Has("/", "Sys.Audit") || !p.Has("/storage/local", "Datastore.AllocateSpace") ||
			p.Has("/storage/nas", "Datastore.AllocateTemplate") || !p.Has("/storage/local", "Datastore.AllocateTemplate") {
			t.Errorf("Has gives wrong answers for %v", p)
		}
		if m := p.Missing("/vms/105", []string{"VM.Audit", "Sys.Modify"}); !reflect.DeepEqual(m, []string{"Sys.Modify"}) {
			t.Errorf("missing %v", m)
		}
		if m := p.MissingForCorral(); !reflect.DeepEqual(m, []string{"SDN.Use on /sdn/zones/localnetwork"}) {
			t.Errorf("missing for corral %v", m)
		}
		f.fixture("GET", "/access/permissions", "access_permissions_empty.json")
		p, err = c.Permissions(ctx, "/vms")
		if err != nil || len(p) != 0 || p.Has("/vms", "VM.Audit") || len(p.MissingForCorral()) != 14 {
			t.Errorf("empty: %v, %v", p, err)
		}
	})
}

func TestClient_RetryRecovers(t *testing.T) {
	f := newFakePVE(t)
	ok := fixtureHandler(t, "version.json")
	var calls atomic.Int32
	f.handle("GET", "/version", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			writeRaw(w, 503, "Service Unavailable", nil)
			return
		}
		ok(w, r)
	})
	v, err := f.client().Version(t.Context())
	if err != nil || v.Version != "9.0.6" || calls.Load() != 3 {
		t.Fatalf("version %+v, err %v after %d calls", v, err, calls.Load())
	}
}

func TestClient_Writes(t *testing.T) {
	f := newFakePVE(t)
	f.fixture("POST", "/nodes/pve/lxc", "lxc_create.json")
	f.fixture("POST", "/nodes/pve/lxc/105/status/start", "lxc_start.json")
	f.fixture("POST", "/nodes/pve/lxc/105/status/shutdown", "lxc_shutdown.json")
	f.fixture("DELETE", "/nodes/pve/lxc/105", "lxc_delete.json")
	f.fixture("POST", "/nodes/pve/aplinfo", "aplinfo_download.json")
	c := f.client()
	ctx := t.Context()

	t.Run("CreateLXC", func(t *testing.T) {
		swap := 0
		unpriv := true
		upid, err := c.CreateLXC(ctx, "pve", CreateLXCParams{
			VMID: 105, OSTemplate: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", Hostname: "mqtt",
			Storage: "local-lvm", RootFS: "local-lvm:8", Cores: 2, Memory: 2048, Swap: &swap,
			Net:      map[int]NetConfig{0: {Name: "eth0", Bridge: "vmbr0", IP: "dhcp", Firewall: true}},
			Password: "s3cret-pw", SSHPublicKeys: "ssh-ed25519 AAAA test", Unprivileged: &unpriv,
			Features: &Features{Nesting: true}, Start: true, Tags: []string{"iot", "mqtt"}, Nameserver: "1.1.1.1",
		})
		if err != nil || upid != testUPID {
			t.Fatalf("upid %q, %v", upid, err)
		}
		got := f.requests("POST", "/nodes/pve/lxc")[0].Form
		want := map[string]string{
			"vmid": "105", "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "hostname": "mqtt",
			"storage": "local-lvm", "rootfs": "local-lvm:8", "cores": "2", "memory": "2048", "swap": "0",
			"net0": "name=eth0,bridge=vmbr0,firewall=1,ip=dhcp", "password": "s3cret-pw",
			"ssh-public-keys": "ssh-ed25519 AAAA test", "unprivileged": "1", "features": "nesting=1",
			"start": "1", "tags": "iot;mqtt", "nameserver": "1.1.1.1",
		}
		if len(got) != len(want) {
			t.Errorf("form has %d keys, want %d: %v", len(got), len(want), got)
		}
		for k, v := range want {
			if got.Get(k) != v {
				t.Errorf("form %s = %q, want %q", k, got.Get(k), v)
			}
		}
		if _, err := c.CreateLXC(ctx, "pve", CreateLXCParams{VMID: 105}); err == nil {
			t.Error("create without ostemplate accepted")
		}
	})

	t.Run("Power", func(t *testing.T) {
		if upid, err := c.Start(ctx, "pve", 105); err != nil || upid == "" {
			t.Fatalf("start %q, %v", upid, err)
		}
		if _, err := c.Shutdown(ctx, "pve", 105, 30*time.Second, true); err != nil {
			t.Fatal(err)
		}
		form := f.requests("POST", "/nodes/pve/lxc/105/status/shutdown")[0].Form
		if form.Get("timeout") != "30" || form.Get("forceStop") != "1" {
			t.Errorf("shutdown form %v", form)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		upid, err := c.Delete(ctx, "pve", 105, DeleteOptions{Purge: true, DestroyUnreferencedDisks: true})
		if err != nil || upid == "" {
			t.Fatalf("delete %q, %v", upid, err)
		}
		r := f.requests("DELETE", "/nodes/pve/lxc/105")[0]
		if r.Query.Get("purge") != "1" || r.Query.Get("destroy-unreferenced-disks") != "1" || r.Query.Has("force") || r.BodyLen > 0 {
			t.Errorf("delete query %v body %d", r.Query, r.BodyLen)
		}
	})

	t.Run("DownloadAppliance", func(t *testing.T) {
		upid, err := c.DownloadAppliance(ctx, "pve", "local", "debian-12-standard_12.12-1_amd64.tar.zst")
		if u, perr := ParseUPID(upid); err != nil || perr != nil || u.Type != "download" {
			t.Fatalf("upid %q, %v, %v", upid, err, perr)
		}
		form := f.requests("POST", "/nodes/pve/aplinfo")[0].Form
		if form.Get("storage") != "local" || form.Get("template") != "debian-12-standard_12.12-1_amd64.tar.zst" {
			t.Errorf("form %v", form)
		}
	})
}
