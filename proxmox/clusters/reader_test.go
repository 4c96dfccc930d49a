package clusters_test

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

func TestReadCluster_NextMemberWhenOneIsDown(t *testing.T) {
	sim := simtest.Demo(t)
	pve1, pve2 := node(t, sim, "alice", "pve1"), node(t, sim, "alice", "pve2")
	if err := sim.Node("pve1").SetDown(true); err != nil {
		t.Fatal(err)
	}
	c := clusters.NewReader(clusters.NewClients(nil)).ReadCluster(t.Context(), []store.Node{pve1, pve2})
	if c.Err() != nil || len(c.Failed) != 1 || c.Failed[0].Node.ID != pve1.ID {
		t.Fatalf("read %+v, %v", c, c.Err())
	}
	if len(proxmox.GuestsFromResources(c.Resources)) != 6 {
		t.Fatalf("resources via pve2: %+v", c.Resources)
	}
}

// TestReadCluster_Deadlines: a hung member gives way to the next after its
// deadline, and members the cluster's deadline leaves unasked are named.
func TestReadCluster_Deadlines(t *testing.T) {
	sim := simtest.Demo(t)
	for _, n := range []string{"pve1", "pve2"} {
		sim.Node(n).Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultHang})
	}
	nodes := []store.Node{node(t, sim, "alice", "pve1"), node(t, sim, "alice", "pve2"), node(t, sim, "alice", "pve3")}
	r := clusters.NewReader(clusters.NewClients(nil), clusters.WithDeadlines(time.Second, time.Hour))
	if c := r.ReadCluster(t.Context(), nodes); c.Err() != nil || len(c.Failed) != 2 {
		t.Fatalf("pve3 after two hung members: %+v", c)
	}
	r = clusters.NewReader(clusters.NewClients(nil), clusters.WithDeadlines(time.Second, 1500*time.Millisecond))
	c := r.ReadCluster(t.Context(), nodes)
	if c.Err() == nil || len(c.Failed) != 3 || !strings.Contains(c.Failed[2].Message, "not asked") || c.Failed[2].Err != nil {
		t.Fatalf("cluster out of time: %+v", c)
	}
}

// TestReadCluster_AnswerWithoutListIsNoList: an answer without data is no
// guest list (it must not make every VMID look free); {"data":[]} is one.
func TestReadCluster_AnswerWithoutListIsNoList(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			fmt.Fprint(w, `{"data":null}`)
			return
		}
		fmt.Fprint(w, `{"data":[]}`)
	}))
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	sum := sha256.Sum256(srv.Certificate().Raw)
	fp, err := proxmox.NormalizeFingerprint(fmt.Sprintf("%x", sum))
	if err != nil {
		t.Fatal(err)
	}
	n := store.Node{ID: "n1", UserID: "alice", Host: host, Port: p, TokenID: pvesim.DemoTokenID, TokenSecret: pvesim.DemoTokenSecret, TLSFingerprint: fp}
	r := clusters.NewReader(clusters.NewClients(nil))
	if c := r.ReadCluster(t.Context(), []store.Node{n}); c.Resources != nil || len(c.Failed) != 1 || !strings.Contains(c.Failed[0].Message, "no guest list") {
		t.Fatalf("an answer without data was taken for a list: %+v", c)
	}
	if c := r.ReadCluster(t.Context(), []store.Node{n}); c.Err() != nil || c.Resources == nil || len(c.Resources) != 0 {
		t.Fatalf("an empty cluster: %+v, %v", c, c.Err())
	}
}
