package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pageHelpers runs in every document before the page's own scripts. htmx
// wires an element some milliseconds after a swap shows it (when the swap
// settles); a click in between submits the plain form and the browser leaves
// the page. So the helpers note what htmx has wired (htmx:afterProcessNode, a
// documented event) and say what an element still waits for.
const pageHelpers = `(() => {
  const wired = new WeakSet();
  document.addEventListener("htmx:afterProcessNode", (e) => wired.add(e.target));
  const verbs = ["get", "post", "put", "patch", "delete"].flatMap((v) => ["[hx-" + v + "]", "[data-hx-" + v + "]"]).join(",");
  const busy = ".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added";

  // waitingFor names what keeps sel from being used, or "" when nothing does.
  function waitingFor(sel) {
    if (document.readyState === "loading" || !window.htmx || !wired.has(document.body)) return "htmx to start";
    if (document.querySelector(busy)) return "htmx to finish a request or a swap";
    const el = document.querySelector(sel);
    if (!el) return sel + " to exist";
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return sel + " to be visible";
    if (el.disabled) return sel + " to be enabled";
    const owner = el.closest(verbs);
    if (owner && !wired.has(owner)) return "htmx to wire " + sel;
    return "";
  }

  // click clicks sel once it is ready and on top at its centre, in the same
  // task as the check, so no swap can replace it in between.
  function click(sel) {
    const why = waitingFor(sel);
    if (why) return why;
    const el = document.querySelector(sel);
    el.scrollIntoView({ block: "center", inline: "center" });
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !el.contains(hit)) return sel + " to be uncovered";
    el.click();
    return "";
  }

  window.__browsertest = { waitingFor, click };
})();`

// pollEvery is how often a wait asks the page again.
const pollEvery = 25 * time.Millisecond

// Ready waits until sel is visible and enabled, htmx has wired it, and no
// htmx request, swap or settle is under way: what a person waits for before
// using something a swap just showed.
func Ready(sel string) chromedp.Action[chromedp.Void] {
	return pageWait(`__browsertest.waitingFor(` + jsString(sel) + `)`)
}

// Click clicks sel once it is Ready and nothing covers its centre. Every test
// click goes through here, so none lands on a button htmx has not wired yet.
// The check and the element's own click() run in one JavaScript task, so not
// even the dashboard's 10-second refresh can swap the button in between.
func Click(sel string) chromedp.Action[chromedp.Void] {
	return pageWait(`__browsertest.click(` + jsString(sel) + `)`)
}

// SendKeys types v into sel once it is Ready, so an input that triggers htmx
// requests (the VMID check) is listening before the first key.
func SendKeys(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(Ready(sel), chromedp.SendKeys(sel, v))
}

// WaitTrue waits until the JavaScript expression is true. Unlike
// chromedp.Poll it survives the page navigating meanwhile (a form whose
// answer is a redirect), which would otherwise fail the test for no fault of
// the page.
func (b *Browser) WaitTrue(expr string) {
	b.t.Helper()
	b.Run(pageWait(`(` + expr + `) ? "" : ` + jsString(expr+" to be true")))
}

// pageWait evaluates expr, which names what the page still waits for, until
// it answers "". Each try has its own short deadline, and errors (the page
// navigating, the helpers not yet installed) count as "not yet".
func pageWait(expr string) chromedp.Action[chromedp.Void] {
	guarded := `window.__browsertest ? (` + expr + `) : "the page to load"`
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var why string
		for {
			try, cancel := context.WithTimeout(ctx, 5*time.Second)
			got, err := chromedp.Evaluate[string](guarded)(try, t)
			cancel()
			switch {
			case err == nil && got == "":
				return nil
			case err == nil:
				why = got
			case ctx.Err() == nil:
				why = err.Error()
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waited for %s: %w", why, ctx.Err())
			case <-time.After(pollEvery):
			}
		}
	})
}

// SettleDelayEnv names a duration (e.g. "300ms") for htmx to wait between a
// swap and wiring what it showed. htmx waits 20ms; a longer wait widens the
// window a test could click into, so a missing Ready shows up on every run
// instead of now and then on a loaded machine. make test-stress sets it.
const SettleDelayEnv = "CORRAL_BROWSER_SETTLE_DELAY"

// installPageHelpers makes every later document of the tab load pageHelpers,
// and the settle delay from SettleDelayEnv when it is set.
func installPageHelpers(ctx context.Context) error {
	src := pageHelpers
	if v := os.Getenv(SettleDelayEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %w", SettleDelayEnv, err)
		}
		// Runs before htmx's own start-up, which keeps this value.
		src += fmt.Sprintf(`document.addEventListener("DOMContentLoaded", () => { if (window.htmx) htmx.config.defaultSettleDelay = %d; });`, d.Milliseconds())
	}
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
	if err != nil {
		return fmt.Errorf("install page helpers: %w", err)
	}
	return nil
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
