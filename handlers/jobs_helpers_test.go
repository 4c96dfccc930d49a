package handlers_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"corral/exec"
	"corral/exec/access"
	"corral/exec/provision"
	"corral/handlers"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/store"
)

// jobsTestCache is a VMIDCache that records what the pipeline noted and
// runs a hook on creation (the tests use it to put files into a freshly
// created container before the pipeline deploys its own).
type jobsTestCache struct {
	mu        sync.Mutex
	created   []int
	deleted   []int
	onCreated func(vmid int)
}

func (c *jobsTestCache) Check(ctx context.Context, n store.Node, vmid int) (clusters.VMIDCheck, error) {
	return clusters.VMIDCheck{Free: true, Known: true}, nil
}
func (c *jobsTestCache) RefreshIfStale(ctx context.Context, n store.Node) {}
func (c *jobsTestCache) NoteCreated(ctx context.Context, n store.Node, vmid int, name string) {
	c.mu.Lock()
	c.created = append(c.created, vmid)
	hook := c.onCreated
	c.mu.Unlock()
	if hook != nil {
		hook(vmid)
	}
}
func (c *jobsTestCache) NoteDeleted(ctx context.Context, n store.Node, vmid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deleted = append(c.deleted, vmid)
}

// jobsTestDial opens a node's host as Corral does.
func jobsTestDial(ctx context.Context, n store.Node) (provision.Shell, error) {
	h, err := exec.Dial(ctx, access.HostTarget(n))
	if err != nil {
		return nil, err
	}
	return h, nil
}

// jobsTestRunner builds a provisioner on db and runs it until the test
// ends (or until the returned stop is called, which waits for it).
func jobsTestRunner(t *testing.T, db *store.DB, cache handlers.VMIDCache, mods ...func(*provision.Config)) (*provision.Runner, func()) {
	t.Helper()
	cfg := provision.Config{
		Store: db, Proxmox: clusters.NewClients(slog.New(slog.DiscardHandler)), Dial: jobsTestDial,
		Logger: slog.New(slog.DiscardHandler), FlushInterval: 20 * time.Millisecond, WaitInterval: 50 * time.Millisecond,
	}
	if cache != nil {
		cfg.VMIDs = cache
	}
	for _, m := range mods {
		m(&cfg)
	}
	r, err := provision.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return r, stop
}

// jobsTestServer is a test server with a running provisioner, a user with
// a simulated node (pve1), and the VMID cache double.
type jobsTestEnv struct {
	srv    *testServer
	sim    *pvesim.Sim
	runner *provision.Runner
	user   store.User
	node   store.Node
	cache  *jobsTestCache
}

func jobsTestSetup(t *testing.T) *jobsTestEnv {
	t.Helper()
	env := &jobsTestEnv{sim: startSim(t), cache: &jobsTestCache{}}
	env.srv = newTestServer(t, func(d *handlers.Deps) {
		db := d.Nodes.(*store.DB)
		env.runner, _ = jobsTestRunner(t, db, env.cache)
		d.Provisioner = env.runner
		d.VMIDs = env.cache
	})
	env.user = env.srv.withUser(t, "alice", "alice-password-1")
	env.node = env.srv.addSimNode(t, env.sim, env.user.ID, "pve1", "pve1")
	return env
}

// jobsTestPlan is a minimal plan on node n.
func jobsTestPlan(u store.User, n store.Node, vmid int, host string) store.Plan {
	return store.Plan{
		UserID: u.ID, NodeID: n.ID, PVENode: n.PVENodeName, VMID: vmid, Hostname: host,
		Create: store.CreateSpec{
			OSTemplate: "local:vztmpl/" + pvesim.DefaultTemplates[0], Storage: "local-lvm", DiskGB: 4,
			Cores: 1, MemoryMB: 512, SwapMB: 512, Bridge: "vmbr0", IPv4: "dhcp", Features: store.Features{Unprivileged: true, Nesting: true},
		},
	}
}

// jobsTestWait polls the job until cond holds, failing after a generous
// deadline (a hang guard, not a timing assertion).
func jobsTestWait(t *testing.T, r *provision.Runner, userID, jobID string, what string, cond func(store.Job) bool) store.Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		j, err := r.Job(context.Background(), userID, jobID)
		if err != nil {
			t.Fatal(err)
		}
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job never got %s; it is %s at %s, error %+v", what, j.State, j.Step, j.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jobsTestFinished(j store.Job) bool { return !j.State.Active() }

// jobsTestWrite writes a file inside a simulated container's root.
func jobsTestWrite(t *testing.T, sim *pvesim.Sim, pve string, vmid int, path, content string) {
	t.Helper()
	full := filepath.Join(sim.Node(pve).ContainerDir(vmid), path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// jobsTestRead reads a file inside a simulated container's root.
func jobsTestRead(t *testing.T, sim *pvesim.Sim, pve string, vmid int, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sim.Node(pve).ContainerDir(vmid), path))
	if err != nil {
		t.Fatalf("in CT %d: %v", vmid, err)
	}
	return string(b)
}

// jobsTestWaitEnd waits until the job has finished and its log holds the
// entry announcing that (logged just after the state is saved).
func jobsTestWaitEnd(t *testing.T, r *provision.Runner, userID, jobID string) store.Job {
	t.Helper()
	return jobsTestWait(t, r, userID, jobID, "finished", func(j store.Job) bool {
		if j.State.Active() {
			return false
		}
		log, err := r.Log(context.Background(), userID, jobID, 0)
		return err == nil && len(log) > 0 && log[len(log)-1].Terminal()
	})
}
