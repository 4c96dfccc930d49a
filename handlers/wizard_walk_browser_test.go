package handlers_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
	"corral/proxmox/pvesim"
)

// TestBrowserWizardNewcomer walks the wizard in Chromium the way issue 14's
// new user did: a long template description opens, picking another node
// applies at once, the VMID field's own border turns green, red or amber,
// a node's memory limit is enforced, nesting follows "Unprivileged", and
// the Scripts step shows a script. Each step waits for what a person
// would wait for; screenshots go to testout/ at desktop and phone width.
func TestBrowserWizardNewcomer(t *testing.T) {
	e := newWizardEnv(t)
	solo := e.addSimNode(t, e.sim, e.user.ID, "pve-solo", "solo")
	// solo's cluster cannot be listed: whether a VMID is free stays unknown.
	e.sim.Node("pve-solo").Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultStatus, Status: 500})

	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-containers"]`),
		chromedp.Navigate(e.URL+"/containers/new"),
		chromedp.WaitVisible(`[data-testid="step-template"]`),
	)

	// The built-in Docker host has a long description: two lines, then "More".
	const docker = `[data-testid="template-choice"]:has([data-testid="template-Docker host"])`
	descHeight := `document.querySelector('` + docker + ` .wizard-desc').getBoundingClientRect().height`
	closed := browsertest.Get(b, chromedp.Evaluate[float64](descHeight))
	b.Run(browsertest.Click(docker + ` summary`))
	b.WaitTrue(`document.querySelector('` + docker + ` details').open && ` + descHeight + ` > ` + strconv.FormatFloat(closed*1.5, 'f', 1, 64))
	b.Screenshot("template-description-open")

	b.Run(
		browsertest.Click(`input[value="`+e.tmpl.ID+`"]`),
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-configure"]`),
	)
	if visible := browsertest.Get(b, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="change-node"]')?.getClientRects().length`)); visible {
		t.Error(`the "Use this node" button shows although JavaScript applies the choice`)
	}

	// The VMID field's border takes the verdict's colour.
	border := `getComputedStyle(document.querySelector('#vmid')).borderTopColor`
	// colour resolves one of the stylesheet's colour variables.
	colour := func(name string) string {
		return `(() => { const d = document.createElement('div'); d.style.color = 'var(` + name + `)'; document.body.append(d); const c = getComputedStyle(d).color; d.remove(); return c })()`
	}
	typeVMID := func(id, state, want string) {
		t.Helper()
		b.Run(
			chromedp.Clear(`#vmid`),
			browsertest.SendKeys(`#vmid`, id),
			chromedp.WaitVisible(`[data-testid="vmid-status"][data-state="`+state+`"]`),
		)
		b.WaitTrue(border + ` === ` + colour(want))
	}
	typeVMID("100", "taken", "--bad")
	b.Screenshot("vmid-taken")
	typeVMID("150", "free", "--ok")

	// Picking solo applies at once: its next free id and its capacity.
	browsertest.Get(b, chromedp.Evaluate[bool](`(() => { const s = document.querySelector('#node_id'); s.value = '`+solo.ID+`'; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`))
	b.WaitTrue(`document.querySelector('[data-testid="node-capacity"]')?.textContent.startsWith('solo has')`)
	if got := browsertest.Get(b, chromedp.Value(`#vmid`)); got != "101" {
		t.Errorf("VMID on solo %q, want its next free 101", got)
	}
	typeVMID("120", "unknown", "--warn")
	b.Screenshot("vmid-unknown-solo")

	// More memory than solo has is refused next to the field.
	b.Run(
		chromedp.SetValue(`#hostname`, "newcomer"),
		chromedp.SetValue(`#memory`, "1000000"),
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="field-error"][data-field="memory"]`),
	)
	if msg := browsertest.Get(b, chromedp.Text(`[data-testid="field-error"][data-field="memory"]`)); msg != "Memory 1,000,000 MiB is more than solo has (32 GiB)." {
		t.Errorf("memory message %q", msg)
	}
	b.Screenshot("memory-too-big")

	// Nesting is on, greys out with "Unprivileged" off and comes back with it.
	if !browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector('#nesting').checked`)) {
		t.Error("the template's nesting is not ticked")
	}
	b.Run(browsertest.Click(`#unprivileged`))
	b.WaitTrue(`document.querySelector('#nesting').disabled && !document.querySelector('#nesting').checked`)
	b.Screenshot("privileged")
	b.Run(browsertest.Click(`#unprivileged`))
	b.WaitTrue(`!document.querySelector('#nesting').disabled && document.querySelector('#nesting').checked`)

	// The Scripts step shows a script on request.
	b.Run(
		chromedp.SetValue(`#memory`, "1024"),
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-packages"]`),
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-scripts"]`),
		browsertest.Click(`[data-testid="script-item"] summary`),
		chromedp.WaitVisible(`[data-testid="script-item"] [data-testid="script-content"]`),
	)
	if got := browsertest.Get(b, chromedp.Text(`[data-testid="script-item"] [data-testid="script-content"]`)); strings.TrimSpace(got) != "echo first" {
		t.Errorf("shown script %q", got)
	}
	b.Screenshot("script-shown")
	b.Run(lookModes[3].apply())
	b.Screenshot("script-shown-phone-dark")
}
