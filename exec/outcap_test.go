package exec

import (
	"fmt"
	"slices"
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
	w := &LineWriter{Emit: func(s string) { got = append(got, s); size += len(s) }}

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
	w = &LineWriter{Emit: func(s string) { got = append(got, s); size += len(s) }}
	line := strings.Repeat("x", 1000)
	for i := range 3 << 10 {
		fmt.Fprintf(w, "%s %d\n", line, i)
	}
	w.Write([]byte("the end"))
	w.Flush()
	if got[len(got)-1] != TruncatedNote || strings.Count(strings.Join(got, "\n"), TruncatedNote) != 1 {
		t.Fatalf("last logged line %q", got[len(got)-1])
	}
	if size > MaxOutput+len(TruncatedNote) || size < MaxOutput-2000 {
		t.Fatalf("logged %d bytes, want about %d", size, MaxOutput)
	}
	if tail := w.Tail(); tail[len(tail)-1] != "the end" {
		t.Fatalf("tail stopped at %q", w.Tail())
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	w := &LineWriter{Emit: func(s string) { got = append(got, s) }}
	fmt.Fprint(w, "one\ntw")
	fmt.Fprint(w, "o\r\n\n   \nprogress 10%\rprogress 100%\nlast")
	w.Flush()
	if want := []string{"one", "two", "progress 100%", "last"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	for i := range 50 {
		fmt.Fprintf(w, "l%d\n", i)
	}
	if tail := w.Tail(); len(tail) != tailLines || tail[tailLines-1] != "l49" {
		t.Fatalf("tail %v", tail)
	}
}
