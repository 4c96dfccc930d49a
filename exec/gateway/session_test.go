package gateway

import (
	"testing"

	gliderssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// TestSession_PtyDuringWindowChanges reads Pty from the handler goroutine
// while the request loop applies window changes, the pattern that races in
// gliderlabs' own session. Under -race this fails if the session's pty
// state loses its lock; it also checks that the handler ends up seeing the
// latest size, and that the window channel keeps only the newest one.
func TestSession_PtyDuringWindowChanges(t *testing.T) {
	const last = 200
	s := &session{}
	reqs := make(chan *ssh.Request)
	seen := make(chan gliderssh.Pty, 1)
	start := func() {
		go func() {
			for {
				pty, _, ok := s.Pty()
				if ok && pty.Window.Width == last {
					seen <- pty
					return
				}
			}
		}()
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.serveRequests(reqs, start, func(what string) { t.Errorf("refused %s", what) })
	}()
	reqs <- &ssh.Request{Type: "pty-req", Payload: ssh.Marshal(struct {
		Term                 string
		Cols, Rows, WPx, HPx uint32
		Modes                string
	}{Term: "xterm", Cols: 80, Rows: 24})}
	reqs <- &ssh.Request{Type: "shell"}
	for cols := uint32(81); cols <= last; cols++ {
		reqs <- &ssh.Request{Type: "window-change", Payload: ssh.Marshal(struct{ Cols, Rows, WPx, HPx uint32 }{cols, 50, 0, 0})}
	}
	close(reqs)
	<-served

	pty := <-seen
	if pty.Term != "xterm" || pty.Window.Height != 50 {
		t.Errorf("handler saw %+v", pty)
	}
	_, winCh, _ := s.Pty()
	var sizes []gliderssh.Window
	for w := range winCh { // closed when the request loop ended
		sizes = append(sizes, w)
	}
	if len(sizes) != 1 || sizes[0].Width != last || sizes[0].Height != 50 {
		t.Errorf("window channel held %+v, want only the latest size", sizes)
	}
}
