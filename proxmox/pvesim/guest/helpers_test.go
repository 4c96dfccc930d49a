package guest

import (
	"bytes"
	"context"
	"testing"
)

func newGuest(t *testing.T) *Guest {
	t.Helper()
	g, err := New(t.TempDir(), "ct101")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// sh runs script with bash -c and returns stdout, stderr and the status.
func sh(t *testing.T, g *Guest, script string) (string, string, int) {
	t.Helper()
	return execArgv(t, g, []string{"bash", "-c", script}, "")
}

func execArgv(t *testing.T, g *Guest, argv []string, stdin string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code, err := g.Exec(context.Background(), argv, nil, Stdio{Stdin: bytes.NewBufferString(stdin), Stdout: &out, Stderr: &errb}, nil)
	if err != nil {
		t.Fatalf("Exec(%q): %v", argv, err)
	}
	return out.String(), errb.String(), code
}

// mustSh runs script and fails the test unless it exits 0.
func mustSh(t *testing.T, g *Guest, script string) string {
	t.Helper()
	out, errOut, code := sh(t, g, script)
	if code != 0 {
		t.Fatalf("%q exited %d\nstdout: %s\nstderr: %s", script, code, out, errOut)
	}
	return out
}
