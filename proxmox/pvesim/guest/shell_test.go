package guest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// term collects what a session writes and lets a test wait for text.
type term struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	notify chan struct{}
}

func newTerm() *term { return &term{notify: make(chan struct{}, 1)} }

func (t *term) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.buf.Write(b)
	t.mu.Unlock()
	select {
	case t.notify <- struct{}{}:
	default:
	}
	return len(b), nil
}

func (t *term) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// waitFor blocks until the output contains s after offset from; the
// deadline only guards against a hang.
func (t *term) waitFor(tb testing.TB, from int, s string) int {
	tb.Helper()
	deadline := time.After(30 * time.Second)
	for {
		out := t.String()
		if i := strings.Index(out[from:], s); i >= 0 {
			return from + i + len(s)
		}
		select {
		case <-t.notify:
		case <-deadline:
			tb.Fatalf("output never contained %q; got:\n%q", s, out)
		}
	}
}

type shellRun struct {
	in   *io.PipeWriter
	out  *term
	done chan int
}

func startShell(t *testing.T, g *Guest, tty *Tty) *shellRun {
	t.Helper()
	pr, pw := io.Pipe()
	r := &shellRun{in: pw, out: newTerm(), done: make(chan int, 1)}
	go func() {
		code, err := g.Shell(context.Background(), Stdio{Stdin: pr, Stdout: r.out, Stderr: r.out}, tty)
		if err != nil {
			t.Errorf("Shell: %v", err)
		}
		pr.Close()
		r.done <- code
	}()
	t.Cleanup(func() { pw.Close() })
	return r
}

func (r *shellRun) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(r.in, s); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

func (r *shellRun) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("shell did not exit")
		return -1
	}
}

func TestShellTTY(t *testing.T) {
	g := newGuest(t)
	resize := make(chan [2]int, 1)
	r := startShell(t, g, &Tty{Term: "xterm-256color", Cols: 80, Rows: 24, Resize: resize})
	pos := r.out.waitFor(t, 0, "root@ct101:~# ")
	resize <- [2]int{100, 40}

	// Typed characters are echoed; DEL erases the last one.
	r.send(t, "echo helo\x7flo\r")
	pos = r.out.waitFor(t, pos, "echo helo\b \blo\r\n")
	pos = r.out.waitFor(t, pos, "hello\r\nroot@ct101:~# ")

	// Ctrl-C at the prompt drops the line.
	r.send(t, "echo dropped\x03")
	pos = r.out.waitFor(t, pos, "^C\r\nroot@ct101:~# ")

	// Ctrl-C interrupts a running command; $? is 130.
	r.send(t, "sleep 100\r")
	pos = r.out.waitFor(t, pos, "sleep 100\r\n")
	r.send(t, "\x03")
	pos = r.out.waitFor(t, pos, "^C")
	pos = r.out.waitFor(t, pos, "root@ct101:~# ")
	r.send(t, "echo $?\r")
	pos = r.out.waitFor(t, pos, "130\r\nroot@ct101:~# ")

	// The prompt follows cd; multi-line input gets a continuation prompt.
	r.send(t, "cd /etc\r")
	pos = r.out.waitFor(t, pos, "root@ct101:/etc# ")
	r.send(t, "if true; then\r")
	pos = r.out.waitFor(t, pos, "> ")
	r.send(t, "echo inside; fi\r")
	pos = r.out.waitFor(t, pos, "inside\r\nroot@ct101:/etc# ")

	// A command reads typed input until Ctrl-D.
	r.send(t, "cat\r")
	pos = r.out.waitFor(t, pos, "cat\r\n")
	r.send(t, "typed\r")
	pos = r.out.waitFor(t, pos, "typed\r\ntyped\r\n")
	r.send(t, "\x04")
	pos = r.out.waitFor(t, pos, "root@ct101:/etc# ")

	r.send(t, "exit 7\r")
	if code := r.exitCode(t); code != 7 {
		t.Errorf("exit code %d", code)
	}
	if out := r.out.String(); strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Errorf("bare LF in tty output: %q", out)
	}
}

func TestShellTTYCtrlD(t *testing.T) {
	g := newGuest(t)
	r := startShell(t, g, &Tty{})
	pos := r.out.waitFor(t, 0, "# ")
	r.send(t, "false\r")
	pos = r.out.waitFor(t, pos, "# ")
	r.send(t, "\x04")
	if code := r.exitCode(t); code != 1 {
		t.Errorf("exit code %d, want the last status 1", code)
	}
	if !strings.HasSuffix(r.out.String(), "logout\r\n") {
		t.Errorf("output %q", r.out.String())
	}
}

func TestShellNoTTY(t *testing.T) {
	g := newGuest(t)
	var out, errb bytes.Buffer
	in := strings.NewReader("cd /etc\npwd\nfor i in 1 2; do\necho $i\ndone\nnosuch\necho $?\nexit 4\necho never\n")
	code, err := g.Shell(context.Background(), Stdio{Stdin: in, Stdout: &out, Stderr: &errb}, nil)
	if err != nil || code != 4 {
		t.Errorf("code %d err %v", code, err)
	}
	if out.String() != "/etc\n1\n2\n127\n" {
		t.Errorf("stdout %q", out.String())
	}
	if errb.String() != "nosuch: command not found\n" {
		t.Errorf("stderr %q", errb.String())
	}
	// End of input ends the shell with the last status.
	out.Reset()
	code, err = g.Shell(context.Background(), Stdio{Stdin: strings.NewReader("echo hi\nfalse\n"), Stdout: &out}, nil)
	if err != nil || code != 1 || out.String() != "hi\n" {
		t.Errorf("EOF: %d %v %q", code, err, out.String())
	}
}

func TestExecInteractiveBash(t *testing.T) {
	// `pct exec VMID -- bash` with a PTY is an interactive shell.
	g := newGuest(t)
	pr, pw := io.Pipe()
	out := newTerm()
	done := make(chan int, 1)
	go func() {
		code, _ := g.Exec(context.Background(), []string{"/bin/bash", "-l"}, nil, Stdio{Stdin: pr, Stdout: out}, &Tty{})
		done <- code
	}()
	pos := out.waitFor(t, 0, "root@ct101:~# ")
	io.WriteString(pw, "echo $((6*7))\rexit\r")
	out.waitFor(t, pos, "42\r\n")
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("code %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit")
	}
	pw.Close()
}

// TestShellTTYTypeAhead types the next command while one runs and never
// reads its input: like a terminal, the shell runs it afterwards instead of
// losing it (an interactive client that types ahead would otherwise hang).
func TestShellTTYTypeAhead(t *testing.T) {
	g := newGuest(t)
	r := startShell(t, g, &Tty{Term: "xterm", Cols: 80, Rows: 24})
	at := r.out.waitFor(t, 0, "# ")
	r.send(t, "while [ ! -f /tmp/go ]; do sleep 0.01; done; echo first\r")
	at = r.out.waitFor(t, at, "echo first\r\n")
	r.send(t, "echo ahead-$((1+1))\r")
	// Echoed while the loop still runs, so it sits in the command's input.
	at = r.out.waitFor(t, at, "echo ahead-$((1+1))")
	if _, _, code := sh(t, g, "touch /tmp/go"); code != 0 {
		t.Fatal("could not release the loop")
	}
	at = r.out.waitFor(t, at, "first")
	r.out.waitFor(t, at, "ahead-2")
	r.send(t, "exit 4\r")
	if code := r.exitCode(t); code != 4 {
		t.Fatalf("exit code %d", code)
	}
}
