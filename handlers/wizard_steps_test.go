package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Issue 14: what a new user trips over in the wizard, checked without a
// browser (the same page a browser without JavaScript gets).

// TestWizard_Capacity: memory, cores and disk are checked against what
// the node has (pvesim: 8 CPUs, 32 GiB, local-lvm with about 330 GiB
// free), with the node's numbers in the message and in the hints.
func TestWizard_Capacity(t *testing.T) {
	e := newWizardEnv(t)
	res := e.walkToConfigure(t, e.tmpl.ID)
	if got := res.Doc.Find(`[data-testid="node-capacity"]`).Text(); got != "pve1 has 8 CPU cores and 32 GiB memory." {
		t.Errorf("capacity line %q", got)
	}
	base := wizardForm(t, res.Doc)
	base.Set("hostname", "big")
	base.Del("_csrf")
	for _, tc := range []struct{ field, value, want string }{
		{"memory", "1000000", "Memory 1,000,000 MiB is more than pve1 has (32 GiB)."},
		{"cores", "16", "16 CPU cores are more than pve1 has (8)."},
		{"disk", "100000", "Disk 100,000 GiB is more than local-lvm on pve1 has free ("},
	} {
		v := wizardClone(base)
		v.Set(tc.field, tc.value)
		v.Set("step", "packages")
		res := e.c.post("/containers/new", v)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		wizardAt(t, res, "configure")
		if got := wizardFieldErr(res, tc.field); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s=%s: message %q, want %q", tc.field, tc.value, got, tc.want)
		}
	}
	// What fits goes through.
	v := wizardClone(base)
	v.Set("memory", "32768")
	v.Set("cores", "8")
	v.Set("step", "packages")
	wizardAt(t, e.c.post("/containers/new", v), "packages")
}

// TestWizard_NodeChangeWithoutJS: without JavaScript the node select
// cannot apply itself, so Next after picking another node shows that
// node's lists first instead of judging the old node's values against it.
func TestWizard_NodeChangeWithoutJS(t *testing.T) {
	e := newWizardEnv(t)
	solo := e.addSimNode(t, e.sim, e.user.ID, "pve-solo", "solo")
	res := e.walkToConfigure(t, e.tmpl.ID)
	if res.Doc.Find(`noscript`).Length() == 0 {
		t.Error("the no-JavaScript node button is not inside <noscript>")
	}
	res = e.step(t, res, func(v url.Values) {
		v.Set("hostname", "moved")
		v.Set("node_id", solo.ID)
		v.Set("step", "packages")
	})
	expectStatus(t, res, http.StatusOK)
	wizardAt(t, res, "configure")
	if n := res.Doc.Find(`[data-testid="field-error"]`).Length(); n != 0 {
		t.Errorf("%d field errors after switching nodes", n)
	}
	if got := res.Doc.Find(`[data-testid="wizard-notice"]`).Text(); !strings.Contains(got, "Switched to solo") {
		t.Errorf("notice %q", got)
	}
	f := wizardForm(t, res.Doc)
	if f.Get("node_id") != solo.ID || f.Get("vmid") != "101" || f.Get("hostname") != "moved" {
		t.Fatalf("after switching: node %q vmid %q hostname %q", f.Get("node_id"), f.Get("vmid"), f.Get("hostname"))
	}
	// Next again moves on.
	wizardAt(t, e.step(t, res, wizardGo("packages")), "packages")
}

// TestWizard_ScratchDefaultsNesting: like Proxmox, a new unprivileged
// container has nesting on.
func TestWizard_ScratchDefaultsNesting(t *testing.T) {
	e := newWizardEnv(t)
	res := e.walkToConfigure(t, "scratch")
	f := wizardForm(t, res.Doc)
	if f.Get("unprivileged") == "" || f.Get("nesting") == "" {
		t.Fatalf("scratch defaults: unprivileged %q nesting %q", f.Get("unprivileged"), f.Get("nesting"))
	}
	if f.Get("keyctl") != "" || f.Get("fuse") != "" {
		t.Errorf("keyctl %q fuse %q on by default", f.Get("keyctl"), f.Get("fuse"))
	}
}

// TestWizard_ScriptsShowContent: the Scripts step shows each script's text.
func TestWizard_ScriptsShowContent(t *testing.T) {
	e := newWizardEnv(t)
	res := e.walkToConfigure(t, e.tmpl.ID)
	res = e.step(t, res, func(v url.Values) { v.Set("hostname", "s1"); v.Set("step", "scripts") })
	wizardAt(t, res, "scripts")
	var got []string
	res.Doc.Find(`[data-testid="script-content"]`).Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
	if strings.Join(got, "|") != "echo first\n|echo second\n|echo off\n" {
		t.Errorf("script contents %q", got)
	}
}
