package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"corral/assets"
	"corral/handlers/browsertest"
)

// TestClickWaitsForHtmx swaps in a form whose plain submission and htmx
// submission answer differently, with htmx told to wait half a second before
// wiring what it swapped in. Click must wait out that window: the form goes
// through htmx, never as a plain post.
func TestClickWaitsForHtmx(t *testing.T) {
	var plain, viaHTMX atomic.Int32
	mux := http.NewServeMux()
	mux.Handle(assets.Prefix, assets.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<!DOCTYPE html><html><head>
<meta name="htmx-config" content='{"defaultSettleDelay": 500}'>
<script src="` + assets.URL("htmx-2.0.11.min.js") + `" defer></script>
</head><body>
<div id="panel"><button hx-get="/panel" hx-target="#panel" data-testid="load">Load</button></div>
</body></html>`))
	})
	mux.HandleFunc("GET /panel", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<form method="post" action="/plain" hx-post="/swap" hx-target="#out">
<button type="submit" data-testid="go">Go</button></form><div id="out"></div>`))
	})
	mux.HandleFunc("POST /swap", func(w http.ResponseWriter, r *http.Request) {
		viaHTMX.Add(1)
		w.Write([]byte(`<p data-testid="done">through htmx</p>`))
	})
	mux.HandleFunc("POST /plain", func(w http.ResponseWriter, r *http.Request) {
		plain.Add(1)
		w.Write([]byte(`<!DOCTYPE html><p data-testid="plain">a plain post</p>`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := browsertest.New(t)
	b.Run(
		chromedp.Navigate(srv.URL+"/"),
		browsertest.Click(`[data-testid="load"]`),
		chromedp.WaitVisible(`[data-testid="go"]`),
		browsertest.Click(`[data-testid="go"]`),
		chromedp.WaitVisible(`[data-testid="done"]`),
	)
	if plain.Load() != 0 || viaHTMX.Load() != 1 {
		t.Fatalf("%d plain posts, %d htmx posts; want 0 and 1", plain.Load(), viaHTMX.Load())
	}
	// The answer's own swap settles too, and Ready sees that.
	b.Run(browsertest.Ready(`[data-testid="done"]`))
}
