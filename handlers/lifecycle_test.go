package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"corral/handlers"
	"corral/proxmox/pvesim"
	"corral/store"
)

func lifecycleTestPost(t *testing.T, c *client, n store.Node, vmid, action string, form url.Values) *response {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("from", "card")
	return c.post("/containers/"+n.ID+"/"+vmid+"/"+action, form, "HX-Request", "true")
}

func lifecycleTestEvents(t *testing.T, s *testServer, u store.User, n store.Node, vmid int) []store.Event {
	t.Helper()
	evs, err := s.DB.ContainerEvents(context.Background(), u.ID, n.ID, vmid, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestLifecycleActions(t *testing.T) {
	vmids := &containersTestVMIDs{}
	st := containersTestStart(t, func(d *handlers.Deps) { d.VMIDs = vmids })
	pve1 := st.sim.Node("pve1")

	// Stop a running container: the card comes back stopped, with a toast.
	res := lifecycleTestPost(t, st.c, st.pve1, "101", "stop", nil)
	expectStatus(t, res, 200)
	if s := res.Doc.Find(`[data-testid="ct-status"]`).Text(); s != "stopped" {
		t.Fatalf("card after stop: %q\n%s", s, res.Body)
	}
	if !strings.Contains(res.Header.Get("HX-Trigger"), "stopped") {
		t.Errorf("toast %q", res.Header.Get("HX-Trigger"))
	}
	if s, _ := pve1.GuestStatus(101); s != "stopped" {
		t.Fatalf("proxmox says %s", s)
	}
	// Refusals are clear.
	res = lifecycleTestPost(t, st.c, st.pve1, "101", "stop", nil)
	expectStatus(t, res, http.StatusConflict)
	if !strings.Contains(res.Body, "already stopped") {
		t.Errorf("stop twice: %s", res.Body)
	}
	res = lifecycleTestPost(t, st.c, st.pve1, "101", "start", nil)
	expectStatus(t, res, 200)
	res = lifecycleTestPost(t, st.c, st.pve1, "101", "start", nil)
	expectStatus(t, res, http.StatusConflict)
	if !strings.Contains(res.Body, "already running") {
		t.Errorf("start twice: %s", res.Body)
	}

	// Shutdown: graceful, then forced when the guest ignores it.
	res = lifecycleTestPost(t, st.c, st.pve1, "101", "shutdown", nil)
	expectStatus(t, res, 200)
	if !strings.Contains(res.Header.Get("HX-Trigger"), "cleanly") {
		t.Errorf("graceful shutdown toast %q", res.Header.Get("HX-Trigger"))
	}
	pve1.IgnoreShutdown(100, true)
	res = lifecycleTestPost(t, st.c, st.pve1, "100", "shutdown", nil)
	expectStatus(t, res, 200)
	if !strings.Contains(res.Header.Get("HX-Trigger"), "forced") {
		t.Errorf("forced shutdown toast %q", res.Header.Get("HX-Trigger"))
	}
	if s, _ := pve1.GuestStatus(100); s != "stopped" {
		t.Fatalf("after forced shutdown: %s", s)
	}

	// Reboot is Proxmox's reboot of a running container.
	res = lifecycleTestPost(t, st.c, st.pve1, "100", "reboot", nil)
	expectStatus(t, res, http.StatusConflict)
	expectStatus(t, lifecycleTestPost(t, st.c, st.pve1, "100", "start", nil), 200)
	res = lifecycleTestPost(t, st.c, st.pve1, "100", "reboot", nil)
	expectStatus(t, res, 200)
	if s := res.Doc.Find(`[data-testid="ct-status"]`).Text(); s != "running" {
		t.Fatalf("after reboot: %q", s)
	}

	// Proxmox refuses: its words reach the user.
	pve1.Faults().Set(pvesim.Fault{Path: "/nodes/pve1/lxc/100/status/stop", Method: "POST", Kind: pvesim.FaultStatus, Status: 500, Message: "CT 100 is locked (backup)", Times: 1})
	res = lifecycleTestPost(t, st.c, st.pve1, "100", "stop", nil)
	expectStatus(t, res, http.StatusBadGateway)
	if !strings.Contains(res.Body, "locked (backup)") {
		t.Errorf("refusal: %s", res.Body)
	}

	types := map[string]int{}
	for _, vmid := range []int{100, 101} {
		for _, e := range lifecycleTestEvents(t, st.s, st.alice, st.pve1, vmid) {
			types[e.Type]++
		}
	}
	for _, want := range []string{store.EventStopped, store.EventStarted, store.EventShutdown, store.EventError} {
		if types[want] == 0 {
			t.Errorf("no %s event: %v", want, types)
		}
	}
	_ = vmids
}

func TestLifecycleOneAtATime(t *testing.T) {
	st := containersTestStart(t)
	// Hold the first stop inside Proxmox for a while.
	st.sim.Node("pve1").Faults().Set(pvesim.Fault{Path: "/nodes/pve1/lxc/101/status/stop", Method: "POST", Kind: pvesim.FaultLatency, Delay: 3 * time.Second, Times: 1})
	stopPath := "/nodes/pve1/lxc/101/status/stop"
	faults := st.sim.Node("pve1").Faults()
	var first *response
	var wg sync.WaitGroup
	wg.Go(func() { first = lifecycleTestPost(t, st.c, st.pve1, "101", "stop", nil) })
	// Once Proxmox holds the stop, the first action owns the lock.
	for i := 0; faults.Hits(stopPath) == 0; i++ {
		if i > 1000 {
			t.Fatal("the stop never reached Proxmox")
		}
		time.Sleep(10 * time.Millisecond)
	}
	second := lifecycleTestPost(t, st.c, st.pve1, "101", "reboot", nil)
	wg.Wait()
	expectStatus(t, first, 200)
	if second.StatusCode != http.StatusConflict || !strings.Contains(second.Body, "Another action (stop)") {
		t.Fatalf("second action: %d %s", second.StatusCode, second.Body)
	}
}

func TestLifecycleDelete(t *testing.T) {
	vmids := &containersTestVMIDs{}
	st := containersTestStart(t, func(d *handlers.Deps) { d.VMIDs = vmids })
	ctx := context.Background()
	rec, err := st.s.DB.CreateContainer(ctx, store.Container{UserID: st.alice.ID, NodeID: st.pve2.ID, VMID: 102, Hostname: "nextcloud", Lifecycle: store.LifecycleError})
	if err != nil {
		t.Fatal(err)
	}
	// The VMID must be typed.
	res := lifecycleTestPost(t, st.c, st.pve2, "102", "delete", url.Values{"confirm_vmid": {"12"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	// An errored container can be deleted; a running one is stopped first.
	res = lifecycleTestPost(t, st.c, st.pve2, "102", "delete", url.Values{"confirm_vmid": {"102"}})
	expectStatus(t, res, 200)
	if _, ok := st.sim.Node("pve2").GuestStatus(102); ok {
		t.Fatal("CT 102 still on Proxmox")
	}
	list, _ := st.s.DB.Containers(ctx, st.alice.ID)
	for _, c := range list {
		if c.ID == rec.ID {
			t.Fatal("store record kept")
		}
	}
	res = lifecycleTestPost(t, st.c, st.pve1, "100", "delete", url.Values{"confirm_vmid": {"100"}})
	expectStatus(t, res, 200)
	if _, ok := st.sim.Node("pve1").GuestStatus(100); ok {
		t.Fatal("running CT 100 not deleted")
	}
	// Already gone: counts as deleted, and the record goes too.
	if _, err := st.s.DB.CreateContainer(ctx, store.Container{UserID: st.alice.ID, NodeID: st.pve1.ID, VMID: 555, Hostname: "ghost", Lifecycle: store.LifecycleReady}); err != nil {
		t.Fatal(err)
	}
	res = st.c.post("/containers/"+st.pve1.ID+"/555/delete", url.Values{"confirm_vmid": {"555"}, "from": {"detail"}})
	expectStatus(t, res, http.StatusSeeOther)
	if list, _ := st.s.DB.Containers(ctx, st.alice.ID); len(list) != 0 {
		t.Fatalf("records left: %+v", list)
	}
	if got := vmids.list(); len(got) != 3 {
		t.Fatalf("VMID cache told of %v", got)
	}
	evs := lifecycleTestEvents(t, st.s, st.alice, st.pve1, 555)
	if len(evs) == 0 || evs[0].Type != store.EventDeleted || !strings.Contains(evs[0].Message, "already gone") {
		t.Fatalf("events %+v", evs)
	}
}

// TestContainerRoutesOwnership walks every route of the area as bob on
// alice's node: all are 404, and nothing happens to her containers.
func TestContainerRoutesOwnership(t *testing.T) {
	st := containersTestStart(t)
	st.s.withUser(t, "bob", "battery staple")
	bob := st.s.client(t)
	bob.login("bob", "battery staple")
	base := "/containers/" + st.pve1.ID + "/101"
	for _, p := range []string{base, base + "?tab=services", base + "?tab=events", base + "/services/nginx/logs"} {
		expectStatus(t, bob.get(p), http.StatusNotFound)
	}
	for _, a := range []string{"start", "stop", "shutdown", "reboot", "delete", "services/refresh", "services/nginx/credentials"} {
		expectStatus(t, bob.post(base+"/"+a, url.Values{"confirm_vmid": {"101"}}), http.StatusNotFound)
	}
	if s, _ := st.sim.Node("pve1").GuestStatus(101); s != "running" {
		t.Fatalf("bob changed alice's container: %s", s)
	}
	// Alice herself reaches the page (so the 404s above mean something).
	expectStatus(t, st.c.get(base), 200)
	expectStatus(t, st.c.get("/containers/"+st.pve1.ID+"/notanumber"), http.StatusNotFound)
}
