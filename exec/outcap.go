package exec

import (
	"bytes"
	"fmt"
	"strings"
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

// CutLine shortens s to at most MaxLogLine bytes, on a rune boundary, and
// marks the cut.
func CutLine(s string) string {
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

// tailLines is how many output lines a failed command's error keeps.
const tailLines = 20

// LineWriter turns a command's output into log lines and keeps the last
// few for the error message. Memory stays bounded whatever the command
// prints: a line keeps at most MaxLogLine bytes, and after MaxOutput bytes
// of lines only TruncatedNote is logged (the command runs on; the tail
// still follows it). stdout and stderr share one, hence the lock.
type LineWriter struct {
	mu      sync.Mutex
	Emit    func(string) // gets each line, or TruncatedNote once
	buf     []byte       // the current line, at most MaxLogLine bytes
	long    bool         // the current line passed MaxLogLine
	cr      bool         // a carriage return ended the last text of this line
	emitted int          // bytes of lines logged so far
	cut     bool         // MaxOutput reached: nothing more is logged
	tail    []string
}

// Tail is the last few lines written (at most tailLines), for an error
// message.
func (w *LineWriter) Tail() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.tail...)
}

func (w *LineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			w.add(b)
			break
		}
		w.add(b[:i])
		if b[i] == '\n' {
			w.endLine()
		} else {
			w.cr = true
		}
		b = b[i+1:]
	}
	return n, nil
}

// add appends text to the current line. A progress bar redraws its line
// after a carriage return: text after one replaces the line so far, so
// the line shows what the bar showed last.
func (w *LineWriter) add(p []byte) {
	if len(p) == 0 {
		return
	}
	if w.cr {
		w.buf, w.long, w.cr = w.buf[:0], false, false
	}
	if room := MaxLogLine - len(w.buf); len(p) > room {
		p, w.long = p[:room], true
	}
	w.buf = append(w.buf, p...)
}

// Flush emits a last line without a newline.
func (w *LineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.endLine()
	}
}

func (w *LineWriter) endLine() {
	s := string(w.buf)
	if w.long {
		s = string(trimPartialRune(w.buf)) + LineCutMark
	}
	w.buf, w.long, w.cr = w.buf[:0], false, false
	s = strings.TrimRight(s, " ")
	if s == "" {
		return
	}
	w.tail = append(w.tail, s)
	if len(w.tail) > tailLines {
		w.tail = w.tail[len(w.tail)-tailLines:]
	}
	if w.cut {
		return
	}
	if w.emitted+len(s) > MaxOutput {
		w.cut = true
		w.Emit(TruncatedNote)
		return
	}
	w.emitted += len(s) + 1
	w.Emit(s)
}
