package handlers_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"corral/proxmox"
)

// reviewParams maps the parameters a review page shows for request req
// (e.g. "PUT /nodes/pve1/lxc/101/config") to their values.
func reviewParams(t *testing.T, res *response, req string) map[string]string {
	t.Helper()
	out := map[string]string{}
	found := false
	res.Doc.Find(`[data-testid="settings-review-panel"] .stack`).Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`[data-testid="review-request"]`).Text()) != req {
			return
		}
		found = true
		s.Find(`[data-testid="review-param"]`).Each(func(_ int, p *goquery.Selection) {
			name, _ := p.Attr("data-name")
			out[name] = strings.TrimSpace(p.Find(".wizard-param-value").Text())
		})
	})
	if !found {
		t.Fatalf("the review shows no %s:\n%s", req, res.Body)
	}
	return out
}

// TestDayTwoSettings changes a running container's settings through the
// Settings tab: the review shows the exact PUT, Apply sends it, and the
// container has the new values.
func TestDayTwoSettings(t *testing.T) {
	e := dayTwoStart(t)
	const vmid = 101 // mqtt, running, 256 MiB, 2 GiB disk
	page := e.c.get(e.ctURL(vmid, "/settings"))
	expectStatus(t, page, http.StatusOK)
	if cur, _ := page.Doc.Find(`[data-testid="tab-settings"]`).Attr("aria-current"); cur != "page" {
		t.Fatalf("the Settings tab is not the open one:\n%s", page.Body)
	}
	digest := e.config(t, vmid).Digest()
	form := formOf(t, page, `[data-testid="settings-form"]`, "review")
	if form.Get("memory") != "256" || form.Get("digest") != digest || form.Get("disk_size") != "2" {
		t.Fatalf("form = %v", form)
	}
	if free := page.Doc.Find(`[data-testid="disk-free"]`).Text(); !strings.Contains(free, "GiB free") {
		t.Errorf("the disk's storage free space is not shown: %q", free)
	}

	form.Set("memory", "512")
	form.Set("onboot", "1")
	form.Set("startup_order", "2")
	form.Set("startup_up", "30")
	form.Set("tags", "iot mqtt")
	form.Set("description", "Broker for the sensors")
	form.Set("ip_mode", "static")
	form.Set("ip", "192.168.1.77/24")
	form.Set("gw", "192.168.1.1")
	form.Set("vlan", "20")
	form.Set("firewall", "1")
	review := e.c.post(e.ctURL(vmid, "/settings"), form)
	expectStatus(t, review, http.StatusOK)
	params := reviewParams(t, review, "PUT /nodes/pve1/lxc/101/config")
	net0 := params["net0"]
	old, _ := e.config(t, vmid).Net(0)
	want := map[string]string{"memory": "512", "onboot": "1", "startup": "order=2,up=30", "tags": "iot;mqtt",
		"description": "Broker for the sensors", "digest": digest}
	for k, v := range want {
		if params[k] != v {
			t.Errorf("review %s = %q, want %q", k, params[k], v)
		}
	}
	for _, part := range []string{"ip=192.168.1.77/24", "gw=192.168.1.1", "tag=20", "firewall=1", "bridge=vmbr0", "hwaddr=" + old.HWAddr} {
		if !strings.Contains(net0, part) {
			t.Errorf("review net0 = %q, lacks %s", net0, part)
		}
	}
	if len(params) != len(want)+1 {
		t.Errorf("the review sends more than what changed: %v", params)
	}
	if got := e.config(t, vmid).Memory(); got != 256 {
		t.Fatalf("the review changed the container: memory %d", got)
	}

	apply := e.c.post(e.ctURL(vmid, "/settings"), formOf(t, review, `[data-testid="review-form"]`, "apply"))
	if apply.StatusCode != http.StatusSeeOther || !strings.HasSuffix(apply.Header.Get("Location"), "/settings") {
		t.Fatalf("apply: %d %q\n%s", apply.StatusCode, apply.Header.Get("Location"), apply.Body)
	}
	cfg := e.config(t, vmid)
	nc, _ := cfg.Net(0)
	if cfg.Memory() != 512 || !cfg.OnBoot() || cfg.Startup() != "order=2,up=30" || strings.Join(cfg.Tags(), ";") != "iot;mqtt" ||
		cfg.Description() != "Broker for the sensors\n" || nc.IP != "192.168.1.77/24" || nc.Tag != 20 || !nc.Firewall || nc.HWAddr != old.HWAddr {
		t.Fatalf("config after apply = %v", cfg)
	}
	after := e.c.get(e.ctURL(vmid, "/settings"))
	if flash := after.Doc.Find(`[data-testid="flash"]`).Text(); !strings.Contains(flash, "Saved") {
		t.Errorf("flash after apply: %q", flash)
	}
	if !e.audited(t, "container.settings", "memory=512") {
		t.Error("the change was not audited")
	}
	if ev := e.waitEvent(t, e.pve1, vmid, "settings_changed"); !strings.Contains(ev.Message, "memory") {
		t.Errorf("event = %+v", ev)
	}

	// The same form again changes nothing.
	same := e.c.post(e.ctURL(vmid, "/settings"), formOf(t, after, `[data-testid="settings-form"]`, "review"))
	expectStatus(t, same, http.StatusOK)
	if note := same.Doc.Find(`[data-testid="settings-note"]`).Text(); !strings.Contains(note, "Nothing to change") {
		t.Errorf("an unchanged form: %q\n%s", note, same.Body)
	}

	t.Run("Refusals", func(t *testing.T) {
		f := formOf(t, after, `[data-testid="settings-form"]`, "review")
		f.Set("disk_size", "1")
		f.Set("memory", "lots")
		f.Set("ip", "192.168.1.77")
		f.Set("gw", "10.0.0.1")
		res := e.c.post(e.ctURL(vmid, "/settings"), f)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		got := map[string]string{}
		res.Doc.Find(`[data-testid="field-error"]`).Each(func(_ int, s *goquery.Selection) {
			k, _ := s.Attr("data-field")
			got[k] = s.Text()
		})
		if !strings.Contains(got["disk_size"], "only grow") || got["memory"] == "" || got["ip"] == "" {
			t.Errorf("field errors = %v", got)
		}
		if v, _ := res.Doc.Find(`#memory`).Attr("value"); v != "lots" {
			t.Errorf("the form lost what was typed: memory %q", v)
		}
	})
}

// TestDayTwoSettingsConcurrentEdit: a change reviewed against a config
// that someone else changed before Apply is refused by Proxmox's digest,
// and nothing of it is applied; the form comes back with the values
// Proxmox has now.
func TestDayTwoSettingsConcurrentEdit(t *testing.T) {
	e := dayTwoStart(t)
	const vmid = 101
	page := e.c.get(e.ctURL(vmid, "/settings"))
	form := formOf(t, page, `[data-testid="settings-form"]`, "review")
	form.Set("memory", "768")
	form.Set("swap", "128")
	review := e.c.post(e.ctURL(vmid, "/settings"), form)
	expectStatus(t, review, http.StatusOK)

	// Meanwhile someone raises the memory in the Proxmox UI.
	cfg := e.config(t, vmid)
	ch := proxmox.NewConfigChange(cfg)
	ch.Update(cfg, "memory", "1024")
	if err := e.other.UpdateLXCConfig(t.Context(), "pve1", vmid, ch); err != nil {
		t.Fatal(err)
	}

	res := e.c.post(e.ctURL(vmid, "/settings"), formOf(t, review, `[data-testid="review-form"]`, "apply"))
	expectStatus(t, res, http.StatusConflict)
	if c := res.Doc.Find(`[data-testid="settings-conflict"]`).Text(); !strings.Contains(c, "changed in Proxmox after you opened this page") {
		t.Fatalf("conflict = %q\n%s", c, res.Body)
	}
	now := res.Doc.Find(`[data-testid="now-value"][data-field="memory"]`).Text()
	if !strings.Contains(now, "1024") {
		t.Errorf("the field does not show Proxmox's value: %q", now)
	}
	if v, _ := res.Doc.Find(`#memory`).Attr("value"); v != "768" {
		t.Errorf("the form lost what was typed: %q", v)
	}
	got := e.config(t, vmid)
	if got.Memory() != 1024 || got.Swap() == 128 {
		t.Fatalf("the refused change was applied in part: memory %d swap %d", got.Memory(), got.Swap())
	}
	// The form now carries the new digest: reviewing again goes through.
	again := formOf(t, res, `[data-testid="settings-form"]`, "review")
	if again.Get("digest") != got.Digest() {
		t.Fatalf("digest after the conflict = %q, want %q", again.Get("digest"), got.Digest())
	}
	review = e.c.post(e.ctURL(vmid, "/settings"), again)
	expectStatus(t, review, http.StatusOK)
	expectStatus(t, e.c.post(e.ctURL(vmid, "/settings"), formOf(t, review, `[data-testid="review-form"]`, "apply")), http.StatusSeeOther)
	if got := e.config(t, vmid); got.Memory() != 768 || got.Swap() != 128 {
		t.Errorf("after a second review: memory %d swap %d", got.Memory(), got.Swap())
	}

	// A review of a page opened before someone else's change is refused
	// by Corral already, before anything is sent.
	cfg = e.config(t, vmid)
	stale := formOf(t, page, `[data-testid="settings-form"]`, "review")
	stale.Set("cores", "2")
	res = e.c.post(e.ctURL(vmid, "/settings"), stale)
	expectStatus(t, res, http.StatusConflict)
	if e.config(t, vmid).Digest() != cfg.Digest() {
		t.Error("a stale review changed the container")
	}
}

// TestDayTwoResize grows the root disk: the review shows the resize
// request, Apply starts the task and shows its page, the disk grows.
func TestDayTwoResize(t *testing.T) {
	e := dayTwoStart(t)
	const vmid = 101
	page := e.c.get(e.ctURL(vmid, "/settings"))
	form := formOf(t, page, `[data-testid="settings-form"]`, "review")
	form.Set("disk_size", "3")
	review := e.c.post(e.ctURL(vmid, "/settings"), form)
	expectStatus(t, review, http.StatusOK)
	params := reviewParams(t, review, "PUT /nodes/pve1/lxc/101/resize")
	if params["disk"] != "rootfs" || params["size"] != "3G" || params["digest"] != e.config(t, vmid).Digest() {
		t.Errorf("resize params = %v", params)
	}
	if review.Doc.Find(`[data-testid="review-request"]`).Length() != 1 {
		t.Errorf("a resize alone sends only the resize:\n%s", review.Body)
	}
	res := e.c.post(e.ctURL(vmid, "/settings"), formOf(t, review, `[data-testid="review-form"]`, "apply"))
	task := e.waitTask(t, res)
	if state, _ := task.Doc.Find(`[data-testid="task-status"]`).Attr("data-state"); state != "ok" {
		t.Fatalf("resize task ended %s:\n%s", state, task.Body)
	}
	if !strings.Contains(task.Doc.Find(`[data-testid="task-log"]`).Text(), "successfully resized") {
		t.Errorf("task log:\n%s", task.Doc.Find(`[data-testid="task-log"]`).Text())
	}
	e.waitEvent(t, e.pve1, vmid, "disk_resized")
	size, _ := proxmox.ParseDiskSize(e.config(t, vmid).RootFS().Size)
	if size != 3<<30 {
		t.Errorf("rootfs is %d bytes", size)
	}
}

// TestDayTwoMountPoints adds a volume through the API and a host directory
// through pct set over SSH, each after a review, then removes one.
func TestDayTwoMountPoints(t *testing.T) {
	e := dayTwoStart(t)
	const vmid = 101
	page := e.c.get(e.ctURL(vmid, "/settings"))

	// A volume on local-lvm.
	f := formOf(t, page, `[data-testid="mount-form"]`, "review")
	f.Set("mp_size", "1")
	f.Set("mp_path", "/srv/data")
	review := e.c.post(e.ctURL(vmid, "/settings"), f)
	expectStatus(t, review, http.StatusOK)
	params := reviewParams(t, review, "PUT /nodes/pve1/lxc/101/config")
	if params["mp0"] != "local-lvm:1,mp=/srv/data,backup=1" || params["digest"] == "" {
		t.Errorf("mount review = %v", params)
	}
	expectStatus(t, e.c.post(e.ctURL(vmid, "/settings"), formOf(t, review, `[data-testid="review-form"]`, "apply")), http.StatusSeeOther)
	mp := e.config(t, vmid).MountPoints()[0]
	if mp.Volume != "local-lvm:vm-101-disk-1" || mp.Path != "/srv/data" || !mp.Backup {
		t.Fatalf("mp0 = %+v", mp)
	}

	// A host directory: checked, shown as the pct set command, then set.
	page = e.c.get(e.ctURL(vmid, "/settings"))
	f = formOf(t, page, `[data-testid="bind-form"]`, "review")
	f.Set("bind_host", "/etc/pve")
	f.Set("bind_path", "/media")
	res := e.c.post(e.ctURL(vmid, "/settings"), f)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if msg := res.Doc.Find(`[data-testid="field-error"][data-field="bind_host"]`).Text(); !strings.Contains(msg, "system directory") {
		t.Errorf("a host system directory: %q", msg)
	}
	if err := os.MkdirAll(filepath.Join(e.sim.Node("pve1").HostDir(), "mnt", "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.Set("bind_host", "/mnt/media")
	f.Set("bind_ro", "1")
	review = e.c.post(e.ctURL(vmid, "/settings"), f)
	expectStatus(t, review, http.StatusOK)
	if cmd := review.Doc.Find(`[data-testid="review-command"]`).Text(); cmd != "pct set 101 --mp1 /mnt/media,mp=/media,ro=1" {
		t.Fatalf("bind review command = %q\n%s", cmd, review.Body)
	}
	res = e.c.post(e.ctURL(vmid, "/settings"), formOf(t, review, `[data-testid="review-form"]`, "apply"))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bind apply: %d\n%s", res.StatusCode, res.Body)
	}
	bind := e.config(t, vmid).MountPoints()[1]
	if !bind.IsBind() || bind.Volume != "/mnt/media" || bind.Path != "/media" || !bind.ReadOnly {
		t.Fatalf("mp1 = %+v", bind)
	}
	if !e.audited(t, "container.mount.bind", "pct set 101 --mp1 /mnt/media,mp=/media,ro=1") {
		t.Error("the bind mount was not audited with its command")
	}

	// Removing the volume from the running container waits for its next
	// start, and the page says so.
	page = e.c.get(e.ctURL(vmid, "/settings"))
	if page.Doc.Find(`[data-testid="mount"]`).Length() != 2 {
		t.Fatalf("mount points listed:\n%s", page.Body)
	}
	f = formOf(t, page, `[data-testid="mount"][data-key="mp0"] form`, "review")
	review = e.c.post(e.ctURL(vmid, "/settings"), f)
	expectStatus(t, review, http.StatusOK)
	if params := reviewParams(t, review, "PUT /nodes/pve1/lxc/101/config"); params["delete"] != "mp0" {
		t.Errorf("remove review = %v", params)
	}
	if review.Doc.Find(`[data-testid="review-restart"]`).Length() == 0 {
		t.Errorf("the review does not say mp0 goes at the next start:\n%s", review.Body)
	}
	expectStatus(t, e.c.post(e.ctURL(vmid, "/settings"), formOf(t, review, `[data-testid="review-form"]`, "apply")), http.StatusSeeOther)
	page = e.c.get(e.ctURL(vmid, "/settings"))
	if page.Doc.Find(`[data-testid="pending"][data-key="mp0"]`).Length() != 1 {
		t.Errorf("the pending removal is not shown:\n%s", page.Doc.Find(`[data-testid="settings-panel"]`).Text())
	}
}

// TestDayTwoSettingsLocked: a container held by a backup is explained in
// plain words, and nothing is changed.
func TestDayTwoSettingsLocked(t *testing.T) {
	e := dayTwoStart(t)
	const vmid = 100
	page := e.c.get(e.ctURL(vmid, "/settings"))
	if err := e.other.UpdateLXCConfig(t.Context(), "pve1", vmid, &proxmox.ConfigChange{Set: map[string]string{"lock": "backup"}}); err != nil {
		t.Fatal(err)
	}
	page = e.c.get(e.ctURL(vmid, "/settings")) // the lock changed the digest
	form := formOf(t, page, `[data-testid="settings-form"]`, "review")
	form.Set("memory", "1024")
	review := e.c.post(e.ctURL(vmid, "/settings"), form)
	expectStatus(t, review, http.StatusOK)
	res := e.c.post(e.ctURL(vmid, "/settings"), formOf(t, review, `[data-testid="review-form"]`, "apply"))
	expectStatus(t, res, http.StatusConflict)
	if msg := res.Doc.Find(`[data-testid="settings-problem"]`).Text(); !strings.Contains(msg, "a backup of it is running") {
		t.Errorf("lock message = %q", msg)
	}
	if e.config(t, vmid).Memory() == 1024 {
		t.Error("a locked container was changed")
	}
}
