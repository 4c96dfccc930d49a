package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim"
	"corral/store"
)

// TestNodes_Add walks the two-phase add: the keys are fetched and shown
// without any secret, nothing is stored until the user trusts them and the
// authenticated checks pass, and what is stored is pinned to exactly what
// the simulator presents.
func TestNodes_Add(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")

	res := c.get("/settings/nodes")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="nodes-empty"]`).Length() != 1 || res.Doc.Find(`[data-testid="node-form"]`).Length() != 1 {
		t.Fatalf("empty list page lacks the intro or the form:\n%s", res.Body)
	}
	if res.Doc.Find(`[data-testid="two-credentials"]`).Length() != 1 {
		t.Fatal("the form does not explain the two credentials")
	}

	pve1 := e.sim.Node("pve1")
	res = c.post("/settings/nodes", e.nodesForm(t, "pve1", "first"))
	expectStatus(t, res, http.StatusOK)
	if got := nodesText(res, "tls-fingerprint"); got != pve1.Fingerprint() {
		t.Fatalf("shown TLS fingerprint %q, want %q", got, pve1.Fingerprint())
	}
	if got, want := nodesText(res, "ssh-fingerprint"), ssh.FingerprintSHA256(pve1.SSHHostKey()); got != want {
		t.Fatalf("shown SSH fingerprint %q, want %q", got, want)
	}
	if nodesText(res, "tls-subject") == "" || nodesText(res, "tls-validity") == "" || nodesText(res, "scan-only") == "" {
		t.Fatal("subject, validity or the two-phase note missing on the confirm page")
	}
	if n := len(nodesOf(t, e.testServer, u.ID)); n != 0 {
		t.Fatalf("%d nodes stored before confirmation", n)
	}
	// The confirm form carries the pending id and the CSRF token, nothing else.
	var names []string
	res.Doc.Find(`[data-testid="confirm-form"] input`).Each(func(_ int, s *goquerySelection) {
		n, _ := s.Attr("name")
		names = append(names, n)
	})
	if strings.Join(names, ",") != "_csrf,pending" {
		t.Fatalf("confirm form fields %v", names)
	}
	pending := pendingID(t, res)
	expectStatus(t, c.post("/settings/nodes/confirm", url.Values{"pending": {pending}}), http.StatusSeeOther)

	nodes := nodesOf(t, e.testServer, u.ID)
	if len(nodes) != 1 {
		t.Fatalf("stored %d nodes", len(nodes))
	}
	n := nodes[0]
	if n.TLSFingerprint != pve1.Fingerprint() || n.SSHHostKey != authorizedKey(pve1.SSHHostKey()) {
		t.Fatalf("pinned %q / %q", n.TLSFingerprint, n.SSHHostKey)
	}
	if !n.IsDefault || n.ClusterName != "homelab" || n.ClusterKey == "" || n.PVENodeName != "pve1" || n.PVEVersion == "" {
		t.Fatalf("stored node %+v", n)
	}
	if n.TokenSecret != nodesTokenSecret || n.SSHPassword != nodesRootPassword || n.TokenID != nodesTokenID {
		t.Fatal("secrets not stored as typed")
	}
	if got := nodesAudit(t, e.testServer, "node.add"); len(got) != 1 || got[0].Target != "first" || got[0].UserID != u.ID {
		t.Fatalf("audit %+v", got)
	}

	// What the authenticated checks found is reported with the result.
	res = c.get("/settings/nodes")
	flash := nodesText(res, "flash")
	for _, want := range []string{"first added", "Proxmox VE " + n.PVEVersion, "cluster homelab", "default"} {
		if !strings.Contains(flash, want) {
			t.Errorf("flash %q lacks %q", flash, want)
		}
	}
	row := res.Doc.Find(`[data-testid="node-row"]`)
	if row.Length() != 1 || row.Find(`[data-testid="node-default"]`).Length() != 1 {
		t.Fatalf("list does not show the default node:\n%s", res.Body)
	}
	if got := strings.TrimSpace(row.Find(`[data-testid="node-status"]`).AttrOr("hx-get", "")); got != "/settings/nodes/"+n.ID+"/status" {
		t.Fatalf("status cell loads from %q", got)
	}

	// The same pending id works once.
	expectStatus(t, c.post("/settings/nodes/confirm", url.Values{"pending": {pending}}), http.StatusSeeOther)
	if len(nodesOf(t, e.testServer, u.ID)) != 1 {
		t.Fatal("a replayed confirmation stored the node twice")
	}

	// A second node of the same cluster is recognised as such.
	res = c.nodesTry("/settings/nodes", e.nodesForm(t, "pve2", "second"))
	expectStatus(t, res, http.StatusSeeOther)
	if got := nodesText(c.get("/settings/nodes"), "flash"); !strings.Contains(got, "homelab") || !strings.Contains(got, "with your node first") {
		t.Fatalf("cluster note %q", got)
	}
	nodes = nodesOf(t, e.testServer, u.ID)
	if len(nodes) != 2 || nodes[1].ClusterKey != nodes[0].ClusterKey || nodes[1].IsDefault {
		t.Fatalf("second node %+v", nodes[1])
	}
	res = c.get("/settings/nodes")
	if got := nodesText(res, "node-cluster"); got != "homelab (2 of your nodes)" {
		t.Fatalf("cluster column %q", got)
	}

	// Live status of a healthy node.
	res = c.get("/settings/nodes/"+n.ID+"/status", "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if got := nodesText(res, "node-status-label"); got != "reachable" {
		t.Fatalf("status %q:\n%s", got, res.Body)
	}
}

// TestNodes_TestAgain: "Test again" answers htmx with a fresh, time-stamped
// status cell, and a plain form post with the result as a flash.
func TestNodes_TestAgain(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	n := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "one"))

	list := c.get("/settings/nodes")
	form := list.Doc.Find(`[data-node-id="` + n.ID + `"] form.node-test`)
	if form.AttrOr("action", "") != "/settings/nodes/"+n.ID+"/test" || form.AttrOr("method", "") != "post" ||
		form.Find(`input[name="_csrf"]`).Length() != 1 || form.Find(`[data-testid="node-testing"].htmx-indicator`).Length() != 1 {
		t.Fatalf("Test again is not a form that works without JavaScript, with an indicator:\n%s", list.Body)
	}

	res := c.post("/settings/nodes/"+n.ID+"/test", nil, "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if got := nodesText(res, "node-status-label"); got != "reachable" {
		t.Fatalf("test again: %q", got)
	}
	if got, want := nodesText(res, "node-status-tested"), "tested at "+e.clock.Now().Format("15:04:05"); got != want {
		t.Fatalf("tested stamp %q, want %q", got, want)
	}

	res = c.post("/settings/nodes/"+n.ID+"/test", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if got := nodesText(c.get("/settings/nodes"), "flash"); !strings.HasPrefix(got, "one: reachable.") {
		t.Fatalf("flash %q", got)
	}
	if err := e.sim.Node("pve1").SetDown(true); err != nil {
		t.Fatal(err)
	}
	c.post("/settings/nodes/"+n.ID+"/test", nil)
	if got := nodesText(c.get("/settings/nodes"), "flash"); !strings.HasPrefix(got, "one: unreachable.") {
		t.Fatalf("flash %q", got)
	}
	// Without the CSRF token nothing is tested.
	expectStatus(t, c.post("/settings/nodes/"+n.ID+"/test", url.Values{"_csrf": {"forged"}}), http.StatusForbidden)
}

// TestNodes_PrivilegesExplained: the form says which privileges the token
// needs and how to create one, with the commands of the reference.
func TestNodes_PrivilegesExplained(t *testing.T) {
	e := nodesSetup(t)
	c, _ := e.nodesLogin(t, "alice")
	res := c.get("/settings/nodes")
	list := nodesText(res, "token-privilege-list")
	for _, want := range []string{"Sys.Audit on /", "VM.Allocate", "VM.PowerMgmt", "on /vms", "Datastore.AllocateSpace", "on /storage", "SDN.Use on /sdn/zones/localnetwork"} {
		if !strings.Contains(list, want) {
			t.Errorf("privilege list lacks %q:\n%s", want, list)
		}
	}
	cmds := strings.Split(nodesText(res, "token-setup-commands"), "\n")
	want := []string{
		`pveum role add Corral --privs "Sys.Audit VM.Audit VM.PowerMgmt VM.Allocate VM.Config.CPU VM.Config.Memory VM.Config.Network VM.Config.Disk VM.Config.Options VM.Snapshot VM.Backup Datastore.Audit Datastore.AllocateSpace SDN.Use Datastore.AllocateTemplate"`,
		"pveum user add corral@pve",
		"pveum acl modify / --users corral@pve --roles Corral",
		"pveum user token add corral@pve corral --privsep 1",
		"pveum acl modify / --tokens 'corral@pve!corral' --roles Corral",
	}
	if len(cmds) != len(want) {
		t.Fatalf("commands %q", cmds)
	}
	for i := range want {
		if strings.TrimSpace(cmds[i]) != want[i] {
			t.Errorf("command %d = %q, want %q", i, cmds[i], want[i])
		}
	}
	// The simulator's own list of what Corral needs is what the role grants.
	for _, p := range pvesim.CorralPrivileges {
		if !strings.Contains(want[0], p) {
			t.Errorf("the role lacks %s", p)
		}
	}
}

// TestNodes_PendingExpires: a confirmation older than ten minutes stores
// nothing and sends nothing.
func TestNodes_PendingExpires(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	res := c.post("/settings/nodes", e.nodesForm(t, "pve-solo", "solo"))
	expectStatus(t, res, http.StatusOK)
	pending := pendingID(t, res)
	e.clock.Add(11 * 60e9)
	res = c.post("/settings/nodes/confirm", url.Values{"pending": {pending}})
	expectStatus(t, res, http.StatusSeeOther)
	if len(nodesOf(t, e.testServer, u.ID)) != 0 {
		t.Fatal("an expired confirmation stored the node")
	}
	if got := nodesText(c.get("/settings/nodes"), "flash"); !strings.Contains(got, "expired") {
		t.Fatalf("flash %q", got)
	}
	// A standalone node says so once added.
	expectStatus(t, c.nodesTry("/settings/nodes", e.nodesForm(t, "pve-solo", "solo")), http.StatusSeeOther)
	if got := nodesText(c.get("/settings/nodes"), "flash"); strings.Contains(got, "cluster") || !strings.Contains(got, "solo added") {
		t.Fatalf("flash %q", got)
	}
}

func TestNodes_FormValidation(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	form := e.nodesForm(t, "pve1", "")
	form.Set("host", "https://pve1:8006")
	form.Set("token_id", "root@pam")
	form.Del("token_secret")
	form.Del("ssh_password")
	res := c.post("/settings/nodes", form)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	for _, f := range []string{"name", "host", "token_id", "token_secret", "ssh_password"} {
		if res.Doc.Find(`[data-testid="error-`+f+`"]`).Length() != 1 {
			t.Errorf("no error for %s", f)
		}
	}
	if v, _ := res.Doc.Find(`#token_id`).Attr("value"); v != "root@pam" {
		t.Errorf("typed token id not kept: %q", v)
	}
	form = e.nodesForm(t, "pve1", "x")
	form.Set("ssh_key", "not a key")
	form.Del("ssh_password")
	res = c.post("/settings/nodes", form)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if res.Doc.Find(`[data-testid="error-ssh_key"]`).Length() != 1 {
		t.Error("an unreadable key is not refused")
	}
	if len(nodesOf(t, e.testServer, u.ID)) != 0 {
		t.Fatal("stored a node from an invalid form")
	}
	// htmx gets 200 so it swaps the form in.
	form = e.nodesForm(t, "pve1", "")
	expectStatus(t, c.post("/settings/nodes", form, "HX-Request", "true"), http.StatusOK)
}

func TestNodes_DefaultAndDelete(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	a := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "a"))
	b := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve-solo", "b"))
	if !a.IsDefault || b.IsDefault {
		t.Fatal("first node is not the default")
	}

	expectStatus(t, c.post("/settings/nodes/"+b.ID+"/default", nil), http.StatusSeeOther)
	nodes := nodesOf(t, e.testServer, u.ID)
	if nodes[0].IsDefault || !nodes[1].IsDefault {
		t.Fatal("make default did not move the default")
	}
	if len(nodesAudit(t, e.testServer, "node.default")) != 1 {
		t.Fatal("no audit entry for make default")
	}

	// A node with Corral containers on it is not deleted.
	ct, err := e.DB.CreateContainer(t.Context(), store.Container{UserID: u.ID, NodeID: b.ID, VMID: 150, Hostname: "web"})
	if err != nil {
		t.Fatal(err)
	}
	res := c.get("/settings/nodes")
	if got := strings.TrimSpace(res.Doc.Find(`[data-node-id="` + b.ID + `"] [data-testid="node-containers"]`).Text()); got != "1 made by Corral" {
		t.Fatalf("container count %q", got)
	}
	if _, ok := res.Doc.Find(`[data-node-id="` + b.ID + `"] form[action$="/delete"]`).Attr("data-confirm"); !ok {
		t.Fatal("delete asks no confirmation")
	}
	res = c.post("/settings/nodes/"+b.ID+"/delete", nil)
	expectStatus(t, res, http.StatusConflict)
	if got := nodesText(res, "nodes-problem"); !strings.Contains(got, "1 container created by Corral") {
		t.Fatalf("refusal message %q", got)
	}
	if len(nodesOf(t, e.testServer, u.ID)) != 2 {
		t.Fatal("a node holding containers was deleted")
	}
	if err := e.DB.DeleteContainer(t.Context(), u.ID, ct.ID); err != nil {
		t.Fatal(err)
	}

	// Deleting the default promotes the oldest remaining node.
	expectStatus(t, c.post("/settings/nodes/"+b.ID+"/delete", nil), http.StatusSeeOther)
	nodes = nodesOf(t, e.testServer, u.ID)
	if len(nodes) != 1 || nodes[0].ID != a.ID || !nodes[0].IsDefault {
		t.Fatalf("after deleting the default: %+v", nodes)
	}
	if got := nodesAudit(t, e.testServer, "node.delete"); len(got) != 1 || got[0].Target != "b" {
		t.Fatalf("delete audit %+v", got)
	}
}

func TestNodes_Edit(t *testing.T) {
	e := nodesSetup(t)
	c, u := e.nodesLogin(t, "alice")
	n := e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve1", "one"))

	res := c.get("/settings/nodes/" + n.ID)
	expectStatus(t, res, http.StatusOK)
	for field, want := range map[string]string{"name": "one", "host": n.Host, "token_id": nodesTokenID, "ssh_user": "root"} {
		if got, _ := res.Doc.Find(`#` + field).Attr("value"); got != want {
			t.Errorf("edit form %s = %q, want %q", field, got, want)
		}
	}
	res.Doc.Find(`input[type="password"]`).Each(func(_ int, s *goquerySelection) {
		if v, _ := s.Attr("value"); v != "" {
			t.Errorf("secret field %s rendered with a value", s.AttrOr("name", ""))
		}
	})

	// Renaming with empty secrets keeps them and needs no test.
	form := e.nodesForm(t, "pve1", "renamed")
	form.Del("token_secret")
	form.Del("ssh_password")
	expectStatus(t, c.post("/settings/nodes/"+n.ID, form), http.StatusSeeOther)
	got := nodesOf(t, e.testServer, u.ID)[0]
	if got.Name != "renamed" || got.TokenSecret != nodesTokenSecret || got.SSHPassword != nodesRootPassword || got.TLSFingerprint != n.TLSFingerprint {
		t.Fatalf("after rename: %+v", got)
	}
	if len(nodesAudit(t, e.testServer, "node.update")) != 1 {
		t.Fatal("no audit entry for the edit")
	}

	// A new secret is tested: a wrong one is refused and changes nothing.
	form.Set("token_secret", nodesOtherSecret)
	res = c.post("/settings/nodes/"+n.ID, form)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if got := nodesText(res, "problem-title"); got != "API token rejected" {
		t.Fatalf("problem %q", got)
	}
	if nodesOf(t, e.testServer, u.ID)[0].TokenSecret != nodesTokenSecret {
		t.Fatal("a rejected secret was stored")
	}

	// A new, working token is tested and saved directly: the keys are the pinned ones.
	e.sim.AddToken(pvesimToken("corral@pve", "second", nodesOtherSecret, true))
	form.Set("token_id", "corral@pve!second")
	expectStatus(t, c.post("/settings/nodes/"+n.ID, form), http.StatusSeeOther)
	got = nodesOf(t, e.testServer, u.ID)[0]
	if got.TokenID != "corral@pve!second" || got.TokenSecret != nodesOtherSecret || got.SSHPassword != nodesRootPassword {
		t.Fatalf("after new token: %+v", got.TokenID)
	}

	// Name taken by another of the user's nodes.
	e.nodesAdd(t, c, u.ID, e.nodesForm(t, "pve2", "two"))
	form = e.nodesForm(t, "pve1", "TWO")
	form.Del("token_secret")
	form.Del("ssh_password")
	form.Set("token_id", "corral@pve!second")
	res = c.post("/settings/nodes/"+n.ID, form)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if res.Doc.Find(`[data-testid="error-name"]`).Length() != 1 {
		t.Fatal("duplicate name accepted")
	}
}
