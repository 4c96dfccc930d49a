package proxmox

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Decoding of the day-two answers from the recorded shapes, and the
// classification of their refusals.

func TestClient_DayTwoReads(t *testing.T) {
	f := newFakePVE(t)
	c := f.client()
	ctx := t.Context()

	t.Run("ConfigWithMountPoints", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/lxc/102/config", "lxc_config_mountpoints.json")
		cfg, err := c.LXCConfig(ctx, "pve", 102)
		if err != nil {
			t.Fatal(err)
		}
		mps := cfg.MountPoints()
		want := map[int]MountPoint{
			0: {Volume: "local-lvm:vm-102-disk-1", Path: "/var/lib/nextcloud", Size: "100G", Backup: true},
			1: {Volume: "/srv/media", Path: "/media", ReadOnly: true},
		}
		if !reflect.DeepEqual(mps, want) {
			t.Errorf("mount points = %+v", mps)
		}
		if mps[0].IsBind() || !mps[1].IsBind() || mps[0].Storage() != "local-lvm" || mps[0].String() != cfg["mp0"] || mps[1].String() != cfg["mp1"] {
			t.Errorf("mount point helpers: %+v", mps)
		}
		if u := cfg.Unused(); !reflect.DeepEqual(u, map[string]string{"unused0": "local-lvm:vm-102-disk-2"}) {
			t.Errorf("unused = %v", u)
		}
		if cfg.Parent() != "clean" || cfg.Startup() != "order=2,up=30" || !cfg.OnBoot() || cfg.Digest() == "" ||
			cfg.Description() != "Nextcloud\nmedia from the NAS\n" {
			t.Errorf("config = %v", cfg)
		}
	})

	t.Run("Pending", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/lxc/105/pending", "lxc_pending.json")
		items, err := c.LXCPending(ctx, "pve", 105)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]PendingItem{}
		for _, it := range items {
			byKey[it.Key] = it
		}
		if _, ok := byKey["digest"]; ok {
			t.Error("the digest row is not an option")
		}
		if it := byKey["memory"]; it.Value != "2048" || !it.HasValue || it.Waiting() {
			t.Errorf("memory = %+v", it)
		}
		if it := byKey["nameserver"]; it.Value != "1.1.1.1" || it.Pending != "9.9.9.9" || !it.Waiting() {
			t.Errorf("nameserver = %+v", it)
		}
		if it := byKey["searchdomain"]; !it.Delete || !it.Waiting() {
			t.Errorf("searchdomain = %+v", it)
		}
		if it := byKey["features"]; it.HasValue || it.Pending != "nesting=1" {
			t.Errorf("features = %+v", it)
		}
	})

	t.Run("Snapshots", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/lxc/105/snapshot", "lxc_snapshot_list.json")
		list, err := c.Snapshots(ctx, "pve", 105)
		if err != nil {
			t.Fatal(err)
		}
		tree := SnapshotTree(list)
		var got []string
		for _, n := range tree {
			got = append(got, strings.Repeat(" ", n.Depth)+n.Name)
		}
		if !reflect.DeepEqual(got, []string{"clean", " upgraded", "  current"}) {
			t.Errorf("tree = %q", got)
		}
		cur := tree[2]
		if !cur.IsCurrent() || !bool(cur.Running) || cur.Digest == "" || tree[0].SnapTime != 1730212400 {
			t.Errorf("rows = %+v", tree)
		}
	})

	t.Run("Backups", func(t *testing.T) {
		f.fixture("GET", "/nodes/pve/storage/local/content", "storage_content_backup.json")
		list, err := c.Backups(ctx, "pve", "local", 105)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].VMID != 105 || list[0].Format != "tar.zst" || list[0].Subtype != "lxc" ||
			list[0].Notes != "mqtt" || bool(list[0].Protected) || !bool(list[1].Protected) || list[1].Time().Unix() != 1737424801 {
			t.Errorf("backups = %+v", list)
		}
		if q := f.requests("GET", "/nodes/pve/storage/local/content"); len(q) == 0 || q[len(q)-1].Query.Get("vmid") != "105" ||
			q[len(q)-1].Query.Get("content") != "backup" {
			t.Errorf("query = %+v", q)
		}
	})

	t.Run("BackupOnAnotherNode", func(t *testing.T) {
		f.fixture("POST", "/nodes/pve/vzdump", "vzdump_elsewhere.json")
		_, err := c.Backup(ctx, "pve", BackupParams{VMID: 120, Storage: "local"})
		wantKind(t, err, ErrNotFound, KindNotFound)
	})
}

func TestClient_DayTwoRefusals(t *testing.T) {
	f := newFakePVE(t)
	c := f.client()
	ctx := t.Context()
	change := &ConfigChange{Set: map[string]string{"memory": "1024"}, Digest: "0123"}

	f.fixture("PUT", "/nodes/pve/lxc/105/config", "error_500_config_modified.json")
	e := wantKind(t, c.UpdateLXCConfig(ctx, "pve", 105, change), ErrConfigChanged, KindConfigChanged)
	if !strings.Contains(e.UserMessage(), "changed after you opened it") || e.Hint() == "" {
		t.Errorf("config changed: %q / %q", e.UserMessage(), e.Hint())
	}

	for file, lock := range map[string]string{"error_500_ct_locked.json": "backup", "error_500_config_lock_timeout.json": "config"} {
		f.fixture("PUT", "/nodes/pve/lxc/105/config", file)
		e := wantKind(t, c.UpdateLXCConfig(ctx, "pve", 105, change), ErrLocked, KindLocked)
		if e.Lock != lock || e.Status != 500 || !strings.Contains(e.Hint(), "pct unlock") {
			t.Errorf("%s: lock %q status %d hint %q", file, e.Lock, e.Status, e.Hint())
		}
	}
	f.fixture("PUT", "/nodes/pve/lxc/105/config", "error_500_ct_locked.json")
	if e := asPErr(t, c.UpdateLXCConfig(ctx, "pve", 105, change)); e.UserMessage() != "The container is busy on "+e.Host+": a backup of it is running." {
		t.Errorf("user message %q", e.UserMessage())
	}

	f.fixture("PUT", "/nodes/pve/lxc/105/config", "error_403_bind_mount.json")
	e = wantKind(t, c.UpdateLXCConfig(ctx, "pve", 105, change), ErrForbidden, KindForbidden)
	if e.Privilege != "" || !strings.Contains(e.UserMessage(), "mount point type bind is only allowed for root@pam") {
		t.Errorf("bind mount: %+v %q", e, e.UserMessage())
	}

	f.fixture("PUT", "/nodes/pve/lxc/105/config", "error_400_config_delete.json")
	e = wantKind(t, c.UpdateLXCConfig(ctx, "pve", 105, &ConfigChange{Delete: []string{"bogus"}}), ErrRefused, KindRefused)
	if e.Params["delete"] != "unknown option 'bogus'" {
		t.Errorf("params = %v", e.Params)
	}

	f.fixture("PUT", "/nodes/pve/lxc/105/resize", "error_500_resize_shrink.json")
	_, err := c.ResizeLXCDisk(ctx, "pve", 105, "rootfs", "4G", "")
	if e := wantKind(t, err, ErrRefused, KindRefused); e.Message != "unable to shrink disk size" {
		t.Errorf("shrink: %q", e.Message)
	}

	f.fixture("POST", "/nodes/pve/lxc/105/snapshot", "error_500_snapshot_reserved.json")
	_, err = c.CreateSnapshot(ctx, "pve", 105, "current", "")
	wantKind(t, err, ErrRefused, KindRefused)

	f.fixture("POST", "/nodes/pve/lxc", "error_500_restore_running.json")
	_, err = c.RestoreLXC(ctx, "pve", RestoreParams{VMID: 105, Archive: "local:backup/x.tar.zst", Force: true})
	if e := wantKind(t, err, ErrRefused, KindRefused); e.Message != "can't overwrite running container" {
		t.Errorf("restore: %q", e.Message)
	}

	t.Run("TaskStoppedByLock", func(t *testing.T) {
		upid := "UPID:pve:00021E01:02F8A9D0:692EE5B4:vzsnapshot:105:corral@pve!corral:"
		f.fixture("GET", "/nodes/pve/tasks/"+upid+"/status", "task_status_locked.json")
		f.fixture("GET", "/nodes/pve/tasks/"+upid+"/log", "task_log_empty.json")
		err := c.WaitTask(ctx, "pve", upid, nil)
		e := wantKind(t, err, ErrTaskFailed, KindTaskFailed)
		if !errors.Is(err, ErrLocked) || e.Lock != "backup" || !strings.Contains(e.UserMessage(), "a backup of it is running") {
			t.Errorf("task: %+v %q", e, e.UserMessage())
		}
	})
}

func TestConfigChange(t *testing.T) {
	cur := LXCConfig{"memory": "512", "cores": "1", "onboot": "1", "nameserver": "1.1.1.1", "mp0": "local-lvm:vm-105-disk-1,mp=/data,size=1G", "digest": "abc"}
	ch := NewConfigChange(cur)
	ch.Update(cur, "memory", "1024")
	ch.Update(cur, "cores", "1") // unchanged
	ch.Update(cur, "onboot", "")
	ch.Update(cur, "nameserver", "9.9.9.9")
	ch.Update(cur, "searchdomain", "") // not set: nothing to delete
	ch.Update(LXCConfig{"description": "notes\n"}, "description", "notes")
	ch.Update(cur, "mp1", NewVolume("local-lvm", 4, "/srv", true).String())
	ch.Update(cur, "mp0", "local-lvm:vm-105-disk-1,mp=/data2,size=1G")
	want := "delete=onboot&digest=abc&memory=1024&mp0=local-lvm%3Avm-105-disk-1%2Cmp%3D%2Fdata2%2Csize%3D1G&mp1=local-lvm%3A4%2Cmp%3D%2Fsrv%2Cbackup%3D1&nameserver=9.9.9.9"
	if got := ch.Params().Encode(); got != want {
		t.Errorf("params = %s", got)
	}
	if got := ch.NeedsRestart(cur); !reflect.DeepEqual(got, []string{"mp0", "nameserver"}) {
		t.Errorf("needs restart = %v", got)
	}
	if !reflect.DeepEqual(ch.Keys(), []string{"memory", "mp0", "mp1", "nameserver", "onboot"}) || ch.Empty() {
		t.Errorf("keys = %v", ch.Keys())
	}
	for s, want := range map[string]int64{"8G": 8 << 30, "8704M": 8704 << 20, "1.5T": 3 << 39, "512": 512} {
		if n, err := ParseDiskSize(s); err != nil || n != want {
			t.Errorf("ParseDiskSize(%q) = %d, %v", s, n, err)
		}
		if s != "1.5T" && FormatDiskSize(want) != s {
			t.Errorf("FormatDiskSize(%d) = %q", want, FormatDiskSize(want))
		}
	}
	if _, err := ParseDiskSize("big"); err == nil {
		t.Error("ParseDiskSize accepted junk")
	}
	for name, ok := range map[string]bool{"clean": true, "before-apt_2": true, "x": false, "1st": false, "current": false, "vzdump": false, strings.Repeat("a", 41): false} {
		if (ValidSnapshotName(name) == nil) != ok {
			t.Errorf("ValidSnapshotName(%q) = %v", name, ValidSnapshotName(name))
		}
	}
}
