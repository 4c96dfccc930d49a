package handlers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"corral/handlers"
	"corral/handlers/browsertest"
	"corral/store"
	"corral/store/tmplfs"
)

// lookMode is a screen the pages must look right on.
type lookMode struct {
	name   string
	w, h   int64
	phone  bool
	scheme string // prefers-color-scheme
}

var lookModes = []lookMode{
	{"desktop-light", 1280, 900, false, "light"},
	{"desktop-dark", 1280, 900, false, "dark"},
	{"phone-light", 390, 844, true, "light"},
	{"phone-dark", 390, 844, true, "dark"},
}

func (m lookMode) apply() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		opts := []chromedp.EmulateViewportOption{}
		if m.phone {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
		}
		if _, err := chromedp.EmulateViewport(m.w, m.h, opts...)(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: m.scheme}},
		})
		return chromedp.Void{}, err
	}
}

// lookProblems lists what looks broken on the page as shown: the page
// wider than the screen, buttons that touch or overlap, browser controls
// left unstyled. "" when none.
const lookProblems = `(() => {
	const out = [];
	if (document.documentElement.scrollWidth > innerWidth + 1) out.push('page is ' + document.documentElement.scrollWidth + 'px wide on a ' + innerWidth + 'px screen');
	const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden' && !e.closest('[aria-hidden="true"]');
	const label = e => (e.textContent.trim() || e.value || e.name || e.tagName).slice(0, 30);
	const btns = [...document.querySelectorAll('button, .btn, input[type=submit]')].filter(shown);
	for (let i = 0; i < btns.length; i++) for (let j = i + 1; j < btns.length; j++) {
		if (btns[i].contains(btns[j]) || btns[j].contains(btns[i])) continue;
		const a = btns[i].getBoundingClientRect(), b = btns[j].getBoundingClientRect();
		const gapX = Math.max(b.left - a.right, a.left - b.right), gapY = Math.max(b.top - a.bottom, a.top - b.bottom);
		if (gapX < 2 && gapY < 2) out.push('buttons touch: "' + label(btns[i]) + '" and "' + label(btns[j]) + '"');
	}
	const ours = getComputedStyle(document.querySelector('button')).borderTopColor;
	for (const f of document.querySelectorAll('input[type=file]')) {
		const p = getComputedStyle(f, '::file-selector-button');
		if (p.borderTopColor !== ours || parseFloat(p.paddingLeft) < 8) out.push('bare file picker #' + f.id);
	}
	for (const c of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
		if (shown(c) && getComputedStyle(c).accentColor === 'auto') out.push('bare ' + c.type + ' ' + c.name);
	}
	for (const fs of document.querySelectorAll('fieldset')) {
		const s = getComputedStyle(fs);
		if (shown(fs) && s.borderTopStyle === 'groove') out.push('bare fieldset ' + (fs.querySelector('legend')?.textContent.trim() ?? ''));
	}
	return out.join('\n');
})()`

// TestBrowserTemplatePagesLook walks the template pages and the wizard at
// desktop and phone width, light and dark: none may be wider than the
// screen, have buttons that touch, or show a bare browser control.
// Screenshots of every state go to testout/.
func TestBrowserTemplatePagesLook(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "Web stack"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "Web stack", "template.conf"), []byte("TEMPLATE_CPU=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newWizardEnv(t, func(d *handlers.Deps) {
		d.Templates = tmplfs.Library{DB: d.Templates.(*store.DB), Dir: root}
	})
	ctx := context.Background()
	b1, _ := e.DB.CreatePackageBucket(ctx, e.user.ID, "base", "everyday tools")
	if _, err := e.DB.ImportBucketPackages(ctx, e.user.ID, b1.ID, store.ManagerApt, "curl wget git jq htop ca-certificates"); err != nil {
		t.Fatal(err)
	}
	cp, err := e.DB.CopyTemplate(ctx, e.user.ID, "builtin-docker-host")
	if err != nil {
		t.Fatal(err)
	}
	cp.Cores = 4
	if _, err := e.DB.UpdateTemplate(ctx, e.user.ID, cp); err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(t.TempDir(), "web-stack.json")
	_, data, _ := e.DB.ExportTemplate(ctx, e.user.ID, e.tmpl.ID)
	if err := os.WriteFile(export, data, 0o644); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`[data-testid="login-form"]`),
		browsertest.SendKeys(`#username`, "alice"),
		browsertest.SendKeys(`#password`, "correct horse"),
		browsertest.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-templates"]`),
	)
	// The checks themselves notice what they look for.
	b.Run(chromedp.Navigate(e.URL+"/templates"), chromedp.WaitVisible(`[data-testid="import-box"]`))
	probe := browsertest.Get(b, chromedp.Evaluate[string](`(() => {
		const d = document.createElement('div');
		d.innerHTML = '<div style="display:flex"><button>one</button><button>two</button></div><fieldset style="border:2px groove"><legend>bare</legend></fieldset>';
		document.querySelector('main').append(d);
		const p = `+lookProblems+`;
		d.remove();
		return p })()`))
	for _, want := range []string{`buttons touch: "one" and "two"`, "bare fieldset bare"} {
		if !strings.Contains(probe, want) {
			t.Fatalf("the look check misses %q; it says:\n%s", want, probe)
		}
	}
	look := func(name string) {
		t.Helper()
		for _, m := range lookModes {
			b.Run(m.apply())
			if p := browsertest.Get(b, chromedp.Evaluate[string](lookProblems)); p != "" {
				b.Screenshot(name + "-" + m.name + "-problem")
				t.Errorf("%s, %s:\n%s", name, m.name, p)
				continue
			}
			b.Screenshot(name + "-" + m.name)
		}
		b.Run(lookModes[0].apply())
	}
	visit := func(name, path, ready string) {
		t.Helper()
		b.Run(chromedp.Navigate(e.URL+path), chromedp.WaitVisible(ready))
		look(name)
	}

	visit("templates", "/templates", `[data-testid="import-box"]`)
	b.Run(browsertest.Click(`.tag-pill:has([data-testid="tag-nginx"])`))
	b.WaitTrue(`document.querySelectorAll('[data-testid="template-card"]').length === 1 && document.querySelector('[data-testid="tag-nginx"]').checked`)
	look("templates-filtered")
	b.Run(
		chromedp.Navigate(e.URL+"/templates"),
		chromedp.WaitVisible(`[data-testid="import-box"]`),
		chromedp.SetUploadFiles(`#template-file`, []string{export}),
		browsertest.Click(`[data-testid="import-file"]`),
		chromedp.WaitVisible(`[data-testid="import-file-conflict"]`),
	)
	look("import-file-conflict")
	b.Run(
		browsertest.Click(`[data-testid="import-dir"]`),
		chromedp.WaitVisible(`[data-testid="import-conflicts"]`),
	)
	look("import-dir-conflict")
	visit("template-new", "/templates/new", `[data-testid="template-form"]`)
	b.Run(
		browsertest.Click(`[data-testid="add-script"]`),
		chromedp.WaitVisible(`[id="scripts.0.name"]`),
		browsertest.Click(`[data-testid="add-file"]`),
		chromedp.WaitVisible(`[id="files.0.name"]`),
	)
	look("template-new-rows")
	visit("template-copy", "/templates/"+cp.ID, `[data-testid="template-reset"]`)
	visit("template-builtin", "/templates/builtin-docker-host", `[data-testid="template-readonly"]`)
	visit("buckets", "/templates/buckets", `[data-testid="bucket"]`)
	visit("docs", "/docs/templates", `[data-testid="doc"]`)

	visit("wizard-template", "/containers/new", `[data-testid="step-template"]`)
	b.Run(
		browsertest.Click(`input[value="`+e.tmpl.ID+`"]`),
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-configure"]`),
		browsertest.SendKeys(`#hostname`, "looks"),
		chromedp.Clear(`#vmid`),
		browsertest.SendKeys(`#vmid`, "100"),
		chromedp.WaitVisible(`[data-testid="vmid-status"][data-state="taken"]`),
	)
	look("wizard-configure")
	b.Run(
		chromedp.Clear(`#vmid`),
		browsertest.SendKeys(`#vmid`, "150"),
		chromedp.WaitVisible(`[data-testid="vmid-status"][data-state="free"]`),
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-packages"]`),
	)
	look("wizard-packages")
	b.Run(
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-scripts"]`),
		browsertest.Click(`[data-testid="script-item"] summary`),
		chromedp.WaitVisible(`[data-testid="script-content"]`),
	)
	look("wizard-scripts")
	b.Run(
		browsertest.Click(`[data-testid="wizard-next"]`),
		chromedp.WaitVisible(`[data-testid="step-review"]`),
	)
	look("wizard-review")
}
