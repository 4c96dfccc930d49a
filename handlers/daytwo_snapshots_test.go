package handlers_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"corral/proxmox"
)

// TestDayTwoSnapshots takes a snapshot, rolls back to it (the running
// container is stopped and started again, what changed since is gone),
// and deletes it.
func TestDayTwoSnapshots(t *testing.T) {
	e := dayTwoStart(t)
	const vmid = 101
	marker := filepath.Join(e.sim.Node("pve1").ContainerDir(vmid), "etc", "upgraded")

	page := e.c.get(e.ctURL(vmid, "/snapshots"))
	expectStatus(t, page, http.StatusOK)
	if page.Doc.Find(`[data-testid="snapshots-empty"]`).Length() != 1 {
		t.Fatalf("a container without snapshots:\n%s", page.Body)
	}
	res := e.c.post(e.ctURL(vmid, "/snapshots"), url.Values{"snap_name": {"before-upgrade"}, "snap_description": {"Mosquitto 2.0"}})
	task := e.waitTask(t, res)
	if state, _ := task.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "ok" {
		t.Fatalf("snapshot task: %s\n%s", state, task.Body)
	}
	e.waitEvent(t, e.pve1, vmid, "snapshot_taken")
	if !e.audited(t, "container.snapshot.create", "before-upgrade") {
		t.Error("not audited")
	}

	// The upgrade writes into the container, then goes wrong.
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(marker, []byte("2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	page = e.c.get(e.ctURL(vmid, "/snapshots"))
	row := page.Doc.Find(`[data-testid="snapshot"][data-snapshot="before-upgrade"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "Mosquitto 2.0") {
		t.Fatalf("snapshot row:\n%s", page.Body)
	}
	if page.Doc.Find(`.snapshot-current`).Length() != 1 {
		t.Error("no 'now' row under the snapshot")
	}
	rollback := row.Find(`[data-testid="snapshot-rollback"]`)
	href, _ := rollback.Attr("href")
	if text, _ := rollback.Attr("data-confirm"); !strings.Contains(text, "stops the container") {
		t.Errorf("the rollback question: %q", text)
	}

	// Without JavaScript, the link asks on a page of its own.
	confirm := e.c.get(href)
	expectStatus(t, confirm, http.StatusOK)
	if confirm.Doc.Find(`[data-testid="confirm-page"]`).Length() != 1 {
		t.Fatalf("no confirmation page:\n%s", confirm.Body)
	}
	res = e.c.post(href, nil)
	task = e.waitTask(t, res)
	if state, _ := task.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "ok" {
		t.Fatalf("rollback task: %s\n%s", state, task.Body)
	}
	if ev := e.waitEvent(t, e.pve1, vmid, "rolled_back"); ev.Type != "rolled_back" {
		t.Fatalf("event %+v", ev)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("the rollback kept what changed since the snapshot: %v", err)
	}
	if s, _ := e.sim.Node("pve1").GuestStatus(vmid); s != "running" {
		t.Errorf("after the rollback the container is %s, want running again", s)
	}

	// Delete, through the dialog's htmx post: the answer sends the browser
	// to the task page.
	res = e.c.post(e.ctURL(vmid, "/snapshots/before-upgrade/delete"), nil, "HX-Request", "true")
	if res.StatusCode != http.StatusNoContent || !strings.Contains(res.Header.Get("HX-Redirect"), "/tasks/") {
		t.Fatalf("delete via htmx: %d %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	e.waitEvent(t, e.pve1, vmid, "snapshot_deleted")
	list, err := e.other.Snapshots(t.Context(), "pve1", vmid)
	if err != nil || len(list) != 1 {
		t.Errorf("snapshots after delete: %+v %v", list, err)
	}

	t.Run("Refusals", func(t *testing.T) {
		res := e.c.post(e.ctURL(vmid, "/snapshots"), url.Values{"snap_name": {"1st"}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if msg := res.Doc.Find(`[data-testid="field-error"][data-field="snap_name"]`).Text(); !strings.Contains(msg, "starts with a letter") {
			t.Errorf("bad name: %q", msg)
		}
		expectStatus(t, e.c.post(e.ctURL(vmid, "/snapshots/nope/rollback"), nil), http.StatusNotFound)
		expectStatus(t, e.c.get(e.ctURL(vmid, "/snapshots/nope/delete")), http.StatusNotFound)
		expectStatus(t, e.c.get(e.ctURL(vmid, "/snapshots/nope/explode")), http.StatusNotFound)

		// A container another task holds: Proxmox's lock in plain words,
		// on the task page.
		if err := e.other.UpdateLXCConfig(t.Context(), "pve1", vmid, &proxmox.ConfigChange{Set: map[string]string{"lock": "backup"}}); err != nil {
			t.Fatal(err)
		}
		task := e.waitTask(t, e.c.post(e.ctURL(vmid, "/snapshots"), url.Values{"snap_name": {"locked-try"}}))
		if msg := task.Doc.Find(`[data-testid="task-message"]`).Text(); !strings.Contains(msg, "a backup of it is running") {
			t.Errorf("locked snapshot: %q", msg)
		}
		e.waitEvent(t, e.pve1, vmid, "error")
	})
}
