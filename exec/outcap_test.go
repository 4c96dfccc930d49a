package exec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCapNotes(t *testing.T) {
	if TruncatedNote != "… output truncated at 1 MiB" || LineCutMark != " … (line cut at 8 KiB)" {
		t.Fatalf("notes %q %q", TruncatedNote, LineCutMark)
	}
}

func TestCapBuffer(t *testing.T) {
	fulls := 0
	b := &capBuffer{max: 10, full: func() { fulls++ }}
	for _, s := range []string{"abcd", "efgh", "ij", "k", "lmnop"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("write %q: %d %v", s, n, err)
		}
	}
	if b.String() != "abcdefghij" || !b.Cut() || fulls != 1 {
		t.Fatalf("kept %q cut %v, full called %d times", b.String(), b.Cut(), fulls)
	}
	// A cut inside a multi-byte rune drops the rune's start too.
	r := &capBuffer{max: 4}
	r.Write([]byte("abcé"))
	if r.String() != "abc" || !utf8.ValidString(r.String()) {
		t.Fatalf("kept %q", r.String())
	}
	exact := &capBuffer{max: 4}
	exact.Write([]byte("abcd"))
	if exact.Cut() || exact.String() != "abcd" {
		t.Fatal("output of exactly the cap counted as cut")
	}
}

func TestLineWriterCaps(t *testing.T) {
	var got []string
	size := 0
	w := &lineWriter{emit: func(s string) { got = append(got, s); size += len(s) }}

	// A line without end (cat /dev/zero) keeps MaxLogLine bytes and is marked.
	zeros := make([]byte, 64<<10)
	for range 16 {
		w.Write(zeros)
	}
	w.Write([]byte("\nnext\n"))
	if len(got) != 2 || got[0] != string(zeros[:MaxLogLine])+LineCutMark || got[1] != "next" {
		t.Fatalf("long line: %d lines, first %d bytes", len(got), len(got[0]))
	}
	if len(w.buf) != 0 || cap(w.buf) > 2*MaxLogLine {
		t.Fatalf("line buffer grew to %d", cap(w.buf))
	}

	// 3 MiB of lines: 1 MiB is logged, then one note; the tail follows on.
	got, size = nil, 0
	w = &lineWriter{emit: func(s string) { got = append(got, s); size += len(s) }}
	line := strings.Repeat("x", 1000)
	for i := range 3 << 10 {
		fmt.Fprintf(w, "%s %d\n", line, i)
	}
	w.Write([]byte("the end"))
	w.flush()
	if got[len(got)-1] != TruncatedNote || strings.Count(strings.Join(got, "\n"), TruncatedNote) != 1 {
		t.Fatalf("last logged line %q", got[len(got)-1])
	}
	if size > MaxOutput+len(TruncatedNote) || size < MaxOutput-2000 {
		t.Fatalf("logged %d bytes, want about %d", size, MaxOutput)
	}
	if w.tail[len(w.tail)-1] != "the end" {
		t.Fatalf("tail stopped at %q", w.tail[len(w.tail)-1])
	}
}

// TestCappedReadsInSim reads a huge credential file and one that links to
// /dev/zero in a simulated container: each read stops at MaxOutput and says
// it was cut, instead of holding the whole stream (or never ending).
func TestCappedReadsInSim(t *testing.T) {
	sim := startSim(t)
	node := sim.Node("pve1")
	h, err := Dial(t.Context(), target(t, node))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	dir := filepath.Join(node.ContainerDir(105), CredentialDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("KEY=0123456789abcdef\n"), (8<<20)/21)
	if err := os.WriteFile(filepath.Join(dir, "big"), append([]byte("FIRST=yes\n"), big...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero")); err != nil {
		t.Fatal(err)
	}

	creds, err := Credentials(t.Context(), h, 105, "big")
	if err != nil || !creds.Truncated || len(creds.Entries) != 2 || creds.Entries[0] != (Credential{"FIRST", "yes"}) {
		t.Fatalf("big file: %+v %v", creds, err)
	}
	creds, err = Credentials(t.Context(), h, 105, "zero")
	if err != nil || !creds.Truncated || len(creds.Entries) != 0 {
		t.Fatalf("/dev/zero: %+v %v", creds, err)
	}
	// Discovery reads every credential file: cut, with the units it read.
	found, err := Discover(t.Context(), h, 105)
	if err != nil || !found.Truncated {
		t.Fatalf("discover: %+v %v", found, err)
	}
	// The host connection still works after the stopped commands.
	creds, err = Credentials(t.Context(), h, 105, "missing")
	var ce *CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("a missing file afterwards: %+v %v", creds, err)
	}
}
