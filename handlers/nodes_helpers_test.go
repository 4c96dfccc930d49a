package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/ssh"

	"corral/exec/nodeprobe"
	"corral/handlers"
	"corral/proxmox/clusters"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

// Distinctive secrets, so a leak into a page, a log line or the database
// file cannot hide behind an ordinary word.
const (
	nodesRootPassword = "root-pw-Xq7vK2mZ"
	nodesTokenSecret  = "c0ffee00-aaaa-4bbb-8ccc-5ec2e75ec2e7"
	nodesTokenID      = "corral@pve!corral"
	nodesOtherSecret  = "d00dfeed-1111-4222-8333-5ec2e75ec2e7"
)

func nodesSecrets() []string {
	return []string{nodesRootPassword, nodesTokenSecret, nodesOtherSecret}
}

// nodesEnv is a test server with the real prober, a simulated estate whose
// secrets are distinctive, and the handler's debug log captured.
type nodesEnv struct {
	*testServer
	sim *pvesim.Sim
	log *simtest.Buffer
}

func nodesSetup(t *testing.T, opts ...testDeps) *nodesEnv {
	t.Helper()
	sim := simtest.Demo(t, func(opts *pvesim.Options) {
		opts.RootPassword = nodesRootPassword
		opts.Tokens = []pvesim.TokenSpec{{User: "corral@pve", ID: "corral", Secret: nodesTokenSecret, Privsep: true, Privileges: pvesim.CorralACL()}}
	})
	buf := &simtest.Buffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newTestServer(t, append([]testDeps{func(d *handlers.Deps) {
		d.Logger = log
		d.Prober = nodeprobe.New(log)
		d.Proxmox = clusters.NewClients(log)
	}}, opts...)...)
	env := &nodesEnv{testServer: s, sim: sim, log: buf}
	t.Cleanup(func() { env.checkNoLeaks(t) })
	return env
}

// checkNoLeaks fails when a secret reached the log or the bbolt file.
func (e *nodesEnv) checkNoLeaks(t *testing.T) {
	t.Helper()
	logs := e.log.String()
	for _, s := range nodesSecrets() {
		if strings.Contains(logs, s) {
			t.Errorf("secret %q appears in the log", s)
		}
	}
	// newTestServer keeps corral.db in one of this test's temp dirs.
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "corral.db"))
	if len(files) == 0 {
		t.Error("could not find the test's corral.db")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range nodesSecrets() {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("secret %q appears in plaintext in %s", s, f)
			}
		}
	}
}

// nodesForm is the add form for a simulated node, all secrets filled in.
func (e *nodesEnv) nodesForm(t *testing.T, pveName, name string) url.Values {
	t.Helper()
	n := e.sim.Node(pveName)
	return url.Values{
		"name": {name}, "host": {n.Host()}, "port": {strconv.Itoa(n.Port())},
		"token_id": {nodesTokenID}, "token_secret": {nodesTokenSecret},
		"ssh_user": {"root"}, "ssh_port": {strconv.Itoa(sshPort(t, n.SSHAddr()))}, "ssh_password": {nodesRootPassword},
	}
}

// nodesClient is a signed-in client whose every response is checked for
// secrets.
type nodesClient struct {
	*client
	t *testing.T
}

func (e *nodesEnv) nodesLogin(t *testing.T, name string) (*nodesClient, store.User) {
	t.Helper()
	u := e.withUser(t, name, "password "+name)
	c := e.client(t)
	c.login(name, "password "+name)
	return &nodesClient{client: c, t: t}, u
}

func (c *nodesClient) get(path string, headers ...string) *response {
	c.t.Helper()
	return c.check(c.client.get(path, headers...))
}

func (c *nodesClient) post(path string, form url.Values, headers ...string) *response {
	c.t.Helper()
	return c.check(c.client.post(path, form, headers...))
}

func (c *nodesClient) check(res *response) *response {
	c.t.Helper()
	for _, s := range nodesSecrets() {
		if strings.Contains(res.Body, s) {
			c.t.Fatalf("%s %s: secret %q in the response body", res.Request.Method, res.Request.URL.Path, s)
		}
		for k, vs := range res.Header {
			for _, v := range vs {
				if strings.Contains(v, s) {
					c.t.Fatalf("%s %s: secret in header %s", res.Request.Method, res.Request.URL.Path, k)
				}
			}
		}
	}
	return res
}

// nodesAdd adds a node through the two-phase flow and returns it as stored.
func (e *nodesEnv) nodesAdd(t *testing.T, c *nodesClient, userID string, form url.Values) store.Node {
	t.Helper()
	res := c.post("/settings/nodes", form)
	expectStatus(t, res, 200)
	expectStatus(t, c.post("/settings/nodes/confirm", url.Values{"pending": {pendingID(t, res)}}), 303)
	for _, n := range nodesOf(t, e.testServer, userID) {
		if n.Name == form.Get("name") {
			return n
		}
	}
	t.Fatalf("node %q not stored", form.Get("name"))
	return store.Node{}
}

// nodesTry submits the add form and, when the keys are shown for
// confirmation, trusts them: the final answer of the two phases.
func (c *nodesClient) nodesTry(path string, form url.Values) *response {
	c.t.Helper()
	res := c.post(path, form)
	if id, ok := res.Doc.Find(`[data-testid="confirm-form"] input[name="pending"]`).Attr("value"); ok {
		res = c.post("/settings/nodes/confirm", url.Values{"pending": {id}})
	}
	return res
}

// pendingID is the held test a confirm page or a retry form refers to.
func pendingID(t *testing.T, res *response) string {
	t.Helper()
	id, ok := res.Doc.Find(`input[name="pending"]`).Attr("value")
	if !ok || id == "" {
		t.Fatalf("%s %s: no pending test in the page:\n%s", res.Request.Method, res.Request.URL.Path, res.Body)
	}
	return id
}

func nodesOf(t *testing.T, s *testServer, userID string) []store.Node {
	t.Helper()
	nodes, err := s.DB.Nodes(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

func nodesAudit(t *testing.T, s *testServer, kind string) []store.AuditEntry {
	t.Helper()
	all, err := s.DB.AuditEntries(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func authorizedKey(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func nodesText(res *response, testid string) string {
	return strings.TrimSpace(res.Doc.Find(`[data-testid="` + testid + `"]`).First().Text())
}

type goquerySelection = goquery.Selection

func pvesimToken(user, id, secret string, privileged bool) pvesim.TokenSpec {
	spec := pvesim.TokenSpec{User: user, ID: id, Secret: secret, Privsep: true}
	if privileged {
		spec.Privileges = pvesim.CorralACL()
	}
	return spec
}
