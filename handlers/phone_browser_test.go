package handlers_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"corral/handlers/browsertest"
)

// buttonsTouching lists pairs of visible buttons closer than 4 px: buttons
// that wrap onto a new line must keep their gap too.
const buttonsTouching = `(function () {
	var els = [...document.querySelectorAll("main .btn, main button")].filter(function (e) {
		var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && !e.closest("dialog");
	});
	var out = [];
	for (var i = 0; i < els.length; i++) for (var j = i + 1; j < els.length; j++) {
		var a = els[i].getBoundingClientRect(), b = els[j].getBoundingClientRect();
		if (els[i].contains(els[j]) || els[j].contains(els[i])) continue;
		if (a.left < b.right + 4 && b.left < a.right + 4 && a.top < b.bottom + 4 && b.top < a.bottom + 4)
			out.push(els[i].textContent.trim() + " / " + els[j].textContent.trim());
	}
	return out;
})()`

// overflowing lists elements that stick out of the viewport sideways,
// but for those inside a row that scrolls sideways on its own (the
// dashboard's node pills): the page itself does not scroll then.
const overflowing = `[...document.querySelectorAll("body *")].filter(function (e) {
	for (var p = e.parentElement; p; p = p.parentElement) {
		var o = getComputedStyle(p).overflowX;
		if ((o === "auto" || o === "scroll") && p.getBoundingClientRect().right <= document.documentElement.clientWidth + 1) return false;
	}
	return e.getBoundingClientRect().right > document.documentElement.clientWidth + 1;
}).map(function (e) { return e.tagName + "." + e.className; })`

// TestBrowserPhoneLayout looks at the pages of this area at 390x844: no
// sideways scrolling, no buttons touching, the nodes table as stacked rows
// with its actions on screen, and the first container above the fold.
func TestBrowserPhoneLayout(t *testing.T) {
	d := startDashBrowser(t)
	b := d.b
	b.SetViewport(390, 844)
	pages := []struct{ name, path, wait string }{
		{"dashboard", "/containers", `[data-testid="ct-card"]`},
		{"detail", "/containers/" + d.pve1.ID + "/101", `[data-testid="usage-CPU"]`},
		{"nodes", "/settings/nodes", `[data-testid="node-containers-total"]`},
		{"confirm", "/containers/" + d.pve1.ID + "/101/delete", `[data-testid="confirm-page"]`},
	}
	for _, p := range pages {
		b.Run(chromedp.Navigate(d.s.URL+p.path), chromedp.WaitVisible(p.wait))
		b.Screenshot(p.name)
		if got := browsertest.Get(b, chromedp.Evaluate[[]string](overflowing)); len(got) > 0 {
			t.Errorf("%s: wider than the phone: %q", p.name, got)
		}
		if got := browsertest.Get(b, chromedp.Evaluate[[]string](buttonsTouching)); len(got) > 0 {
			t.Errorf("%s: buttons touch: %q", p.name, got)
		}
		switch p.name {
		case "dashboard":
			if !browsertest.Get(b, chromedp.Evaluate[bool](`(function () {
				var r = document.querySelector('[data-testid="ct-card"] [data-testid="ct-name"]').getBoundingClientRect();
				return r.bottom <= window.innerHeight;
			})()`)) {
				t.Error("dashboard: the first container is below the fold")
			}
		case "nodes":
			if browsertest.Get(b, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector('[data-testid="nodes-table"] thead')).display !== "none"`)) {
				t.Error("nodes: still a table with a header row on a phone")
			}
			if got := browsertest.Get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="node-edit"], [data-testid="node-test"], [data-testid="node-delete"]')].filter(function (e) {
				var r = e.getBoundingClientRect(); return r.width === 0 || r.right > document.documentElement.clientWidth;
			}).map(function (e) { return e.dataset.testid; })`)); len(got) > 0 {
				t.Errorf("nodes: actions off screen: %q", got)
			}
		}
	}
}
