package proxmox_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"corral/proxmox"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
)

// Day two against the simulator: settings, resize, snapshots, backups and
// restore, each with its refusals.

func pvesimStorage(t *testing.T, c *proxmox.Client, node, id string) proxmox.Storage {
	t.Helper()
	list, err := c.Storages(t.Context(), node, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Storage == id {
			return s
		}
	}
	t.Fatalf("no storage %s on %s", id, node)
	return proxmox.Storage{}
}

func pvesimConfig2(t *testing.T, c *proxmox.Client, vmid int) proxmox.LXCConfig {
	t.Helper()
	cfg, err := c.LXCConfig(t.Context(), "pve1", vmid)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestPvesimSettings(t *testing.T) {
	sim := pvesimStart(t)
	c := pvesimClient(t, sim, "pve1")
	ctx := t.Context()
	const vmid = 101 // running

	cfg := pvesimConfig2(t, c, vmid)
	ch := proxmox.NewConfigChange(cfg)
	ch.Update(cfg, "memory", "1024")
	ch.Update(cfg, "onboot", "1")
	ch.Update(cfg, "nameserver", "1.1.1.1")
	ch.Update(cfg, "description", "MQTT broker")
	if got := ch.NeedsRestart(cfg); !reflect.DeepEqual(got, []string{"nameserver"}) {
		t.Fatalf("NeedsRestart = %v", got)
	}
	if err := c.UpdateLXCConfig(ctx, "pve1", vmid, ch); err != nil {
		t.Fatal(err)
	}
	cur, err := c.LXCConfigCurrent(ctx, "pve1", vmid)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Memory() != 1024 || !cur.OnBoot() || cur["nameserver"] != "" || cur.Description() != "MQTT broker\n" {
		t.Errorf("current config = %v", cur)
	}
	pending, err := c.LXCPending(ctx, "pve1", vmid)
	if err != nil {
		t.Fatal(err)
	}
	var waiting []string
	for _, p := range pending {
		if p.Waiting() {
			waiting = append(waiting, p.Key+"="+p.Pending)
		}
	}
	if !reflect.DeepEqual(waiting, []string{"nameserver=1.1.1.1"}) {
		t.Errorf("waiting for a restart: %v", waiting)
	}

	t.Run("StaleDigest", func(t *testing.T) {
		again := &proxmox.ConfigChange{Set: map[string]string{"memory": "2048"}, Digest: cfg.Digest()}
		err := c.UpdateLXCConfig(ctx, "pve1", vmid, again)
		if perr := pvesimPerr(t, err, proxmox.ErrConfigChanged); perr.Method != "PUT" {
			t.Errorf("error = %+v", perr)
		}
		if got := pvesimConfig2(t, c, vmid).Memory(); got != 1024 {
			t.Errorf("memory became %d", got)
		}
	})

	t.Run("MountPointsAndSpace", func(t *testing.T) {
		before := pvesimStorage(t, c, "pve1", "local-lvm")
		cfg := pvesimConfig2(t, c, vmid)
		ch := proxmox.NewConfigChange(cfg)
		ch.Update(cfg, "mp0", proxmox.NewVolume("local-lvm", 4, "/srv/data", true).String())
		if len(ch.NeedsRestart(cfg)) != 0 {
			t.Errorf("a new mount point is plugged in live: %v", ch.NeedsRestart(cfg))
		}
		if err := c.UpdateLXCConfig(ctx, "pve1", vmid, ch); err != nil {
			t.Fatal(err)
		}
		mp := pvesimConfig2(t, c, vmid).MountPoints()[0]
		if mp.Volume != "local-lvm:vm-101-disk-1" || mp.Path != "/srv/data" || mp.Size != "4G" || !mp.Backup {
			t.Errorf("mp0 = %+v", mp)
		}
		if after := pvesimStorage(t, c, "pve1", "local-lvm"); after.Avail >= before.Avail || after.Used <= before.Used {
			t.Errorf("storage did not move: before %+v after %+v", before, after)
		}

		bind := &proxmox.ConfigChange{Set: map[string]string{"mp1": "/srv/media,mp=/media"}}
		perr := pvesimPerr(t, c.UpdateLXCConfig(ctx, "pve1", vmid, bind), proxmox.ErrForbidden)
		if !strings.Contains(perr.Message, "mount point type bind is only allowed for root@pam") {
			t.Errorf("bind mount error = %+v", perr)
		}
	})

	t.Run("Resize", func(t *testing.T) {
		before := pvesimStorage(t, c, "pve1", "local-lvm")
		cfg := pvesimConfig2(t, c, vmid)
		upid, err := c.ResizeLXCDisk(ctx, "pve1", vmid, "rootfs", "+1G", cfg.Digest())
		if err != nil {
			t.Fatal(err)
		}
		lines := pvesimWait(t, c, upid)
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "successfully resized") }) {
			t.Errorf("resize log = %q", lines)
		}
		size, err := proxmox.ParseDiskSize(pvesimConfig2(t, c, vmid).RootFS().Size)
		if err != nil || size != 3<<30 {
			t.Errorf("rootfs size = %d, %v", size, err)
		}
		if after := pvesimStorage(t, c, "pve1", "local-lvm"); after.Used <= before.Used {
			t.Errorf("growing did not use space: %d → %d", before.Used, after.Used)
		}
		_, err = c.ResizeLXCDisk(ctx, "pve1", vmid, "rootfs", "1G", "")
		if perr := pvesimPerr(t, err, proxmox.ErrRefused); perr.Message != "unable to shrink disk size" {
			t.Errorf("shrink = %+v", perr)
		}
		_, err = c.ResizeLXCDisk(ctx, "pve1", vmid, "rootfs", "+1G", cfg.Digest())
		pvesimPerr(t, err, proxmox.ErrConfigChanged)
	})
}

func TestPvesimLocks(t *testing.T) {
	sim := simtest.Demo(t, func(opts *pvesim.Options) {
		opts.TaskDuration = time.Hour // the resize holds the config file for the whole test
		opts.LockTimeout = 20 * time.Millisecond
	})
	c := pvesimClient(t, sim, "pve1")
	ctx := t.Context()

	// CT 100 carries lock "backup", as while vzdump runs. (A real backup
	// with these slow tasks would take minutes to reach that point.)
	if err := c.UpdateLXCConfig(ctx, "pve1", 100, &proxmox.ConfigChange{Set: map[string]string{"lock": "backup"}}); err != nil {
		t.Fatal(err)
	}
	if l := pvesimConfig2(t, c, 100).Lock(); l != "backup" {
		t.Fatalf("lock = %q", l)
	}
	change := &proxmox.ConfigChange{Set: map[string]string{"memory": "1024"}}
	perr := pvesimPerr(t, c.UpdateLXCConfig(ctx, "pve1", 100, change), proxmox.ErrLocked)
	if perr.Kind != proxmox.KindLocked || perr.Lock != "backup" || !strings.Contains(perr.UserMessage(), "a backup of it is running") {
		t.Errorf("config change of a locked CT: %+v %q", perr, perr.UserMessage())
	}
	_, err := c.ResizeLXCDisk(ctx, "pve1", 100, "rootfs", "+1G", "")
	pvesimPerr(t, err, proxmox.ErrLocked)

	// The snapshot task sees the lock before it logs anything.
	upid, err := c.CreateSnapshot(ctx, "pve1", 100, "clean", "")
	if err != nil {
		t.Fatal(err)
	}
	err = c.WaitTask(ctx, "pve1", upid, nil)
	perr = pvesimPerr(t, err, proxmox.ErrTaskFailed)
	if !errors.Is(err, proxmox.ErrLocked) || perr.Lock != "backup" {
		t.Errorf("snapshot of a locked CT: %+v", perr)
	}

	// A resize holds the config file: other changes give up after the lock timeout.
	if _, err := c.ResizeLXCDisk(ctx, "pve1", 101, "rootfs", "+1G", ""); err != nil {
		t.Fatal(err)
	}
	for {
		err := c.UpdateLXCConfig(ctx, "pve1", 101, change)
		if err == nil {
			continue // the resize task has not taken the lock yet
		}
		if perr := pvesimPerr(t, err, proxmox.ErrLocked); perr.Lock != "config" {
			t.Errorf("lock timeout: %+v", perr)
		}
		break
	}
}

func TestPvesimSnapshots(t *testing.T) {
	sim := pvesimStart(t)
	node := sim.Node("pve1")
	c := pvesimClient(t, sim, "pve1")
	ctx := t.Context()
	const vmid = 101
	marker := filepath.Join(node.ContainerDir(vmid), "etc", "provisioned")

	upid, err := c.CreateSnapshot(ctx, "pve1", vmid, "clean", "before provisioning")
	if err != nil {
		t.Fatal(err)
	}
	if lines := pvesimWait(t, c, upid); !slices.Contains(lines, `  Logical volume "snap_vm-101-disk-0_clean" created.`) {
		t.Errorf("snapshot log = %q", lines)
	}
	// Provisioning writes into the container after the snapshot.
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(marker, []byte("yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	list, err := c.Snapshots(ctx, "pve1", vmid)
	if err != nil {
		t.Fatal(err)
	}
	tree := proxmox.SnapshotTree(list)
	if len(tree) != 2 || tree[0].Name != "clean" || tree[0].Depth != 0 || !tree[1].IsCurrent() || tree[1].Depth != 1 ||
		tree[0].Description != "before provisioning\n" || !bool(tree[1].Running) {
		t.Fatalf("tree = %+v", tree)
	}

	t.Run("Refusals", func(t *testing.T) {
		upid, err := c.CreateSnapshot(ctx, "pve1", vmid, "clean", "")
		if err != nil {
			t.Fatal(err)
		}
		perr := pvesimPerr(t, c.WaitTask(ctx, "pve1", upid, nil), proxmox.ErrTaskFailed)
		if perr.ExitStatus != "snapshot name 'clean' already used" || errors.Is(perr, proxmox.ErrLocked) {
			t.Errorf("duplicate = %+v", perr)
		}
		if proxmox.ValidSnapshotName("current") == nil {
			t.Error("current is reserved")
		}
		_, err = c.CreateSnapshot(ctx, "pve1", vmid, "current", "")
		pvesimPerr(t, err, proxmox.ErrRefused)
		_, err = c.SnapshotConfig(ctx, "pve1", vmid, "nope")
		pvesimPerr(t, err, proxmox.ErrNotFound)
	})

	t.Run("ConfigAndDescription", func(t *testing.T) {
		if err := c.UpdateSnapshotDescription(ctx, "pve1", vmid, "clean", "fresh system"); err != nil {
			t.Fatal(err)
		}
		sc, err := c.SnapshotConfig(ctx, "pve1", vmid, "clean")
		if err != nil || sc.Hostname() != "mqtt" || sc.Description() != "fresh system\n" || sc["snaptime"] == "" {
			t.Errorf("snapshot config = %v, %v", sc, err)
		}
	})

	t.Run("RollbackAndStart", func(t *testing.T) {
		upid, err := c.RollbackSnapshot(ctx, "pve1", vmid, "clean", true)
		if err != nil {
			t.Fatal(err)
		}
		pvesimWait(t, c, upid)
		if err := c.WaitLXCStatus(ctx, "pve1", vmid, "running"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(marker); !os.IsNotExist(err) {
			t.Errorf("the rollback kept what provisioning wrote: %v", err)
		}
		if p := pvesimConfig2(t, c, vmid).Parent(); p != "clean" {
			t.Errorf("parent = %q", p)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		upid, err := c.DeleteSnapshot(ctx, "pve1", vmid, "clean", false)
		if err != nil {
			t.Fatal(err)
		}
		pvesimWait(t, c, upid)
		list, err := c.Snapshots(ctx, "pve1", vmid)
		if err != nil || len(list) != 1 || !list[0].IsCurrent() || list[0].Parent != "" {
			t.Errorf("after delete = %+v, %v", list, err)
		}
	})
}

func TestPvesimBackups(t *testing.T) {
	sim := pvesimStart(t)
	node := sim.Node("pve1")
	c := pvesimClient(t, sim, "pve1")
	ctx := t.Context()
	const vmid = 101

	stores, err := c.Storages(ctx, "pve1", "backup")
	if err != nil || len(stores) != 1 || stores[0].Storage != "local" {
		t.Fatalf("backup storages = %+v, %v", stores, err)
	}
	before := stores[0]
	if err := os.WriteFile(filepath.Join(node.ContainerDir(vmid), "data.txt"), []byte("v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	p := proxmox.BackupParams{VMID: vmid, Storage: "local", Mode: proxmox.BackupSnapshot, NotesTemplate: "{{guestname}}"}
	if got := p.Params().Encode(); got != "compress=zstd&mode=snapshot&notes-template=%7B%7Bguestname%7D%7D&storage=local&vmid=101" {
		t.Errorf("params = %s", got)
	}
	upid, err := c.Backup(ctx, "pve1", p)
	if err != nil {
		t.Fatal(err)
	}
	lines := pvesimWait(t, c, upid)
	if !slices.Contains(lines, "INFO: Backup job finished successfully") {
		t.Errorf("backup log = %q", lines)
	}
	backups, err := c.Backups(ctx, "pve1", "local", vmid)
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups = %+v, %v", backups, err)
	}
	b := backups[0]
	if !strings.HasPrefix(b.VolID, "local:backup/vzdump-lxc-101-") || !strings.HasSuffix(b.VolID, ".tar.zst") ||
		b.Notes != "mqtt" || b.VMID != vmid || b.Subtype != "lxc" || b.Size <= 0 || time.Since(b.Time()) > time.Hour {
		t.Errorf("backup = %+v", b)
	}
	if after := pvesimStorage(t, c, "pve1", "local"); after.Used != before.Used+b.Size || after.Avail != before.Avail-b.Size {
		t.Errorf("local before %+v after %+v, backup %d", before, after, b.Size)
	}

	t.Run("OtherNode", func(t *testing.T) {
		_, err := c.Backup(ctx, "pve1", proxmox.BackupParams{VMID: 102, Storage: "local"})
		pvesimPerr(t, err, proxmox.ErrNotFound)
	})

	t.Run("RestoreToNewVMID", func(t *testing.T) {
		upid, err := c.RestoreLXC(ctx, "pve1", proxmox.RestoreParams{VMID: 150, Archive: b.VolID, Storage: "local-lvm", Start: true})
		if err != nil {
			t.Fatal(err)
		}
		pvesimWait(t, c, upid)
		if err := c.WaitLXCStatus(ctx, "pve1", 150, "running"); err != nil {
			t.Fatal(err)
		}
		cfg := pvesimConfig2(t, c, 150)
		if cfg.Hostname() != "mqtt" || cfg.RootFS().Volume != "local-lvm:vm-150-disk-0" {
			t.Errorf("restored config = %v", cfg)
		}
		if got, err := os.ReadFile(filepath.Join(node.ContainerDir(150), "data.txt")); err != nil || string(got) != "v1\n" {
			t.Errorf("restored file = %q, %v", got, err)
		}
	})

	t.Run("RestoreOverExisting", func(t *testing.T) {
		_, err := c.RestoreLXC(ctx, "pve1", proxmox.RestoreParams{VMID: vmid, Archive: b.VolID, Storage: "local-lvm", Force: true})
		if perr := pvesimPerr(t, err, proxmox.ErrRefused); perr.Message != "can't overwrite running container" {
			t.Errorf("over a running CT = %+v", perr)
		}
		upid, err := c.Stop(ctx, "pve1", vmid)
		if err != nil {
			t.Fatal(err)
		}
		pvesimWait(t, c, upid)
		if err := os.WriteFile(filepath.Join(node.ContainerDir(vmid), "data.txt"), []byte("v2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		upid, err = c.RestoreLXC(ctx, "pve1", proxmox.RestoreParams{VMID: vmid, Archive: b.VolID, Storage: "local-lvm", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		pvesimWait(t, c, upid)
		if got, _ := os.ReadFile(filepath.Join(node.ContainerDir(vmid), "data.txt")); string(got) != "v1\n" {
			t.Errorf("file after restore = %q", got)
		}
	})

	t.Run("LockedGuestFailsTheJob", func(t *testing.T) {
		lock := &proxmox.ConfigChange{Set: map[string]string{"lock": "snapshot"}}
		if err := c.UpdateLXCConfig(ctx, "pve1", 150, lock); err != nil {
			t.Fatal(err)
		}
		upid, err := c.Backup(ctx, "pve1", proxmox.BackupParams{VMID: 150, Storage: "local"})
		if err != nil {
			t.Fatal(err)
		}
		err = c.WaitTask(ctx, "pve1", upid, nil)
		perr := pvesimPerr(t, err, proxmox.ErrTaskFailed)
		if perr.ExitStatus != "job errors" || perr.Message != "Backup of VM 150 failed - CT is locked (snapshot)" ||
			!errors.Is(err, proxmox.ErrLocked) || perr.Lock != "snapshot" {
			t.Errorf("backup of a locked CT = %+v", perr)
		}
	})
}
