package handlers_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"corral/store"
)

// A container still being created, or whose creation failed, links to its
// job's progress page from the dashboard and the detail page, so a user who
// left the progress page can find it again; a ready one does not.
func TestContainersLinkToCreationJob(t *testing.T) {
	s := newTestServer(t)
	sim := startSim(t)
	u := s.withUser(t, "alice", "correct horse")
	n := s.addSimNode(t, sim, u.ID, "pve1", "pve1")
	ctx := context.Background()
	for vmid, lc := range map[int]string{170: store.LifecycleCreating, 171: store.LifecycleError, 172: store.LifecycleReady} {
		if _, err := s.DB.CreateContainer(ctx, store.Container{UserID: u.ID, NodeID: n.ID, VMID: vmid,
			Hostname: "ct" + strconv.Itoa(vmid), Lifecycle: lc, JobID: "job" + strconv.Itoa(vmid)}); err != nil {
			t.Fatal(err)
		}
	}
	c := s.client(t)
	c.login("alice", "correct horse")
	res := c.get("/containers")
	expectStatus(t, res, http.StatusOK)
	for vmid, want := range map[int]string{170: "/jobs/job170", 171: "/jobs/job171", 172: ""} {
		card := res.Doc.Find(`[data-testid="ct-card"][data-vmid="` + strconv.Itoa(vmid) + `"]`)
		if card.Length() != 1 {
			t.Fatalf("no card for CT %d", vmid)
		}
		href, _ := card.Find(`[data-testid="ct-job"]`).Attr("href")
		if href != want {
			t.Errorf("CT %d links to job %q, want %q", vmid, href, want)
		}
	}
	detail := c.get("/containers/" + n.ID + "/170")
	expectStatus(t, detail, http.StatusOK)
	if href, _ := detail.Doc.Find(`[data-testid="detail-job"]`).Attr("href"); href != "/jobs/job170" {
		t.Fatalf("detail page of a creating container links to %q", href)
	}
}
