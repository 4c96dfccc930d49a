package exec

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// Caps on what Corral keeps of anything read from a container or a host.
// A container's owner decides what it prints, and Corral runs on small
// machines: a credential file pointing at /dev/zero must cost a bounded
// amount of memory, not all of it.
const (
	// MaxOutput is the most Corral keeps of one command's output: one
	// discovery, one journal read, one credential file, one job command.
	MaxOutput = 1 << 20
	// MaxLogLine is the longest line kept of a log (a job's output, a
	// journal); a longer line is cut and marked with LineCutMark.
	MaxLogLine = 8 << 10
)

// TruncatedNote is what the user reads where output was cut at MaxOutput.
var TruncatedNote = "… output truncated at " + sizeText(MaxOutput)

// LineCutMark ends a line cut at MaxLogLine.
var LineCutMark = " … (line cut at " + sizeText(MaxLogLine) + ")"

func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// capBuffer keeps the first max bytes written to it and drops the rest.
// Writes never fail, so the copy feeding it never breaks the session; full,
// if set, is called once when the first byte is dropped (to stop the
// command). stdout and stderr may share one, hence the lock.
type capBuffer struct {
	max  int
	full func()

	mu  sync.Mutex
	buf []byte
	cut bool
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - len(b.buf)
	keep := min(len(p), room)
	if need := len(b.buf) + keep; need > cap(b.buf) {
		// Double (append grows large slices by a quarter, which would
		// allocate several times the cap on the way to it), never past max.
		grown := make([]byte, len(b.buf), min(max(2*cap(b.buf), need, 512), b.max))
		copy(grown, b.buf)
		b.buf = grown
	}
	b.buf = append(b.buf, p[:keep]...)
	if keep == len(p) {
		return len(p), nil
	}
	if !b.cut {
		b.cut = true
		if b.full != nil {
			b.full()
		}
	}
	return len(p), nil
}

// String is what was kept, without a rune split by the cut.
func (b *capBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cut {
		return string(trimPartialRune(b.buf))
	}
	return string(b.buf)
}

// Cut reports whether anything was dropped.
func (b *capBuffer) Cut() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cut
}

// cutLine shortens s to at most MaxLogLine bytes, on a rune boundary, and
// marks the cut.
func cutLine(s string) string {
	if len(s) <= MaxLogLine {
		return s
	}
	return string(trimPartialRune([]byte(s[:MaxLogLine]))) + LineCutMark
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}
