package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"corral/exec"

	gliderssh "github.com/gliderlabs/ssh"
)

// menuTries is how many wrong answers the menu takes before giving up.
const menuTries = 5

// gateway is the innermost handler: it works out the target from the user
// name, the command or the menu, and proxies to the container's host. It
// never runs anything on the Corral host.
func (srv *Server) gateway(s gliderssh.Session) {
	info := infoOf(s)
	ctx := s.Context()
	_, loginTarget := splitLogin(s.User())
	req, err := parseRequest(loginTarget, s.RawCommand())
	if err != nil {
		say(s, "corral: "+err.Error())
		s.Exit(2)
		return
	}
	guests, err := srv.deps.Directory.Containers(ctx, info.user.ID)
	if err != nil {
		info.log.Error("list containers", "err", err)
		say(s, "corral: cannot list your containers right now; try again later")
		s.Exit(255)
		return
	}
	slices.SortFunc(guests, func(a, b Guest) int { return a.VMID - b.VMID })
	_, _, pty := s.Pty()

	var g Guest
	var stdin io.Reader = s
	switch req.kind {
	case reqList:
		writeGuestTable(s, guests, false, lineEnd(pty))
		s.Exit(0)
		return
	case reqMenu:
		var rest []byte
		var ok bool
		g, rest, ok = srv.menu(s, guests, pty)
		if !ok {
			return
		}
		req.kind = reqShell
		stdin = io.MultiReader(bytes.NewReader(rest), s)
	default:
		g, err = resolve(guests, req.target)
		if err != nil {
			srv.deny(s, req.target, err.Error())
			say(s, fmt.Sprintf("corral: %q: %v", clean(req.target), err))
			s.Exit(1)
			return
		}
	}
	if g.Status != "running" {
		srv.deny(s, targetLabel(g), "not running")
		say(s, fmt.Sprintf("corral: container %s is %s; start it first", targetLabel(g), clean(g.Status)))
		s.Exit(1)
		return
	}
	if req.kind == reqShell && !pty {
		say(s, fmt.Sprintf("corral: a shell needs a terminal; use ssh -t, or give a command: %d -- COMMAND", g.VMID))
		s.Exit(1)
		return
	}
	srv.proxy(ctx, s, g, req, stdin)
}

// menu shows the numbered list and asks which container to open. It reports
// false when the session already ended.
func (srv *Server) menu(s gliderssh.Session, guests []Guest, pty bool) (Guest, []byte, bool) {
	nl := lineEnd(pty)
	if len(guests) == 0 {
		io.WriteString(s, "You have no containers yet."+nl)
		s.Exit(1)
		return Guest{}, nil, false
	}
	if !pty {
		writeGuestTable(s, guests, false, nl)
		say(s, "corral: pick one with: ssh -t USER@HOST VMID")
		s.Exit(1)
		return Guest{}, nil, false
	}
	io.WriteString(s, "Your containers:"+nl)
	writeGuestTable(s, guests, true, nl)
	for range menuTries {
		io.WriteString(s, "Open which one (number, VMID or name; Ctrl-D to leave)? ")
		answer, rest, err := readLine(s, s, true)
		if err != nil {
			io.WriteString(s, nl)
			s.Exit(0)
			return Guest{}, nil, false
		}
		if strings.TrimSpace(answer) == "" {
			continue
		}
		g, err := pick(guests, answer)
		switch {
		case err != nil:
			io.WriteString(s, "corral: "+err.Error()+nl)
		case g.Status != "running":
			// A slip of the finger should not end the session: say why
			// and ask again.
			srv.deny(s, targetLabel(g), "not running")
			io.WriteString(s, fmt.Sprintf("corral: container %s is %s; start it first, or pick another%s", targetLabel(g), clean(g.Status), nl))
		default:
			return g, rest, true
		}
	}
	s.Exit(1)
	return Guest{}, nil, false
}

func lineEnd(pty bool) string {
	if pty {
		return "\r\n"
	}
	return "\n"
}

func (srv *Server) deny(s gliderssh.Session, target, reason string) {
	info := infoOf(s)
	srv.audit(s.Context(), Event{Kind: EventDenied, UserID: info.user.ID, User: info.user.Name,
		Remote: s.RemoteAddr().String(), Reason: reason + ": " + clean(target)})
}

// proxy runs the session through the shared path (Shells.proxy), passing
// the PTY, window changes, signals, stdin EOF and the exit status through.
func (srv *Server) proxy(ctx context.Context, s gliderssh.Session, g Guest, req request, stdin io.Reader) {
	info := infoOf(s)
	t := Terminal{Stdin: stdin, Stdout: s, Stderr: s.Stderr()}
	pty, winCh, isPty := s.Pty()
	if isPty {
		t.Pty = &exec.PtyRequest{Term: pty.Term, Cols: pty.Window.Width, Rows: pty.Window.Height}
	}
	resize := make(chan exec.Window, 1)
	signals := make(chan string, 8)
	sigCh := make(chan gliderssh.Signal, 8)
	s.Signals(sigCh)
	defer s.Signals(nil)
	t.Resize, t.Signals = resize, signals
	done := make(chan struct{})
	relayDone := make(chan struct{})
	go relayControl(winCh, sigCh, resize, signals, done, relayDone)

	command := ""
	if req.kind == reqExec {
		command = req.command
	}
	out := srv.shells.proxy(ctx, sshDoor, Who{User: info.user, Remote: s.RemoteAddr().String()}, g, command, t, info.log)
	close(done)
	<-relayDone
	if out.Message != "" {
		say(s, "corral: "+out.Message)
	}
	// The client learns the status only after the end is recorded.
	switch {
	case out.Status < 0:
		// The client is gone; there is no one to tell.
	case out.Signal != nil:
		if es, ok := s.(interface {
			exitSignal(string, bool, string) error
		}); ok {
			es.exitSignal(out.Signal.Signal, out.Signal.CoreDumped, out.Signal.Message)
			return
		}
		s.Exit(out.Status)
	default:
		s.Exit(out.Status)
	}
}

// relayControl converts the client's window changes and signals to the
// upstream's channels until done closes. Only the latest size matters, so
// a full resize slot is replaced rather than waited on.
func relayControl(winCh <-chan gliderssh.Window, sigCh <-chan gliderssh.Signal, resize chan exec.Window, signals chan<- string, done <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	for {
		select {
		case <-done:
			return
		case w, ok := <-winCh:
			if !ok {
				winCh = nil
				continue
			}
			nw := exec.Window{Cols: w.Width, Rows: w.Height}
			select {
			case resize <- nw:
			default:
				select {
				case <-resize:
				default:
				}
				resize <- nw
			}
		case sig := <-sigCh:
			select {
			case signals <- string(sig):
			default:
			}
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
