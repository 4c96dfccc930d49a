package exec

import (
	"strings"
	"testing"
)

func TestScratch(t *testing.T) {
	sim := startSim(t)
	h, err := Dial(t.Context(), target(t, sim.Node("pve1")))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, cmd := range []string{"printenv TERM", "x=5; echo $x", "echo $HOME", "exit 3", "sleep 0.1; echo done"} {
		var out, errOut strings.Builder
		code, err := h.Pct(t.Context(), PctRequest{VMID: 105, Argv: []string{"/bin/sh", "-c", cmd}, Stdout: &out, Stderr: &errOut, Pty: &PtyRequest{Term: "xterm-test", Cols: 120, Rows: 40}})
		t.Logf("%s => %d %v %q %q", cmd, code, err, out.String(), errOut.String())
	}
}
