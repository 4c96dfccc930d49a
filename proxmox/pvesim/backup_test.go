package pvesim

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func backupsOf(t *testing.T, n *Node, vmid string) []map[string]any {
	t.Helper()
	var out []map[string]any
	q := url.Values{"content": {"backup"}, "vmid": {vmid}}
	for _, row := range call(t, n, corralTok, http.MethodGet, "/nodes/"+n.Name()+"/storage/local/content", q).dataList(t) {
		out = append(out, row.(map[string]any))
	}
	return out
}

func storageUsed(t *testing.T, n *Node, sid string) float64 {
	t.Helper()
	for _, row := range call(t, n, corralTok, http.MethodGet, "/nodes/"+n.Name()+"/storage", nil).dataList(t) {
		if m := row.(map[string]any); m["storage"] == sid {
			return m["used"].(float64)
		}
	}
	t.Fatalf("no storage %s", sid)
	return 0
}

var backupVolidRe = regexp.MustCompile(`^local:backup/vzdump-lxc-105-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.tar\.zst$`)

func TestBackupAndRestore(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	writeGuestFile(t, n, 105, "srv/data.txt", "v1\n")
	used := storageUsed(t, n, "local")

	form := url.Values{"vmid": {"105"}, "storage": {"local"}, "mode": {"snapshot"}, "compress": {"zstd"},
		"notes-template": {"{{guestname}} on {{node}}"}}
	upid := upidOf(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/vzdump", form))
	if !strings.Contains(upid, ":vzdump:105:corral@pve!corral:") {
		t.Fatalf("upid = %s", upid)
	}
	if st := waitTask(t, n, corralTok, upid); st["exitstatus"] != "OK" {
		t.Fatalf("backup = %v %q", st, taskLines(t, n, corralTok, upid))
	}
	log := strings.Join(taskLines(t, n, corralTok, upid), "\n")
	for _, want := range []string{
		"INFO: starting new backup job: vzdump 105 --compress zstd --mode snapshot --node pve --notes-template '{{guestname}} on {{node}}' --storage local",
		"INFO: Starting Backup of VM 105 (lxc)", "INFO: status = running", "INFO: CT Name: mqtt",
		"INFO: including mount point rootfs ('/') in backup", "INFO: backup mode: snapshot",
		"INFO: create storage snapshot 'vzdump'", `Logical volume "snap_vm-105-disk-0_vzdump" created.`,
		"INFO: creating vzdump archive '/var/lib/vz/dump/vzdump-lxc-105-", "INFO: archive file size: ",
		"INFO: adding notes to backup", "INFO: cleanup temporary 'vzdump' snapshot", "INFO: Finished Backup of VM 105 (",
		"INFO: Backup job finished successfully", "TASK OK",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	backups := backupsOf(t, n, "105")
	if len(backups) != 1 {
		t.Fatalf("backups = %v", backups)
	}
	b := backups[0]
	volid := b["volid"].(string)
	if !backupVolidRe.MatchString(volid) || b["format"] != "tar.zst" || b["subtype"] != "lxc" || b["vmid"] != float64(105) ||
		b["notes"] != "mqtt on pve" || b["content"] != "backup" || b["size"].(float64) <= 0 {
		t.Fatalf("backup = %v", b)
	}
	if grown := storageUsed(t, n, "local") - used; grown != b["size"] {
		t.Errorf("local used grew by %v, the backup is %v", grown, b["size"])
	}
	if _, ok := snapshotsOf(t, n, "105")["vzdump"]; ok {
		t.Error("the temporary vzdump snapshot was left behind")
	}
	if cfg := configOf(t, n, "105", true); cfg["lock"] != nil {
		t.Errorf("lock left: %v", cfg["lock"])
	}

	t.Run("RestoreToNewVMID", func(t *testing.T) {
		form := url.Values{"vmid": {"150"}, "ostemplate": {volid}, "restore": {"1"}, "storage": {"local-lvm"}}
		upid := upidOf(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc", form))
		if !strings.Contains(upid, ":vzrestore:150:") {
			t.Fatalf("upid = %s", upid)
		}
		if st := waitTask(t, n, corralTok, upid); st["exitstatus"] != "OK" {
			t.Fatalf("restore = %v %q", st, taskLines(t, n, corralTok, upid))
		}
		log := strings.Join(taskLines(t, n, corralTok, upid), "\n")
		for _, want := range []string{"recovering backed-up configuration from '" + volid + "'",
			`Logical volume "vm-150-disk-0" created.`, "restoring '" + volid + "' now..", "merging backed-up and given configuration.."} {
			if !strings.Contains(log, want) {
				t.Errorf("restore log lacks %q:\n%s", want, log)
			}
		}
		cfg := configOf(t, n, "150", true)
		if cfg["hostname"] != "mqtt" || cfg["rootfs"] != "local-lvm:vm-150-disk-0,size=8G" || cfg["memory"] != float64(2048) || cfg["lock"] != nil {
			t.Fatalf("restored config = %v", cfg)
		}
		if got := readGuestFile(t, n, 150, "srv/data.txt"); got != "v1\n" {
			t.Errorf("restored file = %q", got)
		}
	})
	t.Run("RestoreOverExisting", func(t *testing.T) {
		writeGuestFile(t, n, 110, "srv/data.txt", "other\n")
		form := url.Values{"vmid": {"110"}, "ostemplate": {volid}, "restore": {"1"}, "storage": {"local-lvm"}}
		wantStatus(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc", form), 500, "CT 110 already exists on node 'pve'")
		form.Set("force", "1")
		status, log := runTask(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc", form)
		if status != "OK" || !strings.Contains(strings.Join(log, "\n"), `Logical volume "vm-110-disk-0" successfully removed.`) {
			t.Fatalf("restore over 110: %s %q", status, log)
		}
		cfg := configOf(t, n, "110", true)
		if cfg["hostname"] != "mqtt" || cfg["rootfs"] != "local-lvm:vm-110-disk-1,size=8G" {
			t.Fatalf("config = %v", cfg)
		}
		if got := readGuestFile(t, n, 110, "srv/data.txt"); got != "v1\n" {
			t.Errorf("file = %q", got)
		}
		form.Set("vmid", "105")
		wantStatus(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc", form), 500, "can't overwrite running container")
		form.Set("vmid", "151")
		form.Del("storage")
		paramError(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/lxc", form), "storage", "storage 'local' does not support container directories")
	})
	t.Run("StopMode", func(t *testing.T) {
		status, log := runTask(t, n, corralTok, http.MethodPost, "/nodes/pve/vzdump", url.Values{"vmid": {"105"}, "mode": {"stop"}, "storage": {"local"}})
		joined := strings.Join(log, "\n")
		if status != "OK" || !strings.Contains(joined, "INFO: stopping virtual guest") || !strings.Contains(joined, "INFO: restarting vm") {
			t.Fatalf("stop mode: %s\n%s", status, joined)
		}
		if st, _ := n.GuestStatus(105); st != "running" {
			t.Errorf("CT 105 is %s after a stop-mode backup", st)
		}
	})
	t.Run("Refusals", func(t *testing.T) {
		status, _ := runTask(t, n, corralTok, http.MethodPost, "/nodes/pve/vzdump", url.Values{"vmid": {"105"}, "storage": {"local-lvm"}})
		if status != "could not get storage information for 'local-lvm': can't use storage 'local-lvm' for backups - wrong content type" {
			t.Errorf("backup to local-lvm: %s", status)
		}
		r := call(t, n, corralTok, http.MethodPost, "/nodes/pve/vzdump", url.Values{"vmid": {"120"}, "storage": {"local"}})
		if wantStatus(t, r, 200, ""); r.data() != "OK" {
			t.Errorf("backup of a guest on another node = %s", r.raw)
		}
		paramError(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/vzdump", url.Values{"storage": {"local"}}), "vmid", "property is missing")
		paramError(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/vzdump", url.Values{"vmid": {"105"}, "dumpdir": {"/tmp"}}),
			"dumpdir", "Only root may set this option.")
		paramError(t, call(t, n, corralTok, http.MethodPost, "/nodes/pve/vzdump", url.Values{"vmid": {"105"}, "notes-template": {"{{owner}}"}}),
			"notes-template", "found unknown: variable 'owner' at char 2\n")

		noBackup := TokenSpec{User: "bob@pve", ID: "tok", Secret: "b0b0b0b0-0000-4000-8000-000000000001", Privsep: true,
			Privileges: ACL{"/storage": {"Datastore.AllocateSpace"}, "/vms": {"VM.Audit"}}}
		s.AddToken(noBackup)
		status, _ = runTask(t, n, noBackup, http.MethodPost, "/nodes/pve/vzdump", url.Values{"vmid": {"105"}, "storage": {"local"}})
		// A PVE::Exception in a worker prints with its code.
		if status != "403 Permission check failed (/vms/105, VM.Backup)" {
			t.Errorf("backup without VM.Backup: %s", status)
		}
		if len(backupsOf(t, n, "110")) != 0 {
			t.Error("backups listed for a vmid that has none")
		}

		wantStatus(t, putConfig(t, n, adminToken, "110", url.Values{"lock": {"snapshot"}}), 200, "")
		status, log := runTask(t, n, corralTok, http.MethodPost, "/nodes/pve/vzdump", url.Values{"vmid": {"110"}, "storage": {"local"}})
		if status != "job errors" || !strings.Contains(strings.Join(log, "\n"), "ERROR: Backup of VM 110 failed - CT is locked (snapshot)") {
			t.Errorf("backup of a locked CT: %s %q", status, log)
		}
	})
}
