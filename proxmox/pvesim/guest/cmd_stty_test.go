package guest

import "testing"

// TestSttySizeFollowsResize reads the terminal size the way a person
// would, before and after the client's window changes.
func TestSttySizeFollowsResize(t *testing.T) {
	g := newGuest(t)
	resize := make(chan [2]int, 1)
	r := startShell(t, g, &Tty{Term: "xterm-256color", Cols: 80, Rows: 24, Resize: resize})
	pos := r.out.waitFor(t, 0, "root@ct101:~# ")
	r.send(t, "stty size\r")
	pos = r.out.waitFor(t, pos, "stty size\r\n24 80\r\nroot@ct101:~# ")
	resize <- [2]int{132, 50}
	r.send(t, "stty size\r")
	r.out.waitFor(t, pos, "stty size\r\n50 132\r\n")
	r.send(t, "exit 3\r")
	if code := r.exitCode(t); code != 3 {
		t.Errorf("exit code %d", code)
	}
}

func TestSttyWithoutTerminal(t *testing.T) {
	g := newGuest(t)
	out := newTerm()
	code, err := g.Exec(t.Context(), []string{"stty", "size"}, nil, Stdio{Stdout: out, Stderr: out}, nil)
	if err != nil || code != 1 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if got := out.String(); got != "stty: 'standard input': Inappropriate ioctl for device\n" {
		t.Errorf("output %q", got)
	}
}
