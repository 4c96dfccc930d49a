// Package browsertest drives Debian's headless Chromium through chromedp for
// page tests. A missing browser fails the test: CI installs it, nothing skips.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each Run call, so a page that never settles fails
// the test instead of hanging CI. It is generous because CI runs packages
// side by side on two cores.
const DefaultTimeout = 60 * time.Second

// Browser is one headless Chromium with one tab, closed when the test ends.
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

// New starts a fresh browser profile for t.
func New(t testing.TB) *Browser {
	t.Helper()
	exe := ExecPath()
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("browser test needs Chromium at %s (apt-get install chromium): %v", exe, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
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
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := installPageHelpers(ctx); err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, ctx: ctx, outDir: OutDir(t)}
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
