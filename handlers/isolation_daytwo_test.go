package handlers_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"corral/exec"
	"corral/handlers"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
)

// A's day-two things in the isolation estate: a snapshot and a backup of
// her web container, for B to aim at.

// isoASnapshot is the name of A's snapshot.
const isoASnapshot = "alpha-before-upgrade"

// createAliceDayTwo takes A's snapshot and backup through her own Proxmox.
func (est *isoEstate) createAliceDayTwo(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	api, err := proxmox.New(clusters.Config(est.aNodes[0]), proxmox.WithPollInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	upid, err := api.CreateSnapshot(ctx, "alpha-pve1", isoVMIDWeb, isoASnapshot, "alpha-snapshot-notes")
	if err == nil {
		err = api.WaitTask(ctx, "alpha-pve1", upid, nil)
	}
	if err != nil {
		t.Fatalf("A's snapshot: %v", err)
	}
	upid, err = api.Backup(ctx, "alpha-pve1", proxmox.BackupParams{VMID: isoVMIDWeb, Storage: "local", NotesTemplate: "{{guestname}}"})
	if err == nil {
		err = api.WaitTask(ctx, "alpha-pve1", upid, nil)
	}
	if err != nil {
		t.Fatalf("A's backup: %v", err)
	}
	list, err := api.Backups(ctx, "alpha-pve1", "local", isoVMIDWeb)
	if err != nil || len(list) != 1 {
		t.Fatalf("A's backups: %+v %v", list, err)
	}
	est.aBackup = list[0].VolID
}

// snapshotDayTwo adds A's snapshots and backups, as Proxmox lists them, to
// what B must not change.
func (est *isoEstate) snapshotDayTwo(t *testing.T, put func(key string, v any, err error)) {
	t.Helper()
	ctx := context.Background()
	for _, n := range est.aNodes {
		api, err := proxmox.New(clusters.Config(n))
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range est.aCTs {
			if ct.NodeID != n.ID {
				continue
			}
			snaps, err := api.Snapshots(ctx, ct.PVE, ct.VMID)
			put(fmt.Sprintf("proxmox snapshots of CT %d", ct.VMID), snaps, err)
		}
		stores, err := api.Storages(ctx, n.PVENodeName, "backup")
		put("proxmox backup storages of "+n.Name, stores, err)
		for _, s := range stores {
			vols, err := api.StorageContent(ctx, n.PVENodeName, s.Storage, "backup")
			slices.SortFunc(vols, func(a, b proxmox.Volume) int { return int(a.CTime - b.CTime) })
			put("proxmox backups on "+n.Name+"/"+s.Storage, vols, err)
		}
		api.Close()
	}
}

// isoASnapshotName fills A's snapshot name.
func isoASnapshotName(name string) isoFill {
	return func(*isoEstate) []isoBinding { return []isoBinding{isoOne(name, isoASnapshot)} }
}

// isoABackup fills the volume id of A's backup.
func isoABackup(name string) isoFill {
	return func(est *isoEstate) []isoBinding { return []isoBinding{isoOne(name, est.aBackup)} }
}

// isoWord fills a parameter that is nobody's id (an action's name).
func isoWord(name, value string) isoFill {
	return func(*isoEstate) []isoBinding { return []isoBinding{{vals: map[string]string{name: value}}} }
}

// isoDayTwoCases are the Settings tab's four forms, each applied straight
// away, on A's containers and with B's node.
func isoDayTwoCases(settings url.Values) []isoCase {
	forms := []url.Values{settings,
		{"op": {"mount"}, "step": {"apply"}, "digest": {"x"}, "mp_storage": {"local-lvm"}, "mp_size": {"1"}, "mp_path": {"/srv/bravo"}},
		{"op": {"bind"}, "step": {"apply"}, "digest": {"x"}, "bind_host": {"/mnt/bravo"}, "bind_path": {"/bravo"}},
		{"op": {"unmount"}, "step": {"apply"}, "digest": {"x"}, "key": {"mp0"}},
	}
	var out []isoCase
	for _, f := range forms {
		out = append(out,
			isoCase{path: isoFills(isoAContainer), fixed: f},
			isoCase{path: isoFills(isoBNodeAVMID), fixed: f, want: isoAsUnknown})
	}
	return out
}

// The tripwire also watches the SSH door of service actions and bind mounts.

func (s *isoTripInspector) ControlService(ctx context.Context, n store.Node, vmid int, service, action string) error {
	s.trip.note(n, "service "+action)
	return s.ServiceInspector.(handlers.ServiceController).ControlService(ctx, n, vmid, service, action)
}

func (s *isoTripInspector) SetBindMount(ctx context.Context, n store.Node, vmid int, b exec.BindMount) error {
	s.trip.note(n, "bind mount")
	return s.ServiceInspector.(handlers.BindMounter).SetBindMount(ctx, n, vmid, b)
}
