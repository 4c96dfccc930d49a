package guest

import (
	"fmt"
	"sync/atomic"
)

// winsize is the terminal size a session's commands see, kept current
// with the client's window changes (rows in the high half, columns in the
// low half).
type winsize struct {
	v       atomic.Uint64
	pending <-chan [2]int // sizes sent but not yet taken
}

func (w *winsize) set(cols, rows int) { w.v.Store(uint64(rows)<<32 | uint64(uint32(cols))) }

// get takes the sizes waiting in the channel first, so a window change
// sent before a command ran is what it sees.
func (w *winsize) get() (cols, rows int) {
	for w.pending != nil {
		select {
		case size, ok := <-w.pending:
			if ok {
				w.set(size[0], size[1])
				continue
			}
		default:
		}
		break
	}
	v := w.v.Load()
	return int(uint32(v)), int(v >> 32)
}

// attachTty notes whether the session runs on a terminal and its size.
// Window changes wait in tty.Resize until a command asks for the size, as
// with a kernel pty, whose size is read when asked; the sender keeps only
// the newest (pvesim's forwardWindows).
func (s *session) attachTty(tty *Tty) {
	s.tty = tty != nil
	if tty == nil {
		return
	}
	s.win.set(tty.Cols, tty.Rows)
	s.win.pending = tty.Resize
}

// cmdStty knows `stty size` (rows and columns, as coreutils prints them)
// and treats other settings as accepted; without a terminal it fails like
// the real one.
func cmdStty(p *proc) int {
	if !p.s.tty {
		fmt.Fprintln(p.err, "stty: 'standard input': Inappropriate ioctl for device")
		return 1
	}
	if len(p.args) == 2 && p.args[1] == "size" {
		cols, rows := p.s.win.get()
		fmt.Fprintf(p.out, "%d %d\n", rows, cols)
	}
	return 0
}
