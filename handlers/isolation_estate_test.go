package handlers_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/ssh"

	"corral/exec/access"
	"corral/exec/gateway"
	"corral/exec/inspect"
	"corral/exec/nodeprobe"
	"corral/exec/provision"
	"corral/handlers"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
	"corral/store/tmplfs"
)

// The isolation estate: account A ("alice") owns one of everything Corral
// keeps, on a simulated Proxmox of her own; account B ("bob") has one node
// on another simulated Proxmox and nothing of A's. The isolation tests sign
// in as B and aim at A's ids.

// isoCT is one of A's containers as the routes address it.
type isoCT struct {
	NodeID string
	PVE    string // the node inside Proxmox
	VMID   int
	Name   string
}

// A's distinctive values. Every name starts with "alpha-" so a leak cannot
// hide behind an ordinary word; B's start with "bravo-".
const (
	isoAlicePass    = "alice-password-1"
	isoBobPass      = "bob-password-1"
	isoARootPass    = "alpha-root-pw-Q7x2"
	isoBRootPass    = "bravo-root-pw-K3m9"
	isoAHeldSecret  = "alpha-typed-secret-0b5e7c1d"
	isoAService     = "nginx"
	isoScriptMarker = "alpha-script-marker-5f1c"
	isoMarkerFile   = "/root/isolation-marker"
)

// A's VMIDs are unusual numbers, so they cannot collide with other
// numbers in a page; B's container is 9001.
const (
	isoVMIDPihole = 3141 // pre-existing, running, cluster node 1
	isoVMIDVault  = 3142 // pre-existing, stopped, cluster node 2
	isoVMIDSolo   = 3143 // pre-existing, running, standalone node
	isoVMIDFar    = 3144 // pre-existing, running, on cluster node 3, which A did not register
	isoVMIDWeb    = 4711 // created by Corral, job finished
	isoVMIDBroken = 4712 // created by Corral, job failed
	isoVMIDBob    = 9001
)

type isoEstate struct {
	srv     *testServer
	h       *handlers.Handler
	prober  handlers.NodeProber
	pending *handlers.PendingNodes
	runner  *provision.Runner
	// limiter is shared by the web sign-in and the gateway, as in serve.
	limiter *access.LoginLimiter
	trip    *isoTripwire
	simA    *pvesim.Sim
	simB    *pvesim.Sim

	alice, bob store.User
	aliceWeb   *client // A, signed in, to check her pages still work
	aNodes     []store.Node
	aCTs       []isoCT
	aJobs      []store.Job // finished, failed
	aTemplate  store.Template
	aShared    store.Template
	aBucket    store.PackageBucket
	aKey       store.SSHKey
	aKeySigner ssh.Signer
	aPending   string // a probe awaiting A's confirmation
	aHeld      string // a failed try held with the secret A typed
	aUPID      string
	aBackup    string // the volume id of a backup of A's web container

	bNode      store.Node
	bKeySigner ssh.Signer
}

// newIsoEstate builds the estate; serve.go's wiring, with tripwires around
// every door to Proxmox and SSH that notice a call for one of A's nodes.
func newIsoEstate(t *testing.T) *isoEstate {
	t.Helper()
	ctx := context.Background()
	est := &isoEstate{trip: &isoTripwire{}}
	est.simA = isoSim(t, pvesim.Options{
		Clusters:     []pvesim.ClusterSpec{{Name: "alpha-lab", Nodes: []string{"alpha-pve1", "alpha-pve2", "alpha-pve3"}}},
		Standalone:   []string{"alpha-solo"},
		RootPassword: isoARootPass,
		Guests: []pvesim.GuestSpec{
			{Node: "alpha-pve1", VMID: isoVMIDPihole, Name: "alpha-pihole", Running: true},
			{Node: "alpha-pve2", VMID: isoVMIDVault, Name: "alpha-vault"},
			{Node: "alpha-solo", VMID: isoVMIDSolo, Name: "alpha-solo-ct", Running: true},
			{Node: "alpha-pve3", VMID: isoVMIDFar, Name: "alpha-far", Running: true},
		},
	})
	est.simB = isoSim(t, pvesim.Options{
		Standalone:   []string{"bravo-pve"},
		RootPassword: isoBRootPass,
		Guests:       []pvesim.GuestSpec{{Node: "bravo-pve", VMID: isoVMIDBob, Name: "bravo-box", Running: true}},
	})

	db, err := store.Open(filepath.Join(t.TempDir(), "corral.db"), store.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.DiscardHandler)
	clk := simtest.NewClock(time.Now())
	trip := est.trip
	pve := trip.factory(clusters.NewClients(log))
	vmids := clusters.NewVMIDs(proxmox.NewMemVMIDStore(nil), clusters.NewReader(pve), db, log)
	t.Cleanup(vmids.Close)
	cache := &isoTripVMIDs{VMIDCache: vmids, trip: trip}
	est.runner, _ = jobsTestRunner(t, db, cache, func(c *provision.Config) { c.Proxmox = pve })
	est.prober = nodeprobe.New(log)
	est.pending = handlers.NewPendingNodes()
	est.limiter = access.NewLoginLimiter(50, time.Minute, clk.Now)
	est.h = handlers.New(handlers.Deps{
		Accounts: db, Sessions: db.Sessions("corral_session", time.Hour), Audit: db,
		Limiter: est.limiter,
		// A templates directory, as with --templates, so import-dir is live.
		Templates:   tmplfs.Library{DB: db, Dir: filepath.Join("..", "store", "tmplfs", "testdata", "templates")},
		Proxmox:     pve,
		Nodes:       db,
		Prober:      &isoTripProber{NodeProber: est.prober, trip: trip},
		Pending:     est.pending,
		Containers:  db,
		VMIDs:       cache,
		Provisioner: est.runner,
		SSHKeys:     db,
		Events:      db,
		Services:    &isoTripInspector{ServiceInspector: handlers.NewSSHInspector(), trip: trip},
		Console:     gateway.NewShells(gateway.ShellsConfig{}, access.GatewayAuditor{Log: db}),
		Logger:      log,
		Version:     "test",
		Now:         clk.Now,
	})
	e := echo.New()
	est.h.Register(e)
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	est.srv = &testServer{Server: hs, DB: db, clock: clk}

	est.alice = est.srv.withUser(t, "alice", isoAlicePass)
	est.bob = est.srv.withUser(t, "bob", isoBobPass)
	trip.alice = est.alice.ID

	for _, n := range []struct{ pve, name string }{
		{"alpha-pve1", "alpha-node-one"}, {"alpha-pve2", "alpha-node-two"}, {"alpha-solo", "alpha-node-solo"},
	} {
		est.aNodes = append(est.aNodes, est.srv.addSimNode(t, est.simA, est.alice.ID, n.pve, n.name))
	}
	est.bNode = est.srv.addSimNode(t, est.simB, est.bob.ID, "bravo-pve", "bravo-node")
	trip.aliceHosts = map[string]bool{}
	for _, n := range est.aNodes {
		trip.aliceHosts[net.JoinHostPort(n.Host, strconv.Itoa(n.SSHPort))] = true
	}

	est.aTemplate = isoCreateTemplate(t, db, est.alice.ID, "alpha-private-tmpl")
	est.aShared = isoCreateTemplate(t, db, est.alice.ID, "alpha-shared-tmpl")
	if est.aShared, err = db.ShareTemplate(ctx, est.alice.ID, est.aShared.ID, true); err != nil {
		t.Fatal(err)
	}
	if est.aBucket, err = db.CreatePackageBucket(ctx, est.alice.ID, "alpha-bucket", "alpha-bucket-description"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportBucketPackages(ctx, est.alice.ID, est.aBucket.ID, store.ManagerApt, "alpha-apt-package"); err != nil {
		t.Fatal(err)
	}
	est.aKeySigner, est.bKeySigner = throttleKey(t), throttleKey(t)
	if est.aKey, err = db.AddSSHKey(ctx, est.alice.ID, "alpha-laptop-key", string(ssh.MarshalAuthorizedKey(est.aKeySigner.PublicKey()))); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddSSHKey(ctx, est.bob.ID, "bravo-laptop-key", string(ssh.MarshalAuthorizedKey(est.bKeySigner.PublicKey()))); err != nil {
		t.Fatal(err)
	}

	est.createAliceContainers(t)
	est.createAliceDayTwo(t)
	est.holdAliceProbes(t)
	return est
}

// isoSim starts a simulator with the Corral token and instant tasks.
func isoSim(t *testing.T, opts pvesim.Options) *pvesim.Sim {
	t.Helper()
	opts.TaskDuration = -1
	opts.Seed = 1
	opts.Tokens = pvesim.DemoOptions().Tokens
	return simtest.Start(t, opts)
}

func isoCreateTemplate(t *testing.T, db *store.DB, userID, name string) store.Template {
	t.Helper()
	tmpl := wizardTemplate(name, "debian-12-standard")
	tmpl.Scripts = append(tmpl.Scripts, store.Script{Name: "40-" + name + ".sh", Content: "echo " + isoScriptMarker + "-" + name + "\n", Enabled: true})
	out, err := db.CreateTemplate(context.Background(), userID, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// createAliceContainers runs two creation jobs through the real runner: one
// that finishes and one whose script fails, both from A's private template.
func (est *isoEstate) createAliceContainers(t *testing.T) {
	t.Helper()
	n := est.aNodes[0]
	for _, c := range []struct {
		vmid   int
		host   string
		script string
	}{{isoVMIDWeb, "alpha-web", "echo ready\n"}, {isoVMIDBroken, "alpha-broken", "echo failing; exit 3\n"}} {
		p := jobsTestPlan(est.alice, n, c.vmid, c.host)
		p.TemplateID, p.TemplateName = est.aTemplate.ID, est.aTemplate.Name
		p.Scripts = []store.Script{{Name: "10-run.sh", Content: c.script}}
		id, err := est.runner.Start(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		est.aJobs = append(est.aJobs, jobsTestWaitEnd(t, est.runner, est.alice.ID, id))
	}
	if est.aJobs[0].State != store.JobDone || est.aJobs[1].State != store.JobFailed {
		t.Fatalf("A's jobs ended %s and %s, want done and failed", est.aJobs[0].State, est.aJobs[1].State)
	}
	est.aUPID = est.aJobs[0].CreateUPID
	est.aCTs = []isoCT{
		{n.ID, "alpha-pve1", isoVMIDWeb, "alpha-web"},
		{n.ID, "alpha-pve1", isoVMIDBroken, "alpha-broken"},
		{n.ID, "alpha-pve1", isoVMIDPihole, "alpha-pihole"},
		{est.aNodes[1].ID, "alpha-pve2", isoVMIDVault, "alpha-vault"},
		{est.aNodes[2].ID, "alpha-solo", isoVMIDSolo, "alpha-solo-ct"},
		// On a member A did not register, reached through her first node
		// (issue 20).
		{handlers.MemberRef(n.ID, "alpha-pve3"), "alpha-pve3", isoVMIDFar, "alpha-far"},
	}
}

// holdAliceProbes leaves two pending node tests for A, through her
// pages: a scan of alpha-pve3 awaiting her confirmation, and a failed try
// (a wrong token secret) held with what she typed for the retry.
func (est *isoEstate) holdAliceProbes(t *testing.T) {
	t.Helper()
	est.aliceWeb = est.srv.client(t)
	est.aliceWeb.login("alice", isoAlicePass)
	n := est.simA.Node("alpha-pve3")
	form := func(name, secret string) url.Values {
		return url.Values{
			"name": {name}, "host": {n.Host()}, "port": {strconv.Itoa(n.Port())},
			"token_id": {pvesim.DemoTokenID}, "token_secret": {secret},
			"ssh_user": {"root"}, "ssh_port": {strconv.Itoa(sshPort(t, n.SSHAddr()))}, "ssh_password": {isoARootPass},
		}
	}
	res := est.aliceWeb.post("/settings/nodes", form("alpha-pending-node", pvesim.DemoTokenSecret))
	est.aPending = pendingID(t, res)
	res = est.aliceWeb.post("/settings/nodes", form("alpha-held-node", isoAHeldSecret))
	res = est.aliceWeb.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}})
	est.aHeld = pendingID(t, res)
	if !strings.Contains(res.Body, "alpha-held-node") {
		t.Fatalf("the failed try did not come back as a retry form:\n%s", res.Body)
	}
}

// sentinels are strings of A's that no page of B's may contain: names of
// her nodes, clusters, containers, private template, bucket and key, her
// secrets and pinned keys. Her shared template is meant to be seen.
func (est *isoEstate) sentinels() []string {
	s := []string{"alpha-node-", "alpha-pve", "alpha-lab", "alpha-solo", "alpha-pihole", "alpha-vault", "alpha-far",
		"alpha-web", "alpha-broken", "alpha-private-tmpl", isoScriptMarker + "-alpha-private", "alpha-bucket",
		"alpha-apt-package", "alpha-laptop-key", est.aKey.Fingerprint, "alpha-pending-node", "alpha-held-node",
		isoARootPass, isoAHeldSecret, est.aUPID, isoASnapshot, est.aBackup,
		// A's token secret; B's node has the same one, and no page may show either.
		pvesim.DemoTokenSecret}
	for _, n := range est.aNodes {
		s = append(s, n.TLSFingerprint, strings.Fields(n.SSHHostKey)[1])
	}
	return s
}

// isoTripwire records every call that would reach one of A's nodes while
// it is armed (while B makes requests).
type isoTripwire struct {
	alice      string
	aliceHosts map[string]bool // host:ssh-port of A's nodes
	mu         sync.Mutex
	armed      bool
	hits       []string
}

func (w *isoTripwire) arm(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = on
}

// take returns and forgets what was recorded.
func (w *isoTripwire) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.hits
	w.hits = nil
	return h
}

func (w *isoTripwire) note(n store.Node, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed && (n.UserID == w.alice || w.aliceHosts[net.JoinHostPort(n.Host, strconv.Itoa(n.SSHPort))]) {
		w.hits = append(w.hits, fmt.Sprintf("%s for A's node %s", what, n.Name))
	}
}

func (w *isoTripwire) factory(f clusters.Clients) clusters.Clients {
	return func(n store.Node) (*proxmox.Client, error) {
		w.note(n, "Proxmox API client")
		return f(n)
	}
}

type isoTripVMIDs struct {
	handlers.VMIDCache
	trip *isoTripwire
}

func (c *isoTripVMIDs) Check(ctx context.Context, n store.Node, vmid int) (clusters.VMIDCheck, error) {
	c.trip.note(n, "VMID check")
	return c.VMIDCache.Check(ctx, n, vmid)
}
func (c *isoTripVMIDs) RefreshIfStale(ctx context.Context, n store.Node) {
	c.trip.note(n, "VMID refresh")
	c.VMIDCache.RefreshIfStale(ctx, n)
}
func (c *isoTripVMIDs) NoteCreated(ctx context.Context, n store.Node, vmid int, name string) {
	c.trip.note(n, "VMID noted created")
	c.VMIDCache.NoteCreated(ctx, n, vmid, name)
}
func (c *isoTripVMIDs) NoteDeleted(ctx context.Context, n store.Node, vmid int) {
	c.trip.note(n, "VMID noted deleted")
	c.VMIDCache.NoteDeleted(ctx, n, vmid)
}

type isoTripProber struct {
	handlers.NodeProber
	trip *isoTripwire
}

func (p *isoTripProber) Scan(ctx context.Context, n store.Node) (nodeprobe.Scan, error) {
	p.trip.note(n, "scan")
	return p.NodeProber.Scan(ctx, n)
}
func (p *isoTripProber) Probe(ctx context.Context, n store.Node) (nodeprobe.Result, error) {
	p.trip.note(n, "probe")
	return p.NodeProber.Probe(ctx, n)
}
func (p *isoTripProber) Check(ctx context.Context, n store.Node) nodeprobe.Health {
	p.trip.note(n, "health check")
	return p.NodeProber.Check(ctx, n)
}
func (p *isoTripProber) Rekeyed(ctx context.Context, saved store.Node, nodes []store.Node) []store.Node {
	p.trip.note(saved, "cluster key re-check")
	for _, n := range nodes {
		p.trip.note(n, "cluster key re-check")
	}
	return p.NodeProber.Rekeyed(ctx, saved, nodes)
}

type isoTripInspector struct {
	handlers.ServiceInspector
	trip *isoTripwire
}

func (s *isoTripInspector) Discover(ctx context.Context, n store.Node, vmid int) (inspect.Discovery, error) {
	s.trip.note(n, "service discovery")
	return s.ServiceInspector.Discover(ctx, n, vmid)
}
func (s *isoTripInspector) ServiceLogs(ctx context.Context, n store.Node, vmid int, service string, lines int) (inspect.Logs, error) {
	s.trip.note(n, "service logs")
	return s.ServiceInspector.ServiceLogs(ctx, n, vmid, service, lines)
}
func (s *isoTripInspector) Credentials(ctx context.Context, n store.Node, vmid int, service string) (inspect.CredentialFile, error) {
	s.trip.note(n, "credentials")
	return s.ServiceInspector.Credentials(ctx, n, vmid, service)
}

// isoSnapshot is everything of A's that B must not change: her records in
// the store, the probes held for her, and her guests as Proxmox and their
// file systems show them.
type isoSnapshot map[string]string

func (est *isoEstate) snapshot(t *testing.T) isoSnapshot {
	t.Helper()
	ctx := context.Background()
	db, a := est.srv.DB, est.alice.ID
	snap := isoSnapshot{}
	put := func(key string, v any, err error) {
		if err != nil {
			t.Fatalf("snapshot %s: %v", key, err)
		}
		b, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		snap[key] = string(b)
	}
	nodes, err := db.Nodes(ctx, a)
	put("store nodes", nodes, err)
	tmpls, err := db.Templates(ctx, a, store.TemplateFilter{})
	put("store templates", tmpls, err)
	buckets, err := db.PackageBuckets(ctx, a)
	put("store buckets", buckets, err)
	cts, err := db.Containers(ctx, a)
	put("store containers", cts, err)
	keys, err := db.SSHKeys(ctx, a)
	put("store ssh keys", keys, err)
	for _, j := range est.aJobs {
		sj, err := db.Job(ctx, a, j.ID)
		put("store job "+j.ID, sj, err)
		log, err := db.JobLog(ctx, a, j.ID, 0)
		put("store job log "+j.ID, log, err)
	}
	for _, ct := range est.aCTs {
		evs, err := db.ContainerEvents(ctx, a, ct.NodeID, ct.VMID, nil, 1000)
		put(fmt.Sprintf("store events of CT %d", ct.VMID), evs, err)
	}
	for _, n := range est.aNodes {
		api, err := proxmox.New(clusters.Config(n))
		if err != nil {
			t.Fatal(err)
		}
		res, err := api.ClusterResources(ctx)
		if err != nil {
			t.Fatalf("snapshot of %s: %v", n.Name, err)
		}
		var guests []string
		for _, r := range res {
			if r.Type != "lxc" && r.Type != "qemu" {
				continue
			}
			guests = append(guests, fmt.Sprintf("%d %s %s on %s lock=%q", r.VMID, r.Name, r.Status, r.Node, r.Lock))
			if r.Type == "lxc" {
				cfg, err := api.LXCConfig(ctx, r.Node, int(r.VMID))
				put(fmt.Sprintf("proxmox config of CT %d", r.VMID), cfg, err)
			}
		}
		slices.Sort(guests)
		put("proxmox guests seen from "+n.Name, guests, nil)
		api.Close()
	}
	for _, ct := range est.aCTs {
		put(fmt.Sprintf("files of CT %d", ct.VMID), isoTree(t, est.simA.Node(ct.PVE).ContainerDir(ct.VMID)), nil)
	}
	est.snapshotDayTwo(t, put)
	return snap
}

// sameAs fails for every part of A's data that differs from before.
func (s isoSnapshot) sameAs(t *testing.T, before isoSnapshot) {
	t.Helper()
	for k, v := range before {
		if s[k] != v {
			t.Errorf("A's %s changed while B worked.\nbefore:\n%s\nafter:\n%s", k, v, s[k])
		}
	}
	for k := range s {
		if _, ok := before[k]; !ok {
			t.Errorf("A has a new %s after B worked", k)
		}
	}
}

// isoTree lists a container's files with a digest of each, so any command
// that ran inside and left a trace shows.
func isoTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.IsDir():
			out = append(out, rel+"/")
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			to, err := os.Readlink(p)
			out = append(out, rel+" -> "+to)
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// alicePendingIntact checks that the probes held for A are still hers,
// with what she typed: B's tries with their ids took nothing.
func (est *isoEstate) alicePendingIntact(t *testing.T) {
	t.Helper()
	now := est.srv.clock.Now()
	if p, ok := est.pending.Take(now, est.alice.ID, est.aPending); !ok || p.Node.Name != "alpha-pending-node" || p.Scan.Empty() {
		t.Errorf("A's probe awaiting confirmation is gone or changed: %v %+v", ok, p.Node.Name)
	}
	if p, ok := est.pending.Take(now, est.alice.ID, est.aHeld); !ok || p.Node.Name != "alpha-held-node" || p.Typed.TokenSecret != isoAHeldSecret {
		t.Errorf("A's held try is gone or changed: %v %q", ok, p.Node.Name)
	}
}
