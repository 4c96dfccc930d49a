package handlers_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/ssh"

	"corral/exec/provision"
	"corral/store"
)

func TestWizard_NoNodes(t *testing.T) {
	s := newTestServer(t)
	s.withUser(t, "bob", "correct horse")
	c := s.client(t)
	c.login("bob", "correct horse")
	res := c.get("/containers/new")
	expectStatus(t, res, http.StatusOK)
	if res.Doc.Find(`[data-testid="no-nodes-banner"]`).Length() != 1 {
		t.Fatalf("no banner:\n%s", res.Body)
	}
	if res.Doc.Find("form#wizard").Length() != 0 {
		t.Fatal("a wizard form is shown without any node")
	}
}

// TestWizard_WalkThrough goes through every step with plain form posts (no
// JavaScript) and checks that the plan handed to the provisioner is the one
// the Review showed.
func TestWizard_WalkThrough(t *testing.T) {
	e := newWizardEnv(t)
	res := e.c.get("/containers/new")
	wizardAt(t, res, "template")
	// Scratch, the user's own template and the three built-ins.
	if n := res.Doc.Find(`[data-testid="template-choice"]`).Length(); n != 5 {
		t.Fatalf("%d template choices, want scratch + 1 + 3 built-ins", n)
	}
	if n := res.Doc.Find(`[data-testid="template-origin"]:contains("built-in")`).Length(); n != 3 {
		t.Fatalf("%d choices marked built-in", n)
	}
	res = e.step(t, res, wizardGo("configure"))
	expectStatus(t, res, http.StatusUnprocessableEntity)
	wizardAt(t, res, "template")
	if wizardFieldErr(res, "template") == "" {
		t.Fatal("moving on without a template gave no message")
	}

	res = e.step(t, res, func(v url.Values) { v.Set("template", e.tmpl.ID); v.Set("step", "configure") })
	wizardAt(t, res, "configure")
	form := wizardForm(t, res.Doc)
	want := map[string]string{
		"node_id": e.node.ID, "os_template": "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst",
		"vmid": "104", "cores": "2", "memory": "1024", "swap": "256", "disk": "10",
		"storage": "local-lvm", "bridge": "vmbr0", "net": "dhcp", "nesting": "on", "unprivileged": "on", "tags": "web",
	}
	for k, w := range want {
		if got := form.Get(k); got != w {
			t.Errorf("configure prefilled %s = %q, want %q", k, got, w)
		}
	}
	if form.Get("keyctl") != "" {
		t.Error("keyctl is on although the template leaves it off")
	}

	_, pub := wizardKey(t)
	res = e.step(t, res, func(v url.Values) {
		v.Set("hostname", "web1")
		v.Set("ssh_key", pub)
		v.Set("net", "static")
		v.Set("ip", "192.168.1.50/24")
		v.Set("gateway", "192.168.1.1")
		v.Set("nameserver", "1.1.1.1, 9.9.9.9")
		v.Set("tags", "Web;home")
		v.Set("step", "packages")
	})
	wizardAt(t, res, "packages")
	for _, m := range []string{"apt", "npm", "pip", "custom"} {
		if res.Doc.Find(`[data-testid="pkg-group-`+m+`"]`).Length() != 1 {
			t.Errorf("no %s group", m)
		}
	}
	// Switch off vim and the whole pip group; add two apt packages.
	res = e.step(t, res, func(v url.Values) {
		v["pkg"] = wizardRemove(v["pkg"], "apt:vim")
		v["pkg_group"] = wizardRemove(v["pkg_group"], "pip")
		v.Set("extra_apt", "htop\njq\n")
		v.Set("step", "scripts")
	})
	wizardAt(t, res, "scripts")
	if got := wizardScriptNames(res.Doc); !reflect.DeepEqual(got, []string{"10-first.sh", "20-second.sh", "30-off.sh"}) {
		t.Fatalf("scripts %q", got)
	}
	// Move the first script down, then turn the disabled one on and the second off.
	res = e.step(t, res, func(v url.Values) { v.Set("action", "script-down:0") })
	wizardAt(t, res, "scripts")
	if got := wizardScriptNames(res.Doc); !reflect.DeepEqual(got, []string{"20-second.sh", "10-first.sh", "30-off.sh"}) {
		t.Fatalf("after moving down: %q", got)
	}
	res = e.step(t, res, func(v url.Values) {
		v["script_on"] = []string{"10-first.sh", "30-off.sh"}
		v.Set("step", "review")
	})
	expectStatus(t, res, http.StatusOK)
	wizardAt(t, res, "review")

	shown := map[string]string{}
	res.Doc.Find(`[data-testid="create-param"]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("data-name")
		shown[name] = s.Find("td").Text()
	})
	wantParams := map[string]string{
		"vmid": "104", "ostemplate": "local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst", "hostname": "web1",
		"storage": "local-lvm", "rootfs": "local-lvm:10", "cores": "2", "memory": "1024", "swap": "256",
		"net0":            "name=eth0,bridge=vmbr0,gw=192.168.1.1,ip=192.168.1.50/24",
		"ssh-public-keys": pub, "unprivileged": "1", "features": "nesting=1", "tags": "web;home",
		"nameserver": "1.1.1.1 9.9.9.9",
	}
	if !reflect.DeepEqual(shown, wantParams) {
		t.Fatalf("review shows create parameters\n%v\nwant\n%v", shown, wantParams)
	}
	if strings.Contains(strings.ToLower(res.Body), `data-name="password"`) {
		t.Fatal("the review shows a password parameter")
	}
	shownSteps := wizardTexts(res.Doc, `[data-testid="review-step"]`)
	shownScripts := wizardTexts(res.Doc, `[data-testid="review-script"]`)
	shownPkgs := wizardTexts(res.Doc, `[data-testid="review-package"]`)

	res = e.step(t, res, func(v url.Values) { v.Set("create", "1") })
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/jobs/job-1" {
		t.Fatalf("created, redirected to %q", loc)
	}
	p := e.rec.last(t)
	if !reflect.DeepEqual(provision.StepLabels(p), shownSteps) {
		t.Errorf("plan steps %q, review showed %q", provision.StepLabels(p), shownSteps)
	}
	var names, pkgs []string
	for _, s := range p.Scripts {
		names = append(names, s.Name)
	}
	for _, pk := range p.Packages {
		pkgs = append(pkgs, pk.Name)
	}
	if !reflect.DeepEqual(names, shownScripts) || !reflect.DeepEqual(names, []string{"10-first.sh", "30-off.sh"}) {
		t.Errorf("plan scripts %q, review showed %q", names, shownScripts)
	}
	if !reflect.DeepEqual(pkgs, shownPkgs) || !reflect.DeepEqual(pkgs, []string{"curl", "htop", "jq", "typescript", "tool"}) {
		t.Errorf("plan packages %q, review showed %q", pkgs, shownPkgs)
	}
	if p.UserID != e.user.ID || p.NodeID != e.node.ID || p.PVENode != "pve1" || p.TemplateID != e.tmpl.ID ||
		len(p.Files) != 1 || p.Files[0].Policy != "backup" || string(p.Files[0].Content) != "hello\n" {
		t.Errorf("plan %+v", p)
	}
	if !p.Create.Unprivileged || !p.Create.Nesting || p.Create.Keyctl || p.Create.IPv4 != "192.168.1.50/24" {
		t.Errorf("plan create spec %+v", p.Create)
	}
}

// TestWizard_BackKeepsAndTemplateRefills: going back keeps what was typed;
// choosing another template fills the later steps from it again.
func TestWizard_BackKeepsAndTemplateRefills(t *testing.T) {
	e := newWizardEnv(t)
	other, err := e.DB.CreateTemplate(context.Background(), e.user.ID, store.Template{Name: "Tiny", OSTemplate: "ubuntu-24.04-standard", Cores: 4, Memory: 256})
	if err != nil {
		t.Fatal(err)
	}
	res := e.walkToConfigure(t, e.tmpl.ID)
	res = e.step(t, res, func(v url.Values) { v.Set("cores", "3"); v.Set("hostname", "keepme"); v.Set("step", "template") })
	wizardAt(t, res, "template")
	res = e.step(t, res, wizardGo("configure"))
	f := wizardForm(t, res.Doc)
	if f.Get("cores") != "3" || f.Get("hostname") != "keepme" {
		t.Fatalf("back and forth lost input: cores %q hostname %q", f.Get("cores"), f.Get("hostname"))
	}
	res = e.step(t, res, wizardGo("template"))
	res = e.step(t, res, func(v url.Values) { v.Set("template", other.ID); v.Set("step", "configure") })
	f = wizardForm(t, res.Doc)
	if f.Get("cores") != "4" || f.Get("memory") != "256" || !strings.Contains(f.Get("os_template"), "ubuntu-24.04-standard") {
		t.Fatalf("new template did not refill: cores %q memory %q os %q", f.Get("cores"), f.Get("memory"), f.Get("os_template"))
	}
	if f.Get("hostname") != "keepme" {
		t.Errorf("the hostname was dropped on template change: %q", f.Get("hostname"))
	}
	res = e.step(t, res, func(v url.Values) { v.Set("step", "packages") })
	wizardAt(t, res, "packages")
	if res.Doc.Find(`[data-testid="no-packages"]`).Length() != 1 {
		t.Fatal("the new template's (empty) packages did not replace the old ones")
	}
}

// TestWizard_ChangeNode reloads the node's lists and the next free VMID of
// its cluster.
func TestWizard_ChangeNode(t *testing.T) {
	e := newWizardEnv(t)
	solo := e.addSimNode(t, e.sim, e.user.ID, "pve-solo", "solo")
	res := e.walkToConfigure(t, e.tmpl.ID)
	if got := wizardForm(t, res.Doc).Get("vmid"); got != "104" {
		t.Fatalf("vmid on homelab %q", got)
	}
	res = e.step(t, res, func(v url.Values) { v.Set("node_id", solo.ID); v.Set("action", "change-node") })
	wizardAt(t, res, "configure")
	f := wizardForm(t, res.Doc)
	if f.Get("node_id") != solo.ID || f.Get("vmid") != "101" {
		t.Fatalf("after changing node: node %q vmid %q", f.Get("node_id"), f.Get("vmid"))
	}
	if f.Get("storage") != "local-lvm" || f.Get("os_template") == "" {
		t.Fatalf("lists of the new node: storage %q os %q", f.Get("storage"), f.Get("os_template"))
	}
}

// TestWizard_Validation: each bad input gets its own message next to its
// field, and nothing reaches the provisioner or Proxmox.
func TestWizard_Validation(t *testing.T) {
	e := newWizardEnv(t)
	before := e.guestCount(t)
	cases := []struct {
		name, field string
		change      map[string]string
	}{
		{"empty hostname", "hostname", map[string]string{"hostname": ""}},
		{"underscore", "hostname", map[string]string{"hostname": "my_box"}},
		{"leading hyphen", "hostname", map[string]string{"hostname": "-box"}},
		{"trailing hyphen", "hostname", map[string]string{"hostname": "box-"}},
		{"double dot", "hostname", map[string]string{"hostname": "a..b"}},
		{"long label", "hostname", map[string]string{"hostname": strings.Repeat("a", 64)}},
		{"vmid text", "vmid", map[string]string{"vmid": "abc"}},
		{"vmid low", "vmid", map[string]string{"vmid": "99"}},
		{"vmid high", "vmid", map[string]string{"vmid": "1000000000"}},
		{"vmid taken", "vmid", map[string]string{"vmid": "100"}},
		{"vmid taken by a VM", "vmid", map[string]string{"vmid": "200"}},
		{"cores 0", "cores", map[string]string{"cores": "0"}},
		{"cores huge", "cores", map[string]string{"cores": "9000"}},
		{"memory low", "memory", map[string]string{"memory": "8"}},
		{"swap negative", "swap", map[string]string{"swap": "-1"}},
		{"disk 0", "disk", map[string]string{"disk": "0"}},
		{"static without address", "ip", map[string]string{"net": "static", "ip": "", "gateway": "10.0.0.1"}},
		{"static without gateway", "gateway", map[string]string{"net": "static", "ip": "10.0.0.5/24", "gateway": ""}},
		{"gateway outside subnet", "gateway", map[string]string{"net": "static", "ip": "10.0.0.5/24", "gateway": "10.0.1.1"}},
		{"bad cidr", "ip", map[string]string{"net": "static", "ip": "10.0.0.300/24", "gateway": "10.0.0.1"}},
		{"cidr without prefix", "ip", map[string]string{"net": "static", "ip": "10.0.0.5", "gateway": "10.0.0.1"}},
		{"bad nameserver", "nameserver", map[string]string{"nameserver": "dns.example"}},
		{"bad ssh key", "ssh_key", map[string]string{"ssh_key": "ssh-ed25519 notbase64"}},
		{"private key", "ssh_key", map[string]string{"ssh_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----"}},
		{"bad tag", "tags", map[string]string{"tags": "web;-bad"}},
		{"tag with slash", "tags", map[string]string{"tags": "a/b"}},
		{"no os template", "os_template", map[string]string{"os_template": ""}},
		{"os template elsewhere", "os_template", map[string]string{"os_template": "local:vztmpl/nothere.tar.zst"}},
		{"unknown storage", "storage", map[string]string{"storage": "tank"}},
		{"unknown bridge", "bridge", map[string]string{"bridge": "vmbr9"}},
		{"nesting on privileged", "unprivileged", map[string]string{"unprivileged": ""}},
	}
	res := e.walkToConfigure(t, e.tmpl.ID)
	base := wizardForm(t, res.Doc)
	base.Set("hostname", "ok-host")
	seen := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := wizardClone(base)
			v.Del("_csrf")
			for k, val := range tc.change {
				if val == "" {
					v.Del(k)
				} else {
					v.Set(k, val)
				}
			}
			v.Set("step", "packages")
			res := e.c.post("/containers/new", v)
			expectStatus(t, res, http.StatusUnprocessableEntity)
			wizardAt(t, res, "configure")
			msg := wizardFieldErr(res, tc.field)
			if tc.field == "vmid" {
				msg = strings.TrimSpace(res.Doc.Find(`[data-testid="vmid-status"]`).Text())
			}
			if msg == "" {
				t.Fatalf("no message for %s:\n%s", tc.field, res.Doc.Find(`[data-testid="step-configure"]`).Text())
			}
			if n := res.Doc.Find(`[data-testid="field-error"]`).Length(); n > 1 {
				t.Errorf("%d messages for one bad field", n)
			}
			seen[tc.name] = msg

			// Creating directly with the same input is refused the same way.
			v.Set("plan_digest", "x")
			res = e.c.post("/containers", v)
			expectStatus(t, res, http.StatusUnprocessableEntity)
			wizardAt(t, res, "configure")
		})
	}
	if e.rec.count() != 0 {
		t.Fatalf("%d plans reached the provisioner", e.rec.count())
	}
	if after := e.guestCount(t); after != before {
		t.Fatalf("Proxmox guests went from %d to %d", before, after)
	}
	if seen["vmid taken"] == seen["vmid low"] || !strings.Contains(seen["vmid taken"], "pihole") {
		t.Errorf("vmid messages do not say what is wrong: %q / %q", seen["vmid taken"], seen["vmid low"])
	}
	if seen["static without gateway"] == seen["gateway outside subnet"] {
		t.Error("gateway problems share one message")
	}
}

// TestWizard_NotYourNode: another user's node is a 404 everywhere.
func TestWizard_NotYourNode(t *testing.T) {
	e := newWizardEnv(t)
	mallory := e.withUser(t, "mallory", "correct horse")
	theirs := e.addSimNode(t, e.sim, mallory.ID, "pve2", "m-pve2")
	res := e.walkToConfigure(t, e.tmpl.ID)
	v := wizardForm(t, res.Doc)
	v.Del("_csrf")
	v.Set("node_id", theirs.ID)
	v.Set("action", "change-node")
	expectStatus(t, e.c.post("/containers/new", v), http.StatusNotFound)
	v.Del("action")
	v.Set("hostname", "sneaky")
	expectStatus(t, e.c.post("/containers", v), http.StatusNotFound)
	expectStatus(t, e.c.get("/containers/new?node="+theirs.ID), http.StatusNotFound)
	expectStatus(t, e.c.get("/containers/new/download?node_id="+theirs.ID+"&upid=x&file=y"), http.StatusNotFound)
	if e.rec.count() != 0 {
		t.Fatal("a plan was started on another user's node")
	}
}

// TestWizard_PlanChangedSinceReview: a template edited after the Review
// was shown makes Create show the Review again instead of starting.
func TestWizard_PlanChangedSinceReview(t *testing.T) {
	e := newWizardEnv(t)
	res := e.walkToConfigure(t, e.tmpl.ID)
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "web2"); v.Set("step", "review") })
	wizardAt(t, res, "review")
	tm := e.tmpl
	tm.Files[0].Content = "changed\n"
	if _, err := e.DB.UpdateTemplate(context.Background(), e.user.ID, tm); err != nil {
		t.Fatal(err)
	}
	res = e.step(t, res, func(v url.Values) { v.Set("create", "1") })
	expectStatus(t, res, http.StatusUnprocessableEntity)
	wizardAt(t, res, "review")
	if res.Doc.Find(`[data-testid="wizard-notice"]`).Length() != 1 || e.rec.count() != 0 {
		t.Fatal("a changed plan was started without a new review")
	}
	res = e.step(t, res, func(v url.Values) { v.Set("create", "1") })
	expectStatus(t, res, http.StatusSeeOther)
	if got := string(e.rec.last(t).Files[0].Content); got != "changed\n" {
		t.Fatalf("started with file %q", got)
	}
}

// TestWizard_HTMX: with htmx a step answers with the form alone, and
// validation problems come back as 200 so htmx swaps them in.
func TestWizard_HTMX(t *testing.T) {
	e := newWizardEnv(t)
	res := e.walkToConfigure(t, e.tmpl.ID)
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "bad_name"); v.Set("step", "packages") }, "HX-Request", "true")
	expectStatus(t, res, http.StatusOK)
	if strings.Contains(res.Body, "<html") || res.Doc.Find("form#wizard").Length() != 1 {
		t.Fatalf("htmx step is not the form fragment:\n%.300s", res.Body)
	}
	if wizardFieldErr(res, "hostname") == "" {
		t.Fatal("no hostname message in the fragment")
	}
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "good"); v.Set("step", "review") }, "HX-Request", "true")
	wizardAt(t, res, "review")
	res = e.step(t, res, func(v url.Values) { v.Set("create", "1") }, "HX-Request", "true")
	if res.Header.Get("HX-Redirect") != "/jobs/job-1" {
		t.Fatalf("htmx create: status %d, HX-Redirect %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
}

// TestWizard_DownloadOSTemplate: a template whose OS is not on the node
// offers the catalogue, follows the download and then chooses it.
func TestWizard_DownloadOSTemplate(t *testing.T) {
	e := newWizardEnvWith(t, slowSim(t))
	tm, err := e.DB.CreateTemplate(context.Background(), e.user.ID, wizardTemplate("Trixie", "debian-13-standard"))
	if err != nil {
		t.Fatal(err)
	}
	res := e.walkToConfigure(t, tm.ID)
	if res.Doc.Find(`[data-testid="os-missing"]`).Length() != 1 {
		t.Fatal("the missing OS template is not pointed out")
	}
	f := wizardForm(t, res.Doc)
	if f.Get("dl_pick") != "debian-13-standard_13.1-2_amd64.tar.zst" {
		t.Fatalf("catalogue preselects %q", f.Get("dl_pick"))
	}
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "trixie"); v.Set("step", "packages") })
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if wizardFieldErr(res, "os_template") == "" {
		t.Fatal("no message for the missing OS template")
	}
	res = e.step(t, res, func(v url.Values) { v.Set("action", "download") })
	wizardAt(t, res, "configure")
	if msg := wizardFieldErr(res, "dl_pick"); msg != "" {
		t.Fatalf("download refused: %s", msg)
	}
	// A running download is carried in the form and polled; a download
	// that already ended has chosen its template.
	if upid := wizardForm(t, res.Doc).Get("dl_upid"); upid != "" {
		poll := e.c.get("/containers/new/download?node_id="+e.node.ID+"&upid="+url.QueryEscape(upid)+"&file=debian-13-standard_13.1-2_amd64.tar.zst", "HX-Request", "true")
		expectStatus(t, poll, http.StatusOK)
		if state, _ := poll.Doc.Find(`[data-testid="download-status"]`).Attr("data-state"); state != "running" && state != "done" {
			t.Fatalf("poll fragment in state %q:\n%s", state, poll.Body)
		}
		e.sim.WaitTasks()
		poll = e.c.get("/containers/new/download?node_id="+e.node.ID+"&upid="+url.QueryEscape(upid)+"&file=x", "HX-Request", "true")
		if state, _ := poll.Doc.Find(`[data-testid="download-status"]`).Attr("data-state"); state != "done" {
			t.Fatalf("finished download polled as %q", state)
		}
		res = e.step(t, res, func(v url.Values) { v.Set("action", "download-check") })
	}
	f = wizardForm(t, res.Doc)
	if f.Get("os_template") != "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst" || f.Get("dl_upid") != "" {
		t.Fatalf("after the download: os %q, upid %q", f.Get("os_template"), f.Get("dl_upid"))
	}
	if res.Doc.Find(`[data-testid="os-missing"]`).Length() != 0 {
		t.Fatal("still reported missing")
	}
	res = e.step(t, res, wizardGo("packages"))
	wizardAt(t, res, "packages")
}

func wizardKey(t *testing.T) (ed25519.PrivateKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return priv, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " alice@laptop"
}

func wizardRemove(list []string, x string) []string {
	var out []string
	for _, s := range list {
		if s != x {
			out = append(out, s)
		}
	}
	return out
}

func wizardClone(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = append([]string(nil), vals...)
	}
	return out
}

func wizardScriptNames(doc *goquery.Document) []string {
	var out []string
	doc.Find(`[data-testid="script-item"]`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("data-name")
		out = append(out, n)
	})
	return out
}

func wizardTexts(doc *goquery.Document, sel string) []string {
	var out []string
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}
