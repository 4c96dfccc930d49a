package proxmox_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"corral/proxmox"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
)

// These tests drive the real client against pvesim over real HTTPS, so the
// client and the simulator are held to the same reading of the PVE API.

const (
	pvesimDebian = "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst"
	pvesimAlpine = "alpine-3.22-default_20250617_amd64.tar.xz"
)

// pvesimStart starts the demo estate with instant tasks.
func pvesimStart(t *testing.T) *pvesim.Sim {
	t.Helper()
	return simtest.Demo(t)
}

// pvesimConfig is a pinned config for node with the demo token.
func pvesimConfig(node *pvesim.Node) proxmox.Config {
	return proxmox.Config{
		Host: node.Host(), Port: node.Port(),
		TokenID: pvesim.DemoTokenID, TokenSecret: pvesim.DemoTokenSecret,
		Fingerprint: node.Fingerprint(),
	}
}

// pvesimFastOpts keep polls and retry backoff short; behaviour is unchanged.
func pvesimFastOpts(extra ...proxmox.Option) []proxmox.Option {
	return append([]proxmox.Option{
		proxmox.WithPollInterval(5 * time.Millisecond),
		proxmox.WithRetry(proxmox.Retry{Attempts: 3, Base: 5 * time.Millisecond, Max: 20 * time.Millisecond}),
	}, extra...)
}

func pvesimClientFor(t *testing.T, cfg proxmox.Config, opts ...proxmox.Option) *proxmox.Client {
	t.Helper()
	c, err := proxmox.New(cfg, pvesimFastOpts(opts...)...)
	if err != nil {
		t.Fatalf("proxmox.New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func pvesimClient(t *testing.T, sim *pvesim.Sim, node string, opts ...proxmox.Option) *proxmox.Client {
	t.Helper()
	n := sim.Node(node)
	if n == nil {
		t.Fatalf("no sim node %q", node)
	}
	return pvesimClientFor(t, pvesimConfig(n), opts...)
}

// pvesimPerr asserts err is a *proxmox.Error matching sentinel and returns it.
func pvesimPerr(t *testing.T, err error, sentinel error) *proxmox.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v (%T) is not %v", err, err, sentinel)
	}
	var perr *proxmox.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v is not a *proxmox.Error", err)
	}
	return perr
}

// pvesimWait waits for upid and returns the log lines WaitTask streamed.
func pvesimWait(t *testing.T, c *proxmox.Client, upid string) []string {
	t.Helper()
	if upid == "" {
		t.Fatal("empty UPID")
	}
	var lines []string
	if err := c.WaitTask(t.Context(), "", upid, func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatalf("WaitTask(%s): %v (log %q)", upid, err, lines)
	}
	return lines
}

// pvesimFailingResolver fails every lookup without any packet leaving the process.
func pvesimFailingResolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
}

func TestPvesimReads(t *testing.T) {
	sim := pvesimStart(t)
	c := pvesimClient(t, sim, "pve1")
	ctx := t.Context()

	t.Run("Version", func(t *testing.T) {
		v, err := c.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.Version == "" || v.Release == "" || v.RepoID == "" {
			t.Errorf("version not filled: %+v", v)
		}
	})

	t.Run("Nodes", func(t *testing.T) {
		nodes, err := c.Nodes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range nodes {
			names = append(names, n.Node)
			if n.Status != "online" || n.MaxMem == nil || *n.MaxMem <= 0 {
				t.Errorf("node %s: status %q maxmem %v", n.Node, n.Status, n.MaxMem)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"pve1", "pve2", "pve3"}) {
			t.Errorf("nodes = %v", names)
		}
	})

	t.Run("NodeStatus", func(t *testing.T) {
		st, err := c.NodeStatus(ctx, "pve1")
		if err != nil {
			t.Fatal(err)
		}
		if st.PVEVersion == "" || st.Memory.Total <= 0 || st.CPUInfo.CPUs <= 0 || len(st.LoadAvg) != 3 {
			t.Errorf("node status not filled: %+v", st)
		}
		// Another member's status goes through pve1's cluster proxy.
		if _, err := c.NodeStatus(ctx, "pve3"); err != nil {
			t.Errorf("NodeStatus(pve3) via pve1: %v", err)
		}
	})

	t.Run("ClusterStatus", func(t *testing.T) {
		st, err := c.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Name != "homelab" || len(st.Nodes) != 3 || !st.Quorate {
			t.Fatalf("cluster status = %+v", st)
		}
		var local []string
		for _, n := range st.Nodes {
			if n.Local {
				local = append(local, n.Name)
			}
			if !n.Online || n.IP == "" {
				t.Errorf("member %+v not online with an IP", n)
			}
		}
		if !slices.Equal(local, []string{"pve1"}) {
			t.Errorf("local members = %v, want [pve1]", local)
		}

		solo, err := pvesimClient(t, sim, "pve-solo").ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if solo.Name != "" || len(solo.Nodes) != 1 || solo.Nodes[0].Name != "pve-solo" || !solo.Nodes[0].Local {
			t.Errorf("standalone status = %+v", solo)
		}
	})

	t.Run("ClusterResources", func(t *testing.T) {
		rows, err := c.ClusterResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := proxmox.GuestsFromResources(rows)
		types := map[string]bool{}
		for _, r := range rows {
			types[r.Type] = true
		}
		if !types["lxc"] || !types["qemu"] || len(types) != 2 {
			t.Errorf("resource types = %v", types)
		}
		if len(got) != 6 {
			t.Errorf("got %d guests, want the demo's 6: %+v", len(got), got)
		}
		for _, r := range rows {
			if r.VMID == 200 && (r.Type != "qemu" || r.Node != "pve2" || r.ID != "qemu/200") {
				t.Errorf("vm 200 = %+v", r)
			}
			if r.VMID == 103 && (r.Type != "lxc" || r.Node != "pve3" || r.Name != "jellyfin" || r.Status != "running") {
				t.Errorf("ct 103 = %+v", r)
			}
		}
	})

	t.Run("NextID", func(t *testing.T) {
		id, err := c.NextID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if id != 104 { // 100-103, 200 and 201 are taken
			t.Errorf("NextID = %d, want 104", id)
		}
		if free, err := c.VMIDFree(ctx, 150); err != nil || !free {
			t.Errorf("VMIDFree(150) = %v, %v", free, err)
		}
		if free, err := c.VMIDFree(ctx, 201); err != nil || free {
			t.Errorf("VMIDFree(201) (a VM) = %v, %v", free, err)
		}
	})

	t.Run("LXCs", func(t *testing.T) {
		cts, err := c.LXCs(ctx, "pve1")
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int]proxmox.Container{}
		for _, ct := range cts {
			byID[int(ct.VMID)] = ct
		}
		if len(byID) != 2 || byID[100].Name != "pihole" || byID[101].Name != "mqtt" {
			t.Fatalf("LXCs(pve1) = %+v", cts)
		}
		if !slices.Equal(byID[100].TagList(), []string{"dns", "infra"}) || byID[100].Status != "running" {
			t.Errorf("ct 100 = %+v", byID[100])
		}
	})

	t.Run("LXCStatus", func(t *testing.T) {
		st, err := c.LXCStatus(ctx, "pve1", 100)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != "running" || st.Name != "pihole" || st.MaxMem != 512<<20 || st.PID <= 0 {
			t.Errorf("status = %+v", st)
		}
		st, err = c.LXCStatus(ctx, "pve2", 102) // proxied to pve2
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != "stopped" || st.Name != "nextcloud" {
			t.Errorf("status of 102 = %+v", st)
		}
	})

	t.Run("LXCConfig", func(t *testing.T) {
		cfg, err := c.LXCConfig(ctx, "pve1", 100)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Hostname() != "pihole" || cfg.Cores() != 1 || cfg.Memory() != 512 {
			t.Errorf("config = %v", cfg)
		}
		net0, ok := cfg.Net(0)
		if !ok || net0.Name != "eth0" || net0.Bridge != "vmbr0" || net0.IP != "dhcp" || net0.HWAddr == "" {
			t.Errorf("net0 = %+v (ok %v) from %q", net0, ok, cfg["net0"])
		}
		if rfs := cfg.RootFS(); rfs.Storage() == "" || rfs.Size != "4G" || !strings.Contains(rfs.Volume, "100") {
			t.Errorf("rootfs = %+v from %q", rfs, cfg["rootfs"])
		}
		if !slices.Equal(cfg.Tags(), []string{"dns", "infra"}) {
			t.Errorf("tags = %v", cfg.Tags())
		}
	})

	t.Run("LXCInterfaces", func(t *testing.T) {
		ifs, err := c.LXCInterfaces(ctx, "pve1", 100)
		if err != nil {
			t.Fatal(err)
		}
		ip := proxmox.PrimaryIPv4(ifs)
		if net.ParseIP(ip) == nil || ip == "127.0.0.1" {
			t.Errorf("primary IPv4 %q from %+v", ip, ifs)
		}
	})

	t.Run("LXCRRDData", func(t *testing.T) {
		pts, err := c.LXCRRDData(ctx, "pve1", 100, "hour")
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) == 0 || pts[len(pts)-1].Time <= pts[0].Time || pts[0].MaxMem <= 0 {
			t.Errorf("rrd points = %d: %+v", len(pts), pts)
		}
	})

	t.Run("Storages", func(t *testing.T) {
		tmpl, err := c.Storages(ctx, "pve1", "vztmpl")
		if err != nil {
			t.Fatal(err)
		}
		if len(tmpl) != 1 || tmpl[0].Storage != "local" || !tmpl[0].Holds("vztmpl") {
			t.Errorf("vztmpl storages = %+v", tmpl)
		}
		root, err := c.Storages(ctx, "pve1", "rootdir")
		if err != nil {
			t.Fatal(err)
		}
		if len(root) != 1 || root[0].Storage != "local-lvm" || root[0].Total <= 0 || !bool(root[0].Active) {
			t.Errorf("rootdir storages = %+v", root)
		}
	})

	t.Run("StorageContent", func(t *testing.T) {
		vols, err := c.StorageContent(ctx, "pve1", "local", "vztmpl")
		if err != nil {
			t.Fatal(err)
		}
		if !pvesimHasVolume(vols, pvesimDebian) {
			t.Errorf("%s missing from %+v", pvesimDebian, vols)
		}
		for _, v := range vols {
			if v.Content != "vztmpl" || v.Size <= 0 {
				t.Errorf("volume %+v", v)
			}
		}
	})

	t.Run("Bridges", func(t *testing.T) {
		brs, err := c.Bridges(ctx, "pve1")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, b := range brs {
			names = append(names, b.Iface)
			if !strings.Contains(strings.ToLower(b.Type), "bridge") {
				t.Errorf("Bridges returned %s of type %s", b.Iface, b.Type)
			}
		}
		if !slices.Contains(names, "vmbr0") {
			t.Errorf("bridges = %v", names)
		}
	})

	t.Run("Permissions", func(t *testing.T) {
		p, err := c.Permissions(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if m := p.MissingForCorral(); len(m) != 0 {
			t.Errorf("demo token misses %v (permissions %v)", m, p)
		}
	})

	t.Run("Probe", func(t *testing.T) {
		n := sim.Node("pve2")
		res, err := proxmox.Probe(ctx, n.Host(), n.Port())
		if err != nil {
			t.Fatal(err)
		}
		if res.Fingerprint != n.Fingerprint() {
			t.Errorf("probe = %+v, want fingerprint %s", res, n.Fingerprint())
		}
		if res.TrustedByCA {
			t.Error("a cluster CA certificate should not verify against the system roots")
		}
		// The token then goes to exactly the certificate the probe saw.
		cfg := pvesimConfig(n)
		cfg.Fingerprint = res.Fingerprint
		if v, err := pvesimClientFor(t, cfg).Version(ctx); err != nil || v.Version == "" {
			t.Errorf("version over the probed pin: %+v, %v", v, err)
		}
	})
}

func pvesimHasVolume(vols []proxmox.Volume, volid string) bool {
	return slices.ContainsFunc(vols, func(v proxmox.Volume) bool { return v.VolID == volid })
}

func TestPvesimContainerLifecycle(t *testing.T) {
	sim := pvesimStart(t)
	node := sim.Node("pve1")
	c := pvesimClient(t, sim, "pve1")
	ctx := t.Context()
	const vmid = 150

	swap := 0
	unpriv := true
	upid, err := c.CreateLXC(ctx, "pve1", proxmox.CreateLXCParams{
		VMID: vmid, OSTemplate: pvesimDebian, Hostname: "lifecycle", RootFS: "local-lvm:4",
		Cores: 2, Memory: 1024, Swap: &swap, Unprivileged: &unpriv,
		Features: &proxmox.Features{Nesting: true}, Tags: []string{"corral", "test"},
		Net:      map[int]proxmox.NetConfig{0: {Name: "eth0", Bridge: "vmbr0", IP: "10.0.0.50/24", GW: "10.0.0.1"}},
		Password: "s3cret-pass",
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := proxmox.ParseUPID(upid)
	if err != nil || u.Node != "pve1" {
		t.Fatalf("ParseUPID(%q) = %+v, %v", upid, u, err)
	}
	if !strings.Contains(upid, "@") || !strings.Contains(upid, "!") {
		t.Fatalf("UPID %q lacks the token id, so escaping is not exercised", upid)
	}
	lines := pvesimWait(t, c, upid)
	if len(lines) < 2 || lines[len(lines)-1] != "TASK OK" {
		t.Errorf("create log = %q", lines)
	}

	t.Run("TaskStatusAndLog", func(t *testing.T) {
		st, err := c.TaskStatus(ctx, "pve1", upid)
		if err != nil {
			t.Fatal(err)
		}
		if st.UPID != upid || st.Running() || !st.Succeeded() || st.ExitStatus != "OK" || st.Type != "vzcreate" || st.ID != "150" {
			t.Errorf("task status = %+v", st)
		}
		if st.User != "corral@pve" || st.TokenID != "corral" {
			t.Errorf("task owner = %q token %q", st.User, st.TokenID)
		}
		all, total, err := c.TaskLog(ctx, "pve1", upid, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		if total != len(lines) || len(all) != total || all[0].N != 1 || all[total-1].T != "TASK OK" {
			t.Errorf("log: total %d, %d lines, streamed %d: %+v", total, len(all), len(lines), all)
		}
		tail, total2, err := c.TaskLog(ctx, "pve1", upid, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if total2 != total || len(tail) != 1 || tail[0].N != 2 || tail[0].T != lines[1] {
			t.Errorf("paged log = %+v total %d, want line 2 %q", tail, total2, lines[1])
		}
	})

	t.Run("Config", func(t *testing.T) {
		cfg, err := c.LXCConfig(ctx, "pve1", vmid)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Hostname() != "lifecycle" || cfg.Cores() != 2 || cfg.Memory() != 1024 || cfg.Swap() != 0 ||
			!cfg.Unprivileged() || cfg.Lock() != "" {
			t.Errorf("config = %v", cfg)
		}
		if f := cfg.Features(); !f.Nesting || f.Keyctl {
			t.Errorf("features = %+v from %q", f, cfg["features"])
		}
		net0, ok := cfg.Net(0)
		if !ok || net0.StaticIPv4() != "10.0.0.50" || net0.GW != "10.0.0.1" || net0.Bridge != "vmbr0" || net0.HWAddr == "" {
			t.Errorf("net0 = %+v from %q", net0, cfg["net0"])
		}
		if rfs := cfg.RootFS(); rfs.Storage() != "local-lvm" || rfs.Size != "4G" {
			t.Errorf("rootfs = %+v from %q", rfs, cfg["rootfs"])
		}
		if _, ok := cfg["password"]; ok {
			t.Error("the root password leaked into the config")
		}
		// A stopped container has no runtime interfaces.
		ifs, err := c.LXCInterfaces(ctx, "pve1", vmid)
		if err != nil || len(ifs) != 0 {
			t.Errorf("interfaces of a stopped CT = %+v, %v", ifs, err)
		}
	})

	status := func(want string) {
		t.Helper()
		st, err := c.LXCStatus(ctx, "pve1", vmid)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != want {
			t.Fatalf("status = %q, want %q", st.Status, want)
		}
		if got, _ := node.GuestStatus(vmid); got != want {
			t.Fatalf("simulator says %q, want %q", got, want)
		}
	}
	power := func(name string, call func() (string, error)) {
		t.Helper()
		upid, err := call()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pvesimWait(t, c, upid)
	}

	status("stopped")
	power("start", func() (string, error) { return c.Start(ctx, "pve1", vmid) })
	status("running")
	ifs, err := c.LXCInterfaces(ctx, "pve1", vmid)
	if err != nil || proxmox.PrimaryIPv4(ifs) != "10.0.0.50" {
		t.Errorf("interfaces of the running CT = %+v, %v", ifs, err)
	}

	power("reboot", func() (string, error) { return c.Reboot(ctx, "pve1", vmid) })
	status("running")

	power("shutdown", func() (string, error) { return c.Shutdown(ctx, "pve1", vmid, 30*time.Second, false) })
	status("stopped")

	// A guest that ignores the request: without forceStop the task fails,
	// with it the container is killed after the timeout.
	node.IgnoreShutdown(vmid, true)
	power("start", func() (string, error) { return c.Start(ctx, "pve1", vmid) })
	upid, err = c.Shutdown(ctx, "pve1", vmid, 5*time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	perr := pvesimPerr(t, c.WaitTask(ctx, "pve1", upid, nil), proxmox.ErrTaskFailed)
	if perr.UPID != upid || perr.ExitStatus == "" || proxmox.TaskOK(perr.ExitStatus) {
		t.Errorf("failed shutdown error = %+v", perr)
	}
	status("running")
	power("forced shutdown", func() (string, error) { return c.Shutdown(ctx, "pve1", vmid, 5*time.Second, true) })
	status("stopped")
	node.IgnoreShutdown(vmid, false)

	power("start", func() (string, error) { return c.Start(ctx, "pve1", vmid) })
	power("stop", func() (string, error) { return c.Stop(ctx, "pve1", vmid) })
	status("stopped")

	power("delete", func() (string, error) { return c.Delete(ctx, "pve1", vmid, proxmox.DeleteOptions{Purge: true}) })
	pvesimPerr(t, pvesimErr(c.LXCStatus(ctx, "pve1", vmid)), proxmox.ErrNotFound)
	if dir := node.ContainerDir(vmid); dir != "" {
		t.Errorf("container dir %s survived the delete", dir)
	}
	if free, err := c.VMIDFree(ctx, vmid); err != nil || !free {
		t.Errorf("VMIDFree after delete = %v, %v", free, err)
	}
}

// pvesimErr drops a result, keeping the error.
func pvesimErr[T any](_ T, err error) error { return err }

func TestPvesimApplianceDownload(t *testing.T) {
	sim := pvesimStart(t)
	c := pvesimClient(t, sim, "pve2")
	ctx := t.Context()

	apps, err := c.Aplinfo(ctx, "pve2")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(apps, func(a proxmox.Appliance) bool { return a.Template == pvesimAlpine })
	if i < 0 {
		t.Fatalf("%s not in the catalogue of %d", pvesimAlpine, len(apps))
	}
	if a := apps[i]; a.Type != "lxc" || a.Section != "system" || a.SHA512Sum == "" || a.OS != "alpine-3.22" {
		t.Errorf("appliance = %+v", a)
	}
	before, err := c.StorageContent(ctx, "pve2", "local", "vztmpl")
	if err != nil {
		t.Fatal(err)
	}
	volid := "local:vztmpl/" + pvesimAlpine
	if pvesimHasVolume(before, volid) {
		t.Fatalf("%s present before the download", volid)
	}

	upid, err := c.DownloadAppliance(ctx, "pve2", "local", pvesimAlpine)
	if err != nil {
		t.Fatal(err)
	}
	if lines := pvesimWait(t, c, upid); len(lines) < 2 {
		t.Errorf("download log = %q", lines)
	}
	after, err := c.StorageContent(ctx, "pve2", "local", "vztmpl")
	if err != nil {
		t.Fatal(err)
	}
	if !pvesimHasVolume(after, volid) || len(after) != len(before)+1 {
		t.Errorf("after the download: %+v", after)
	}
	// Templates live on each node's own "local": pve1 does not have it.
	other, err := c.StorageContent(ctx, "pve1", "local", "vztmpl")
	if err != nil {
		t.Fatal(err)
	}
	if pvesimHasVolume(other, volid) {
		t.Errorf("%s appeared on pve1's local storage too", volid)
	}
}

func TestPvesimErrorsUnreachable(t *testing.T) {
	sim := pvesimStart(t)
	ctx := t.Context()

	t.Run("NodeDown", func(t *testing.T) {
		n := sim.Node("pve3")
		c := pvesimClient(t, sim, "pve3")
		if _, err := c.Version(ctx); err != nil {
			t.Fatal(err)
		}
		if err := n.SetDown(true); err != nil {
			t.Fatal(err)
		}
		perr := pvesimPerr(t, pvesimErr(c.Version(ctx)), proxmox.ErrUnreachable)
		if perr.Status != 0 || perr.Host != n.Addr() {
			t.Errorf("error = %+v", perr)
		}
		// The cluster proxy on pve1 reports the node as unreachable: 595.
		p1 := pvesimClient(t, sim, "pve1")
		perr = pvesimPerr(t, pvesimErr(p1.LXCStatus(ctx, "pve3", 103)), proxmox.ErrProxyTimeout)
		if perr.Status != 595 || perr.Message == "" {
			t.Errorf("proxied error = %+v", perr)
		}
		if err := n.SetDown(false); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Version(ctx); err != nil {
			t.Errorf("after SetDown(false): %v", err)
		}
	})

	t.Run("ClosedPort", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		cfg := pvesimConfig(sim.Node("pve1"))
		cfg.Port = port
		perr := pvesimPerr(t, pvesimErr(pvesimClientFor(t, cfg).Version(ctx)), proxmox.ErrUnreachable)
		if perr.Message != "connection refused" {
			t.Errorf("message = %q", perr.Message)
		}
		_, err = proxmox.Probe(ctx, "127.0.0.1", port)
		pvesimPerr(t, err, proxmox.ErrUnreachable)
	})

	t.Run("UnknownHost", func(t *testing.T) {
		cfg := pvesimConfig(sim.Node("pve1"))
		cfg.Host = "pve-nowhere.invalid"
		c := pvesimClientFor(t, cfg, proxmox.WithResolver(pvesimFailingResolver()))
		perr := pvesimPerr(t, pvesimErr(c.Version(ctx)), proxmox.ErrUnreachable)
		if !strings.Contains(perr.Message, "pve-nowhere.invalid") {
			t.Errorf("message = %q", perr.Message)
		}
		_, err := proxmox.Probe(ctx, cfg.Host, cfg.Port, proxmox.WithResolver(pvesimFailingResolver()))
		pvesimPerr(t, err, proxmox.ErrUnreachable)
	})
}

func TestPvesimErrorsTrustAndAuth(t *testing.T) {
	sim := pvesimStart(t)
	ctx := t.Context()

	t.Run("TLSMismatch", func(t *testing.T) {
		n := sim.Node("pve2")
		c := pvesimClient(t, sim, "pve2")
		old := n.Fingerprint()
		if _, err := c.Version(ctx); err != nil {
			t.Fatal(err)
		}
		if err := n.RotateCertificate(); err != nil {
			t.Fatal(err)
		}
		perr := pvesimPerr(t, pvesimErr(c.Nodes(ctx)), proxmox.ErrTLSMismatch)
		if perr.Expected != old || perr.Actual != n.Fingerprint() || perr.Actual == old {
			t.Errorf("expected %s actual %s; node now %s, was %s", perr.Expected, perr.Actual, n.Fingerprint(), old)
		}
		res, err := proxmox.Probe(ctx, n.Host(), n.Port())
		if err != nil || res.Fingerprint != n.Fingerprint() {
			t.Errorf("probe after rotation = %+v, %v", res, err)
		}
		// Re-pinning the new certificate works again.
		if _, err := pvesimClient(t, sim, "pve2").Nodes(ctx); err != nil {
			t.Errorf("re-pinned: %v", err)
		}
	})

	t.Run("BadToken", func(t *testing.T) {
		cfg := pvesimConfig(sim.Node("pve1"))
		cfg.TokenSecret = "00000000-0000-0000-0000-000000000000"
		perr := pvesimPerr(t, pvesimErr(pvesimClientFor(t, cfg).Version(ctx)), proxmox.ErrUnauthorized)
		if perr.Status != 401 {
			t.Errorf("status = %d", perr.Status)
		}
	})

	t.Run("MissingPrivilege", func(t *testing.T) {
		sim.AddToken(pvesim.TokenSpec{User: "bob@pve", ID: "bare", Secret: "b0b0b0b0-0000-4000-8000-000000000000", Privsep: true})
		cfg := pvesimConfig(sim.Node("pve1"))
		cfg.TokenID, cfg.TokenSecret = "bob@pve!bare", "b0b0b0b0-0000-4000-8000-000000000000"
		c := pvesimClientFor(t, cfg)

		if _, err := c.Version(ctx); err != nil {
			t.Fatalf("Version needs no privilege: %v", err)
		}
		perr := pvesimPerr(t, pvesimErr(c.NodeStatus(ctx, "pve1")), proxmox.ErrForbidden)
		if perr.Status != 403 || perr.Privilege != "Sys.Audit" || perr.ACLPath != "/nodes/pve1" {
			t.Errorf("node status error = %+v", perr)
		}
		perr = pvesimPerr(t, pvesimErr(c.LXCStatus(ctx, "pve1", 100)), proxmox.ErrForbidden)
		if perr.Privilege != "VM.Audit" || perr.ACLPath != "/vms/100" {
			t.Errorf("lxc status error = %+v", perr)
		}
		_, err := c.Start(ctx, "pve1", 100)
		if perr = pvesimPerr(t, err, proxmox.ErrForbidden); perr.Privilege != "VM.PowerMgmt" {
			t.Errorf("start error = %+v", perr)
		}

		p, err := c.Permissions(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		missing := p.MissingForCorral()
		for _, want := range []string{"Sys.Audit on /", "VM.Allocate on /vms", "Datastore.AllocateSpace on /storage"} {
			if !slices.Contains(missing, want) {
				t.Errorf("MissingForCorral = %v, lacks %q", missing, want)
			}
		}
	})
}

func TestPvesimErrorsRefused(t *testing.T) {
	sim := pvesimStart(t)
	c := pvesimClient(t, sim, "pve1")
	ctx := t.Context()

	t.Run("NotFound", func(t *testing.T) {
		perr := pvesimPerr(t, pvesimErr(c.LXCStatus(ctx, "pve1", 999)), proxmox.ErrNotFound)
		if !strings.Contains(perr.Message, "999") {
			t.Errorf("message = %q", perr.Message)
		}
		pvesimPerr(t, pvesimErr(c.LXCConfig(ctx, "pve1", 999)), proxmox.ErrNotFound)
		// 102 exists, but on pve2.
		pvesimPerr(t, pvesimErr(c.LXCStatus(ctx, "pve1", 102)), proxmox.ErrNotFound)
		pvesimPerr(t, pvesimErr(c.StorageContent(ctx, "pve1", "nosuchstore", "vztmpl")), proxmox.ErrNotFound)
		bogus := "UPID:pve1:0000ABCD:0000EF01:6700AA00:vzstart:100:corral@pve!corral:"
		pvesimPerr(t, pvesimErr(c.TaskStatus(ctx, "pve1", bogus)), proxmox.ErrNotFound)
	})

	t.Run("VMIDTaken", func(t *testing.T) {
		_, err := c.CreateLXC(ctx, "pve1", proxmox.CreateLXCParams{VMID: 102, OSTemplate: pvesimDebian, RootFS: "local-lvm:4"})
		perr := pvesimPerr(t, err, proxmox.ErrRefused)
		if perr.Status != 500 || perr.Message != "CT 102 already exists on node 'pve2'" || perr.Method != "POST" {
			t.Errorf("error = %+v", perr)
		}
	})

	t.Run("DeleteRunning", func(t *testing.T) {
		_, err := c.Delete(ctx, "pve1", 101, proxmox.DeleteOptions{Purge: true})
		perr := pvesimPerr(t, err, proxmox.ErrRefused)
		if perr.Message != "unable to destroy CT 101 - container is running" {
			t.Errorf("error = %+v", perr)
		}
		if st, ok := sim.Node("pve1").GuestStatus(101); !ok || st != "running" {
			t.Errorf("CT 101 is now %q (exists %v)", st, ok)
		}
	})

	t.Run("BadParameter", func(t *testing.T) {
		_, err := c.CreateLXC(ctx, "pve1", proxmox.CreateLXCParams{VMID: 151, OSTemplate: pvesimDebian,
			RootFS: "local-lvm:4", Net: map[int]proxmox.NetConfig{0: {Name: "eth0", Bridge: "vmbr0", IP: "not-an-ip"}}})
		perr := pvesimPerr(t, err, proxmox.ErrRefused)
		if perr.Status != 400 || !strings.Contains(perr.Params["net0"], "net0.ip: value does not look like a valid ipv4 network configuration") {
			t.Errorf("error = %+v", perr)
		}
	})
}

func TestPvesimErrorsRetry(t *testing.T) {
	sim := pvesimStart(t)
	n := sim.Node("pve1")
	ctx := t.Context()

	t.Run("ProxyTimeoutNotRetried", func(t *testing.T) {
		n.Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultStatus, Status: 596})
		defer n.Faults().Clear()
		c := pvesimClient(t, sim, "pve1")
		perr := pvesimPerr(t, pvesimErr(c.ClusterResources(ctx)), proxmox.ErrProxyTimeout)
		if perr.Status != 596 || perr.Message != "Connection timed out" {
			t.Errorf("error = %+v", perr)
		}
		if hits := n.Faults().Hits("/cluster/resources"); hits != 1 {
			t.Errorf("596 was tried %d times, want 1", hits)
		}
	})

	t.Run("GetRetriedOn500", func(t *testing.T) {
		n.Faults().Set(pvesim.Fault{Path: "/cluster/nextid", Kind: pvesim.FaultStatus, Status: 500, Times: 2})
		defer n.Faults().Clear()
		c := pvesimClient(t, sim, "pve1")
		id, err := c.NextID(ctx)
		if err != nil || id != 104 {
			t.Fatalf("NextID = %d, %v", id, err)
		}
		if hits := n.Faults().Hits("/cluster/nextid"); hits != 2 {
			t.Errorf("fault hit %d times, want 2", hits)
		}
	})

	t.Run("GetGivesUpOn500", func(t *testing.T) {
		n.Faults().Set(pvesim.Fault{Path: "/nodes/pve1/lxc", Kind: pvesim.FaultStatus, Status: 500, Message: "got timeout"})
		defer n.Faults().Clear()
		c := pvesimClient(t, sim, "pve1")
		perr := pvesimPerr(t, pvesimErr(c.LXCs(ctx, "pve1")), proxmox.ErrRefused)
		if perr.Status != 500 || perr.Message != "got timeout" {
			t.Errorf("error = %+v", perr)
		}
		if hits := n.Faults().Hits("/nodes/pve1/lxc"); hits != 3 {
			t.Errorf("fault hit %d times, want 3 attempts", hits)
		}
	})

	t.Run("PostNotRetried", func(t *testing.T) {
		path := "/nodes/pve1/lxc/101/status/stop"
		n.Faults().Set(pvesim.Fault{Path: path, Method: "POST", Kind: pvesim.FaultStatus, Status: 500, Times: 1})
		defer n.Faults().Clear()
		c := pvesimClient(t, sim, "pve1")
		_, err := c.Stop(ctx, "pve1", 101)
		if perr := pvesimPerr(t, err, proxmox.ErrRefused); perr.Status != 500 || perr.Method != "POST" {
			t.Errorf("error = %+v", perr)
		}
		if hits := n.Faults().Hits(path); hits != 1 {
			t.Errorf("POST hit %d times", hits)
		}
		if st, _ := n.GuestStatus(101); st != "running" {
			t.Errorf("a retried stop went through: CT 101 is %q", st)
		}
	})

	t.Run("HangNotRetried", func(t *testing.T) {
		n.Faults().Set(pvesim.Fault{Path: "/nodes", Kind: pvesim.FaultHang})
		defer n.Faults().Clear()
		cfg := pvesimConfig(n)
		cfg.Timeout = 300 * time.Millisecond
		c := pvesimClientFor(t, cfg)
		// A pooled connection keeps a slow handshake from reading as a connect timeout.
		if _, err := c.Version(ctx); err != nil {
			t.Fatal(err)
		}
		perr := pvesimPerr(t, pvesimErr(c.Nodes(ctx)), proxmox.ErrTimeout)
		if perr.Path != "/nodes" || perr.Status != 0 {
			t.Errorf("error = %+v", perr)
		}
		if hits := n.Faults().Hits("/nodes"); hits != 1 {
			t.Errorf("hanging GET tried %d times, want 1", hits)
		}
	})

	t.Run("HangCallerDeadline", func(t *testing.T) {
		c := pvesimClient(t, sim, "pve1")
		if _, err := c.Nodes(ctx); err != nil { // pool a connection
			t.Fatal(err)
		}
		n.Faults().Set(pvesim.Fault{Path: "/version", Kind: pvesim.FaultHang})
		defer n.Faults().Clear()
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		pvesimPerr(t, pvesimErr(c.Version(dctx)), proxmox.ErrTimeout)
		if hits := n.Faults().Hits("/version"); hits != 1 {
			t.Errorf("hanging GET tried %d times, want 1", hits)
		}
	})

	t.Run("DropRetried", func(t *testing.T) {
		n.Faults().Set(pvesim.Fault{Path: "/storage*", Kind: pvesim.FaultDrop})
		n.Faults().Set(pvesim.Fault{Path: "/nodes/pve1/storage", Kind: pvesim.FaultDrop, Times: 1})
		defer n.Faults().Clear()
		c := pvesimClient(t, sim, "pve1")
		st, err := c.Storages(ctx, "pve1", "")
		if err != nil || len(st) == 0 {
			t.Fatalf("Storages after one drop = %+v, %v", st, err)
		}
		if hits := n.Faults().Hits("/nodes/pve1/storage"); hits != 1 {
			t.Errorf("drop hit %d times, want 1", hits)
		}
	})

	t.Run("DropGivesUp", func(t *testing.T) {
		n.Faults().Set(pvesim.Fault{Path: "/nodes/pve1/network", Kind: pvesim.FaultDrop})
		defer n.Faults().Clear()
		c := pvesimClient(t, sim, "pve1")
		perr := pvesimPerr(t, pvesimErr(c.Bridges(ctx, "pve1")), proxmox.ErrUnreachable)
		if perr.Message != "connection dropped" {
			t.Errorf("error = %+v", perr)
		}
		if hits := n.Faults().Hits("/nodes/pve1/network"); hits != 3 {
			t.Errorf("drop hit %d times, want 3 attempts", hits)
		}
	})
}

func TestPvesimWaitTaskCanceled(t *testing.T) {
	sim := pvesimStart(t)
	n := sim.Node("pve1")
	c := pvesimClient(t, sim, "pve1")
	ctx := t.Context()

	// A guest ignoring a shutdown with a long timeout keeps its task running
	// until the simulator closes.
	n.IgnoreShutdown(100, true)
	upid, err := c.Shutdown(ctx, "pve1", 100, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}

	st, err := c.TaskStatus(ctx, "pve1", upid)
	if err != nil || !st.Running() {
		t.Fatalf("shutdown task = %+v, %v; want it running", st, err)
	}
	// The task runs far longer than this; the timer only ends the wait.
	cctx, cancel := context.WithCancel(ctx)
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	perr := pvesimPerr(t, c.WaitTask(cctx, "pve1", upid, nil), proxmox.ErrCanceled)
	if perr.UPID != upid && perr.Path == "" {
		t.Errorf("error = %+v", perr)
	}

	dctx, dcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer dcancel()
	pvesimPerr(t, c.WaitTask(dctx, "pve1", upid, nil), proxmox.ErrTimeout)

	st, err = c.TaskStatus(ctx, "pve1", upid)
	if err != nil || !st.Running() {
		t.Errorf("the task should keep running on the node: %+v, %v", st, err)
	}
}

// A caller whose context already ended gets Timeout or Canceled, never
// Unreachable: WaitTask's poll loop can start a request just as its deadline
// passes, and the node is fine.
func TestPvesimEndedContext(t *testing.T) {
	sim := pvesimStart(t)
	c := pvesimClient(t, sim, "pve1")

	expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	perr := pvesimPerr(t, pvesimErr(c.Version(expired)), proxmox.ErrTimeout)
	if !errors.Is(perr, context.DeadlineExceeded) || perr.Path != "/version" {
		t.Errorf("error = %+v", perr)
	}

	canceled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	pvesimPerr(t, pvesimErr(c.Version(canceled)), proxmox.ErrCanceled)
	_, err := c.Start(canceled, "pve1", 102)
	pvesimPerr(t, err, proxmox.ErrCanceled)
	if st, _ := sim.Node("pve2").GuestStatus(102); st != "stopped" {
		t.Errorf("a canceled start went through: CT 102 is %q", st)
	}
}
