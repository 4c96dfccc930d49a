package pvesim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestResize(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	resize := func(vmid string, form url.Values) resp {
		return call(t, n, corralTok, http.MethodPut, "/nodes/pve/lxc/"+vmid+"/resize", form)
	}
	used := storageUsed(t, n, "local-lvm")
	digest := configOf(t, n, "110", true)["digest"].(string)

	upid := upidOf(t, resize("110", url.Values{"disk": {"rootfs"}, "size": {"+2G"}, "digest": {digest}}))
	if !strings.Contains(upid, ":resize:110:") {
		t.Fatalf("upid = %s", upid)
	}
	if st := waitTask(t, n, corralTok, upid); st["exitstatus"] != "OK" {
		t.Fatalf("resize = %v", st)
	}
	log := strings.Join(taskLines(t, n, corralTok, upid), "\n")
	for _, want := range []string{"Size of logical volume pve/vm-110-disk-0 changed from 8.00 GiB (2048 extents) to 10.00 GiB (2560 extents).",
		"e2fsck 1.47.2", "The filesystem on /dev/pve/vm-110-disk-0 is now 2621440 (4k) blocks long."} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if rf := configOf(t, n, "110", true)["rootfs"]; rf != "local-lvm:vm-110-disk-0,size=10G" {
		t.Errorf("rootfs = %v", rf)
	}
	if grown := storageUsed(t, n, "local-lvm") - used; grown != float64(int64(10<<30)/thinShare-int64(8<<30)/thinShare) {
		t.Errorf("local-lvm used grew by %v", grown)
	}
	row := call(t, n, corralTok, http.MethodGet, "/nodes/pve/lxc/110/status/current", nil).dataMap(t)
	if row["maxdisk"] != float64(10<<30) {
		t.Errorf("maxdisk = %v", row["maxdisk"])
	}

	t.Run("Running", func(t *testing.T) {
		status, log := runTask(t, n, corralTok, http.MethodPut, "/nodes/pve/lxc/105/resize", url.Values{"disk": {"rootfs"}, "size": {"8704M"}})
		if status != "OK" || !strings.Contains(strings.Join(log, "\n"), "on-line resizing required") {
			t.Fatalf("online resize: %s %q", status, log)
		}
		if rf := configOf(t, n, "105", true)["rootfs"]; rf != "local-lvm:vm-105-disk-0,size=8704M" {
			t.Errorf("rootfs = %v", rf)
		}
	})
	t.Run("Refusals", func(t *testing.T) {
		wantStatus(t, resize("110", url.Values{"disk": {"rootfs"}, "size": {"4G"}}), 500, "unable to shrink disk size")
		wantStatus(t, resize("110", url.Values{"disk": {"rootfs"}, "size": {"10G"}}), 500, "disk is already at specified size")
		wantStatus(t, resize("110", url.Values{"disk": {"rootfs"}, "size": {"+1G"}, "digest": {digest}}), 500,
			"detected modified configuration - file changed by other user? Try again.")
		paramError(t, resize("110", url.Values{"disk": {"rootfs"}, "size": {"-1G"}}), "size", "value does not match the regex pattern")
		paramError(t, resize("110", url.Values{"disk": {"swap"}, "size": {"+1G"}}), "disk",
			"value 'swap' does not have a value in the enumeration '"+strings.Join(resizeSchema["disk"].enum, ", ")+"'")
		r := resize("110", url.Values{"disk": {"mp3"}, "size": {"+1G"}})
		wantStatus(t, r, 500, "format error")
		wantStatus(t, call(t, n, emptyToken, http.MethodPut, "/nodes/pve/lxc/110/resize", url.Values{"disk": {"rootfs"}, "size": {"+1G"}}),
			403, "Permission check failed (/vms/110, VM.Config.Disk)")
	})
}
