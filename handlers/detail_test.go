package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"corral/exec"
	"corral/exec/inspect"
	"corral/store"
)

// detailTestInstall installs nginx in a simulated container and leaves a
// credential file where save_credential would.
func detailTestInstall(t *testing.T, st *containersTestSetup, pveName string, vmid int) {
	t.Helper()
	n := st.sim.Node(pveName)
	h, err := exec.Dial(t.Context(), handlersTarget(st, pveName))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var out strings.Builder
	code, err := h.Pct(t.Context(), exec.PctRequest{VMID: vmid, Argv: []string{"apt-get", "install", "-y", "nginx"}, Stdout: &out, Stderr: &out})
	if err != nil || code != 0 {
		t.Fatalf("install nginx: %d %v %s", code, err, out.String())
	}
	dir := filepath.Join(n.ContainerDir(vmid), inspect.CredentialDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx"), []byte("USER=admin\nPASSWORD=hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func handlersTarget(st *containersTestSetup, pveName string) exec.HostTarget {
	for _, n := range []store.Node{st.pve1, st.pve2, st.solo} {
		if n.PVENodeName == pveName {
			return handlersHostTarget(n)
		}
	}
	return exec.HostTarget{}
}

func handlersHostTarget(n store.Node) exec.HostTarget {
	return exec.HostTarget{Host: n.Host, Port: n.SSHPort, User: n.SSHUser, Password: n.SSHPassword, HostKey: n.SSHHostKey}
}

func TestContainerDetail(t *testing.T) {
	st := containersTestStart(t)
	ctx := context.Background()
	if _, err := st.s.DB.CreateContainer(ctx, store.Container{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 100,
		Hostname: "pihole", TemplateName: "DNS sinkhole", Lifecycle: store.LifecycleReady}); err != nil {
		t.Fatal(err)
	}
	base := "/containers/" + st.pve1.ID + "/100"
	res := st.c.get(base)
	expectStatus(t, res, 200)
	for label, want := range map[string]string{"Hostname": "pihole", "Cores": "1 core", "Memory": "512 MiB", "Template": "DNS sinkhole", "Node": "pve1"} {
		if got := strings.TrimSpace(res.Doc.Find(`[data-testid="cfg-` + label + `"]`).Text()); got != want {
			t.Errorf("%s = %q, want %q", label, got, want)
		}
	}
	if res.Doc.Find(`[data-testid="usage-Memory"] [role="meter"]`).Length() != 1 {
		t.Error("no memory bar")
	}
	if ip := res.Doc.Find(`[data-testid="runtime-ip"]`).Text(); ip == "—" || ip == "" {
		t.Errorf("runtime IP %q", ip)
	}
	if res.Doc.Find(`[data-testid="chart"]`).Length() != 2 {
		t.Errorf("charts: %d", res.Doc.Find(`[data-testid="chart"]`).Length())
	}
	if res.Doc.Find(`[data-testid="detail-stale"]`).Length() != 0 {
		t.Fatal("fresh page marked stale")
	}

	// Services: discover, open links, logs, credentials (audited).
	detailTestInstall(t, st, "pve1", 100)
	res = st.c.post(base+"/services/refresh", nil, "HX-Request", "true")
	expectStatus(t, res, 200)
	svc := res.Doc.Find(`[data-service="nginx"]`)
	if svc.Length() != 1 {
		t.Fatalf("nginx not discovered:\n%s", res.Body)
	}
	if href, _ := svc.Find(`[data-testid="service-open"]`).Attr("href"); !strings.HasPrefix(href, "http://") || !strings.HasSuffix(href, ":80") {
		t.Errorf("open link %q", href)
	}
	if strings.Contains(res.Body, "hunter2") {
		t.Fatal("credential shown before reveal")
	}
	res = st.c.get(base+"/services/nginx/logs?lines=5", "HX-Request", "true")
	expectStatus(t, res, 200)
	if res.Doc.Find(`[data-testid="service-logs"]`).Length() != 1 {
		t.Fatalf("logs: %s", res.Body)
	}
	expectStatus(t, st.c.get(base+"/services/-x/logs"), http.StatusBadRequest)
	res = st.c.post(base+"/services/nginx/credentials", nil, "HX-Request", "true")
	expectStatus(t, res, 200)
	if !strings.Contains(res.Doc.Find(`[data-testid="credentials"]`).Text(), "hunter2") {
		t.Fatalf("reveal: %s", res.Body)
	}
	audits, err := st.s.DB.AuditEntries(ctx, 50)
	if err == nil {
		found := false
		for _, a := range audits {
			found = found || a.Kind == "container.credentials.reveal" && a.Detail == "nginx"
		}
		if !found {
			t.Error("reveal not audited")
		}
	}
	// The dashboard now lists nginx on the card, without SSH.
	res = st.c.get("/containers")
	if !strings.Contains(res.Doc.Find(`[data-node="pve1"][data-vmid="100"] [data-testid="ct-services"]`).Text(), "nginx") {
		t.Error("card lacks the discovered service")
	}
	// Events tab with a type filter.
	expectStatus(t, lifecycleTestPost(t, st.c, st.pve1, "100", "reboot", nil), 200)
	res = st.c.get(base + "?tab=events&type=rebooted")
	if n := res.Doc.Find(`[data-testid="event"]`).Length(); n != 1 {
		t.Fatalf("%d rebooted events:\n%s", n, res.Body)
	}
	if res.Doc.Find(`[data-testid="event-filter-services"]`).Length() != 1 {
		t.Error("no services filter")
	}

	// Gone from Proxmox: Corral's record is shown, and says so precisely.
	expectStatus(t, lifecycleTestPost(t, st.c, st.pve1, "100", "delete", url.Values{"confirm_vmid": {"100"}}), 200)
	if _, err := st.s.DB.CreateContainer(ctx, store.Container{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 100, Hostname: "pihole", Lifecycle: store.LifecycleReady}); err != nil {
		t.Fatal(err)
	}
	res = st.c.get(base)
	expectStatus(t, res, 200)
	if p := res.Doc.Find(`[data-testid="detail-stale"]`).Text(); !strings.Contains(p, "no longer exists on pve1") {
		t.Fatalf("gone banner %q", p)
	}
	// An unreachable node: stale, naming the node.
	if err := st.sim.Node("pve-solo").SetDown(true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.s.DB.CreateContainer(ctx, store.Container{UserID: st.alice.ID, NodeID: st.solo.ID, VMID: 100, Hostname: "backup", Lifecycle: store.LifecycleReady}); err != nil {
		t.Fatal(err)
	}
	res = st.c.get("/containers/" + st.solo.ID + "/100")
	expectStatus(t, res, 200)
	if p := res.Doc.Find(`[data-testid="detail-stale"]`).Text(); !strings.Contains(p, "Node solo did not answer") {
		t.Fatalf("stale banner %q", p)
	}
	if s := res.Doc.Find(`[data-testid="detail-status"]`).Text(); s != "unknown" {
		t.Errorf("status %q", s)
	}
}
