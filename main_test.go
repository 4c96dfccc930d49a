package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"corral/proxmox/pvesim/simtest"
)

// env is an environment for run and parseConfig: a key present in m is
// set, even to "".
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// serveConfig parses `corral serve` settings from args and environment.
func serveConfig(t *testing.T, args []string, environ map[string]string) Config {
	t.Helper()
	cmd, _ := commandNamed("serve")
	cfg, _, err := parseConfig(cmd, args, env(environ))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startServe runs `corral serve` in-process on a free port and waits until
// it is listening.
func startServe(t *testing.T, dataDir string) (addr string, stop func() error) {
	t.Helper()
	l, _, stop := startServeConfig(t, serveConfig(t, []string{"--addr", "127.0.0.1:0", "--ssh-addr", "127.0.0.1:0", "--data", dataDir}, nil))
	return l.HTTP, stop
}

// startServeConfig runs serve with cfg until stop, and returns what it
// listens on and its log.
func startServeConfig(t *testing.T, cfg Config) (l listening, logs *simtest.Buffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan listening, 1)
	done := make(chan error, 1)
	logs = &simtest.Buffer{}
	go func() { done <- serve(ctx, cfg, logs, func(l listening) { ready <- l }) }()
	select {
	case l = <-ready:
		return l, logs, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		t.Fatalf("serve exited early: %v\n%s", err, logs.String())
	}
	return l, logs, nil
}

func TestServeHealthzAndGracefulStop(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr, stop := startServe(t, dir)
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz = %d", res.StatusCode)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode = %v, want 0700", fi.Mode().Perm())
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	// The database was closed cleanly: it opens again at once.
	addr, stop = startServe(t, dir)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestSecondProcessOnSameDataDirFailsClearly(t *testing.T) {
	dir := t.TempDir()
	_, stop := startServe(t, dir)
	defer stop()
	cfg := serveConfig(t, []string{"--addr", "127.0.0.1:0", "--data", dir}, nil)
	errc := make(chan error, 1)
	go func() { errc <- serve(context.Background(), cfg, &simtest.Buffer{}, nil) }()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("second serve on the same data dir: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("second serve on the same data dir hung instead of failing")
	}
}

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	e := env(map[string]string{"CORRAL_DATA": dir})
	if err := run(ctx, []string{"user", "add", "alice"}, e, strings.NewReader("correct horse\n"), &out, &errOut); err != nil {
		t.Fatalf("user add: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "created user alice") {
		t.Fatalf("user add said %q", out.String())
	}
	if err := run(ctx, []string{"user", "add", "Alice"}, e, strings.NewReader("another pass\n"), &out, &errOut); err == nil {
		t.Fatal("a second user differing only in case was accepted")
	}
	out.Reset()
	if err := run(ctx, []string{"user", "passwd", "alice"}, e, strings.NewReader("new battery staple\n"), &out, &errOut); err != nil {
		t.Fatalf("user passwd: %v", err)
	}
	if !strings.Contains(out.String(), "signed out") {
		t.Fatalf("user passwd said %q", out.String())
	}
	if err := run(ctx, []string{"user", "passwd", "nobody"}, e, strings.NewReader("new battery staple\n"), &out, &errOut); err == nil {
		t.Fatal("passwd for a missing user succeeded")
	}
	if err := run(ctx, []string{"user", "add", "bob"}, e, strings.NewReader(""), &out, &errOut); err == nil {
		t.Fatal("user add without a password succeeded")
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, env(nil), nil, &out, &out); err != nil || !strings.HasPrefix(out.String(), "corral ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), nil, &out, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// TestTemplatesImportCommand: templates belong to an account, so the CLI
// imports into the only account, or the one --user names, and refuses to
// guess.
func TestTemplatesImportCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := env(map[string]string{"CORRAL_DATA": dir})
	var out, errOut bytes.Buffer
	src := filepath.Join("store", "tmplfs", "testdata", "templates")
	if err := run(ctx, []string{"templates", "import", src}, e, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "create one first") {
		t.Fatalf("import without any account: %v", err)
	}
	if err := run(ctx, []string{"user", "add", "alice"}, e, strings.NewReader("alice-password-1\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	// The testdata tree holds good templates and one broken one: the good
	// ones land, the broken one is reported, and the exit status says so.
	out.Reset()
	err := run(ctx, []string{"templates", "import", src}, e, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "1 template(s) could not be imported") {
		t.Fatalf("templates import: err=%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "into alice's templates") || !strings.Contains(out.String(), "web3-dev: created") || !strings.Contains(out.String(), "broken") {
		t.Fatalf("import report:\n%s", out.String())
	}
	out.Reset()
	_ = run(ctx, []string{"templates", "import", src}, e, nil, &out, &errOut)
	if strings.Contains(out.String(), "web3-dev: created") {
		t.Fatalf("re-import created the template again:\n%s", out.String())
	}
	if err := run(ctx, []string{"templates", "import", filepath.Join(dir, "missing")}, e, nil, &out, &errOut); err == nil {
		t.Fatal("importing a missing directory succeeded")
	}

	if err := run(ctx, []string{"user", "add", "bob"}, e, strings.NewReader("bob-password-1\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"templates", "import", src}, e, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "say whose with --user NAME") {
		t.Fatalf("import with two accounts and no --user: %v", err)
	}
	if err := run(ctx, []string{"templates", "import", src, "--user", "nobody"}, e, nil, &out, &errOut); err == nil {
		t.Fatal("import for a missing account succeeded")
	}
	out.Reset()
	_ = run(ctx, []string{"templates", "import", src, "--user=bob"}, e, nil, &out, &errOut)
	if !strings.Contains(out.String(), "into bob's templates") || !strings.Contains(out.String(), "web3-dev: created") {
		t.Fatalf("bob's import did not make his own templates:\n%s", out.String())
	}
}

// TestServeLogsEachComponentOnce: every log line names its component once
// (the gateway used to print "component=ssh component=ssh").
func TestServeLogsEachComponentOnce(t *testing.T) {
	cfg := serveConfig(t, []string{"--addr", "127.0.0.1:0", "--ssh-addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data")}, nil)
	_, logs, stop := startServeConfig(t, cfg)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "ssh gateway listening") {
		t.Fatalf("the gateway logged nothing:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if n := strings.Count(line, "component="); n > 1 {
			t.Errorf("%d components in %q", n, line)
		}
	}
}
