package handlers_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDayTwoBackups backs a container up, lists the backup, restores it to
// a new VMID next to the original, and over the original after its VMID
// was typed.
func TestDayTwoBackups(t *testing.T) {
	e := dayTwoStart(t)
	const vmid = 101
	dir := e.sim.Node("pve1").ContainerDir(vmid)
	write := func(root, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, "data.txt"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dir, "v1\n")

	page := e.c.get(e.ctURL(vmid, "/backups"))
	expectStatus(t, page, http.StatusOK)
	form := formOf(t, page, `[data-testid="backup-form"]`, "")
	if form.Get("storage") != "local" || form.Get("mode") != "snapshot" {
		t.Fatalf("backup form = %v", form)
	}
	if page.Doc.Find(`[data-testid="backups-empty"]`).Length() != 1 {
		t.Fatalf("backups before the first:\n%s", page.Body)
	}
	task := e.waitTask(t, e.c.post(e.ctURL(vmid, "/backups"), form))
	log := task.Doc.Find(`[data-testid="task-log"]`).Text()
	if state, _ := task.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "ok" || !strings.Contains(log, "INFO: Backup job finished successfully") {
		t.Fatalf("backup task %s:\n%s", state, log)
	}
	e.waitEvent(t, e.pve1, vmid, "backed_up")
	if !e.audited(t, "container.backup", "to local, mode snapshot") {
		t.Error("the backup was not audited")
	}

	page = e.c.get(e.ctURL(vmid, "/backups?storage=local"))
	rows := page.Doc.Find(`[data-testid="backup"]`)
	volid, _ := rows.Attr("data-volid")
	if rows.Length() != 1 || !strings.HasPrefix(volid, "local:backup/vzdump-lxc-101-") || !strings.Contains(rows.Text(), "mqtt") {
		t.Fatalf("backups listed:\n%s", page.Body)
	}

	t.Run("RestoreToNewVMID", func(t *testing.T) {
		f := formOf(t, page, `[data-testid="restore-new-form"]`, "")
		if f.Get("archive") != volid || f.Get("restore_storage") != "local-lvm" || f.Get("node_id") != e.pve1.ID {
			t.Fatalf("restore form = %v", f)
		}
		// The VMID field is the wizard's: red for a taken id.
		f.Set("vmid", "100")
		res := e.c.post(e.ctURL(vmid, "/backups/restore"), f)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if state, _ := res.Doc.Find(`[data-testid="vmid-status"]`).Attr("data-state"); state != "taken" {
			t.Errorf("a taken VMID: %q\n%s", state, res.Body)
		}
		f.Set("vmid", "150")
		task := e.waitTask(t, e.c.post(e.ctURL(vmid, "/backups/restore"), f))
		if state, _ := task.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "ok" {
			t.Fatalf("restore task %s:\n%s", state, task.Body)
		}
		if next, _ := task.Doc.Find(`[data-testid="task-next"]`).Attr("href"); next != "/containers/"+e.pve1.ID+"/150" {
			t.Errorf("link to the restored container: %q", next)
		}
		e.waitEvent(t, e.pve1, vmid, "restored")
		cfg := e.config(t, 150)
		if cfg.Hostname() != "mqtt" || cfg.RootFS().Volume != "local-lvm:vm-150-disk-0" {
			t.Errorf("restored config = %v", cfg)
		}
		if got, err := os.ReadFile(filepath.Join(e.sim.Node("pve1").ContainerDir(150), "data.txt")); err != nil || string(got) != "v1\n" {
			t.Errorf("restored file %q %v", got, err)
		}
		if s, _ := e.sim.Node("pve1").GuestStatus(150); s != "running" {
			t.Errorf("the copy is %s, want started", s)
		}
	})

	t.Run("RestoreOver", func(t *testing.T) {
		write(dir, "v2\n")
		f := formOf(t, page, `[data-testid="restore-over-form"]`, "")
		f.Set("confirm_vmid", "110")
		res := e.c.post(e.ctURL(vmid, "/backups/restore"), f)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if msg := res.Doc.Find(`[data-testid="field-error"][data-field="confirm_vmid"]`).Text(); !strings.Contains(msg, "Type 101") {
			t.Errorf("a wrong confirmation: %q", msg)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "data.txt")); string(got) != "v2\n" {
			t.Fatal("a refused restore changed the container")
		}
		f.Set("confirm_vmid", "101")
		task := e.waitTask(t, e.c.post(e.ctURL(vmid, "/backups/restore"), f))
		if state, _ := task.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "ok" {
			t.Fatalf("restore over: %s\n%s", state, task.Body)
		}
		e.waitEvent(t, e.pve1, vmid, "restored")
		if got, _ := os.ReadFile(filepath.Join(dir, "data.txt")); string(got) != "v1\n" {
			t.Errorf("file after the restore: %q", got)
		}
		if s, _ := e.sim.Node("pve1").GuestStatus(vmid); s != "running" {
			t.Errorf("a running container restored over is %s, want running again", s)
		}
	})

	t.Run("ForeignArchive", func(t *testing.T) {
		// Someone else's backup on the same storage is not this container's.
		other := e.waitTask(t, e.c.post(e.ctURL(100, "/backups"), url.Values{"storage": {"local"}, "mode": {"stop"}}))
		if state, _ := other.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "ok" {
			t.Fatalf("backup of 100: %s", state)
		}
		e.waitEvent(t, e.pve1, 100, "backed_up")
		list, err := e.other.Backups(t.Context(), "pve1", "local", 100)
		if err != nil || len(list) != 1 {
			t.Fatal(list, err)
		}
		res := e.c.post(e.ctURL(vmid, "/backups/restore"), url.Values{"target": {"over"}, "archive": {list[0].VolID}, "confirm_vmid": {"101"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if msg := res.Doc.Find(`[data-testid="field-error"][data-field="archive"]`).Text(); !strings.Contains(msg, "this container's backups") {
			t.Errorf("another container's backup: %q", msg)
		}
	})
}
