// Package browsertest drives Debian's headless Chromium through chromedp for
// page tests. A missing browser fails the test: CI installs it, nothing skips.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each Run call, so a page that never settles fails
// the test instead of hanging CI. It is generous because CI runs packages
// side by side on two cores.
const DefaultTimeout = 60 * time.Second

// Browser is one tab in a browser context of its own (its own cookies and
// storage), closed when the test ends.
type Browser struct {
	t      testing.TB
	ctx    context.Context
	outDir string
	shots  int
}

// ExecPath is the browser binary: $CHROMIUM, else Debian's /usr/bin/chromium.
func ExecPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// shared is the Chromium that Main keeps for all the tests of a package.
var shared struct {
	sync.Mutex
	on     bool            // Main runs the tests
	ctx    context.Context // the running browser; nil until the first New
	cancel context.CancelFunc
}

// Main runs a package's tests with one Chromium for all of them and closes
// it at the end: starting Chromium costs seconds, a browser context costs
// milliseconds. Call it from TestMain. Without it, New starts a browser per
// test.
func Main(m *testing.M) {
	shared.Lock()
	shared.on = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	if shared.cancel != nil {
		shared.cancel()
	}
	shared.Unlock()
	os.Exit(code)
}

// New opens a tab for t in a fresh browser context: nothing carries over
// from another test.
func New(t testing.TB) *Browser {
	t.Helper()
	browser, err := browserFor(t)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if err := installPageHelpers(ctx); err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, ctx: ctx, outDir: OutDir(t)}
}

// browserFor is a running Chromium for t: the shared one under Main (started
// again if it died), else one that t's cleanup closes.
func browserFor(t testing.TB) (context.Context, error) {
	shared.Lock()
	defer shared.Unlock()
	if !shared.on {
		ctx, cancel, err := startBrowser()
		if err != nil {
			return nil, err
		}
		t.Cleanup(cancel)
		return ctx, nil
	}
	if shared.ctx == nil || shared.ctx.Err() != nil {
		if shared.cancel != nil {
			shared.cancel()
		}
		ctx, cancel, err := startBrowser()
		if err != nil {
			return nil, err
		}
		shared.ctx, shared.cancel = ctx, cancel
	}
	return shared.ctx, nil
}

// startBrowser starts headless Chromium with a temporary profile, which
// chromedp removes when cancel is called.
func startBrowser() (context.Context, context.CancelFunc, error) {
	exe := ExecPath()
	if _, err := os.Stat(exe); err != nil {
		return nil, nil, fmt.Errorf("browser test needs Chromium at %s (apt-get install chromium): %w", exe, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	cancel := func() { cancelBrowser(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("start chromium: %w", err)
	}
	return ctx, cancel, nil
}

// Context is the tab's context, for actions this package does not wrap.
func (b *Browser) Context() context.Context { return b.ctx }

// Run performs actions within DefaultTimeout and fails the test on error,
// saving a screenshot of the failure first.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, DefaultTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.Screenshot("failure")
		b.t.Fatalf("browser: %v", err)
	}
}

// Get runs one action that returns a value (a text, an attribute...) and
// fails the test on error.
func Get[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, DefaultTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.Screenshot("failure")
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// Screenshot saves the viewport as OutDir/NN-name.png and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	b.shots++
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.outDir, fmt.Sprintf("%02d-%s.png", b.shots, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("save screenshot: %v", err)
	}
	return p
}

// SetViewport switches the window size, e.g. to a phone's 390x844.
func (b *Browser) SetViewport(w, h int64) {
	b.t.Helper()
	b.Run(chromedp.EmulateViewport(w, h))
}

// OutDir is the folder for this test's artefacts: $CORRAL_TESTOUT or
// <module root>/testout, then the test's name.
func OutDir(t testing.TB) string {
	base := os.Getenv("CORRAL_TESTOUT")
	if base == "" {
		base = filepath.Join(moduleRoot(), "testout")
	}
	d := filepath.Join(base, unsafeChars.ReplaceAllString(t.Name(), "_"))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatalf("test output dir: %v", err)
	}
	return d
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
