package guest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExecExitCodes(t *testing.T) {
	g := newGuest(t)
	tests := []struct {
		name  string
		argv  []string
		stdin string
		out   string
		code  int
	}{
		{"exit", []string{"bash", "-c", "exit 3"}, "", "", 3},
		{"false", []string{"false"}, "", "", 1},
		{"last status", []string{"sh", "-c", "true; false"}, "", "", 1},
		{"set -e", []string{"bash", "-c", "set -e\necho a\nfalse\necho b"}, "", "a\n", 1},
		{"bash -e flag", []string{"bash", "-e", "-c", "false; echo no"}, "", "", 1},
		{"pipefail", []string{"bash", "-c", "set -o pipefail; false | true"}, "", "", 1},
		{"plain command", []string{"ls", "/home"}, "", "", 0},
		{"plain command output", []string{"hostname"}, "", "ct101\n", 0},
		{"argument with spaces", []string{"echo", "a  b", "$HOME", "it's"}, "", "a  b $HOME it's\n", 0},
		{"systemctl", []string{"systemctl", "is-active", "nginx"}, "", "inactive\n", 3},
		{"not found", []string{"nosuch", "arg"}, "", "", 127},
		{"full path not found", []string{"/opt/nosuch"}, "", "", 127},
		{"script from stdin", []string{"bash"}, "echo from stdin\nexit 5\n", "from stdin\n", 5},
		{"stdin to command", []string{"cat"}, "piped\n", "piped\n", 0},
		{"script file with args", []string{"bash", "/etc/hostname"}, "", "", 127},
		{"syntax error", []string{"bash", "-c", "if then fi"}, "", "", 2},
		{"positional", []string{"bash", "-c", `echo "$0 $1"`, "name", "one"}, "", "name one\n", 0},
		{"exec builtin", []string{"bash", "-c", "exec hostname"}, "", "ct101\n", 0},
		{"subshell exit", []string{"bash", "-c", "(exit 4); echo $?"}, "", "4\n", 0},
		{"function", []string{"bash", "-c", "f() { return 6; }; f"}, "", "", 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := execArgv(t, g, tc.argv, tc.stdin)
			if code != tc.code || out != tc.out {
				t.Errorf("got %d %q, want %d %q (stderr %q)", code, out, tc.code, tc.out, errOut)
			}
		})
	}
}

func TestExecEnv(t *testing.T) {
	g := newGuest(t)
	var out bytes.Buffer
	code, err := g.Exec(context.Background(), []string{"bash", "-c", `echo "$HOME $USER $PWD $FOO $EUID"`}, []string{"FOO=bar"}, Stdio{Stdout: &out}, nil)
	if err != nil || code != 0 || out.String() != "/root root /root bar 0\n" {
		t.Errorf("got %d %v %q", code, err, out.String())
	}
}

// signalWriter reports the first write, so a test knows a command started.
type signalWriter struct {
	once sync.Once
	ch   chan struct{}
}

func (w *signalWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.ch) })
	return len(b), nil
}

func TestExecCancel(t *testing.T) {
	g := newGuest(t)
	for _, tc := range []struct {
		name  string
		cause error
		code  int
	}{{"kill", nil, 137}, {"interrupt", ErrInterrupt, 130}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			started := &signalWriter{ch: make(chan struct{})}
			type result struct {
				code int
				err  error
			}
			done := make(chan result, 1)
			go func() {
				code, err := g.Exec(ctx, []string{"bash", "-c", "echo started; sleep 100; echo never"}, nil, Stdio{Stdout: started}, nil)
				done <- result{code, err}
			}()
			<-started.ch
			cancel(tc.cause)
			select {
			case r := <-done:
				if r.err != nil || r.code != tc.code {
					t.Errorf("got %d %v, want %d", r.code, r.err, tc.code)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Exec did not return after cancel")
			}
		})
	}
}

// TestExecCancelBlockedRead cancels a command that waits for stdin that
// never comes.
func TestExecCancelBlockedRead(t *testing.T) {
	g := newGuest(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	defer pw.Close()
	started := &signalWriter{ch: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		code, _ := g.Exec(ctx, []string{"bash", "-c", "echo go; cat"}, nil, Stdio{Stdin: pr, Stdout: started}, nil)
		done <- code
	}()
	<-started.ch
	cancel()
	select {
	case code := <-done:
		if code != 137 {
			t.Errorf("code %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Exec did not return after cancel")
	}
}

func TestExecTTY(t *testing.T) {
	g := newGuest(t)
	var out bytes.Buffer
	code, err := g.Exec(context.Background(), []string{"bash", "-c", "echo a; echo b >&2; tty >/dev/null; echo $TERM"}, nil, Stdio{Stdout: &out, Stderr: io.Discard}, &Tty{Term: "xterm", Cols: 80, Rows: 24})
	if err != nil || code != 0 || out.String() != "a\r\nb\r\nxterm\r\n" {
		t.Errorf("got %d %v %q", code, err, out.String())
	}
}

func TestExecConcurrent(t *testing.T) {
	root := t.TempDir()
	g, err := New(root, "ct101")
	if err != nil {
		t.Fatal(err)
	}
	// A second Guest on the same root, as the simulator may create one per
	// command: its flock must serialise state updates with the first.
	other, err := New(root, "ct101")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := g
			if i%2 == 1 {
				g = other
			}
			script := fmt.Sprintf("npm install -g tool%d && pip install lib%d && echo %d > /tmp/f%d && cat /tmp/f%d && ss -tlnH >/dev/null && systemctl restart cron", i, i, i, i, i)
			var out bytes.Buffer
			code, err := g.Exec(context.Background(), []string{"bash", "-c", script}, nil, Stdio{Stdout: &out, Stderr: io.Discard}, nil)
			if err != nil || code != 0 || !strings.Contains(out.String(), fmt.Sprint(i)) {
				t.Errorf("run %d: %d %v %q", i, code, err, out.String())
			}
		}()
	}
	wg.Wait()
	inst := g.Installed()
	if len(inst["npm"]) != 8 || len(inst["pip"]) != 8 || !slices.IsSorted(inst["npm"]) {
		t.Errorf("installed: %v", inst)
	}
}
