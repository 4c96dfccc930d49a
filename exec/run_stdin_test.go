package exec

import (
	"bytes"
	"context"
	"io"
	"testing"

	gliderssh "github.com/gliderlabs/ssh"
)

// TestPct_ExitBeforeReadingStdin: a command that succeeds without reading
// all of its input (a file deploy that finds the file unchanged) is a
// success, however much input was still on its way when the channel closed.
func TestPct_ExitBeforeReadingStdin(t *testing.T) {
	_, target := startFakeNode(t, func(s gliderssh.Session) {
		io.WriteString(s, "unchanged\n")
		s.Exit(0)
	})
	ctx := context.Background()
	h, err := Dial(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	big := bytes.Repeat([]byte("x"), 8<<20) // far more than the channel window
	for i := range 5 {
		var out bytes.Buffer
		code, err := h.Pct(ctx, PctRequest{VMID: 101, Argv: []string{"true"}, Stdin: bytes.NewReader(big), Stdout: &out})
		if err != nil || code != 0 {
			t.Fatalf("run %d: code %d, err %v", i, code, err)
		}
		if out.String() != "unchanged\n" {
			t.Fatalf("run %d: output %q", i, out.String())
		}
	}
}
