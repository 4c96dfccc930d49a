package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestWizard_CleanSnapshot: the clean snapshot is on by default; the Review
// lists its step where it runs, and switching it off leaves it out of the
// plan.
func TestWizard_CleanSnapshot(t *testing.T) {
	const step = "Snapshot the clean system as corral-clean"
	for _, on := range []bool{true, false} {
		e := newWizardEnv(t)
		res := e.step(t, e.c.get("/containers/new"), func(v url.Values) { v.Set("template", e.tmpl.ID); v.Set("step", "configure") })
		wizardAt(t, res, "configure")
		if got := wizardForm(t, res.Doc).Get("clean_snapshot"); got != "on" {
			t.Fatalf("clean snapshot prefilled %q", got)
		}
		res = e.step(t, res, func(v url.Values) {
			v.Set("hostname", "snap1")
			if !on {
				v.Del("clean_snapshot")
			}
			v.Set("step", "review")
		})
		expectStatus(t, res, http.StatusOK)
		wizardAt(t, res, "review")
		steps := wizardTexts(res.Doc, `[data-testid="review-step"]`)
		i := slices.Index(steps, step)
		if on != (i >= 0) || (on && (steps[i-1] != "Wait until the container is up" || i+1 >= len(steps))) {
			t.Fatalf("clean snapshot %v: review steps %q", on, steps)
		}
		expectStatus(t, e.step(t, res, func(v url.Values) { v.Set("create", "1") }), http.StatusSeeOther)
		if p := e.rec.last(t); p.CleanSnapshot != on {
			t.Errorf("plan CleanSnapshot = %v, want %v", p.CleanSnapshot, on)
		}
	}
}
