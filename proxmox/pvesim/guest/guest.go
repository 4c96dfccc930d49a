package guest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrInterrupt is the cancel cause that makes a cancelled run report 130
// (SIGINT) instead of 137 (SIGKILL): cancel the ctx given to Exec with
// context.WithCancelCause(ctx) and cancel(guest.ErrInterrupt).
var ErrInterrupt = errors.New("guest: interrupted")

// Guest is one simulated LXC container: a directory on the host that acts
// as its root file system, plus persisted state. It is safe for concurrent
// use; several Guests on the same root are safe too.
type Guest struct {
	dir      string
	hostname string
	now      func() time.Time

	mu sync.Mutex // guards the state file together with its flock
}

// Stdio carries the streams of one command. Any field may be nil.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Tty describes the pseudo-terminal of an interactive session; a nil *Tty
// means plain pipes.
type Tty struct {
	Term       string
	Cols, Rows int
	Resize     <-chan [2]int // window changes (cols, rows); buffered, the sender keeping only the newest
}

// Service is the systemd view of one unit, for tests and the simulator.
type Service struct {
	Name    string // unit name, e.g. "nginx.service"
	Active  string // active, inactive or failed
	Enabled bool
	PID     int
	Ports   []int // listening TCP ports, sorted, without duplicates
}

// New opens the container rooted at root, creating the directory and a
// minimal Debian 12 skeleton (only what is missing) and its initial state.
func New(root string, hostname string) (*Guest, error) {
	dir, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("guest: root %q: %w", root, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("guest: create root: %w", err)
	}
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return nil, fmt.Errorf("guest: root %q: %w", root, err)
	}
	if hostname == "" {
		hostname = "localhost"
	}
	g := &Guest{dir: dir, hostname: hostname, now: time.Now}
	v, err := openVFS(dir)
	if err != nil {
		return nil, fmt.Errorf("guest: open root: %w", err)
	}
	defer v.Close()
	if err := writeSkeleton(v, hostname); err != nil {
		return nil, fmt.Errorf("guest: skeleton: %w", err)
	}
	if err := g.update(func(st *state) error { return g.boot(v, st) }); err != nil {
		return nil, err
	}
	return g, nil
}

// boot brings up the base system's services the first time a root is used.
func (g *Guest) boot(v *vfs, st *state) error {
	if st.Address == "" {
		h := fnv.New32a()
		h.Write([]byte(g.hostname))
		st.Address = fmt.Sprintf("10.10.10.%d/24", 2+h.Sum32()%250)
	}
	if len(st.Units) > 0 {
		return nil
	}
	for _, name := range basePackageNames() {
		spec, _ := basePackage(name)
		g.installFiles(v, st, name, spec)
	}
	return nil
}

// SetAddress sets the IPv4 address (CIDR, e.g. "10.0.0.5/24") that
// `hostname -I` and `ip addr` report for eth0.
func (g *Guest) SetAddress(cidr string) error {
	return g.update(func(st *state) error { st.Address = cidr; return nil })
}

// Installed returns the recorded packages per manager ("apt", "npm", "pip"),
// each list sorted.
func (g *Guest) Installed() map[string][]string {
	out := map[string][]string{}
	_ = g.view(func(st *state) {
		for mgr, list := range st.Packages {
			if len(list) > 0 {
				out[mgr] = slices.Clone(list)
			}
		}
	})
	return out
}

// Services returns every unit systemd knows about, sorted by name.
func (g *Guest) Services() []Service {
	var out []Service
	_ = g.view(func(st *state) {
		for name, u := range st.Units {
			s := Service{Name: name, Active: u.Active, Enabled: u.Enabled, PID: u.PID}
			for _, l := range u.Listen {
				if !slices.Contains(s.Ports, l.Port) {
					s.Ports = append(s.Ports, l.Port)
				}
			}
			sort.Ints(s.Ports)
			out = append(out, s)
		}
	})
	slices.SortFunc(out, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Exec runs argv inside the container the way `pct exec VMID -- argv...`
// does and returns its exit status. bash/sh with -c, a script path or a
// script on stdin run the shell interpreter; anything else runs as one
// command. A cancelled ctx ends the run with 137, or 130 when its cause is
// ErrInterrupt. err reports only failures of the sandbox itself.
func (g *Guest) Exec(ctx context.Context, argv []string, env []string, stdio Stdio, tty *Tty) (int, error) {
	if len(argv) == 0 {
		return 255, errors.New("guest: missing command")
	}
	s, err := g.open()
	if err != nil {
		return 255, err
	}
	defer s.close()
	s.attachTty(tty)
	if tty != nil && isShell(argv[0]) && !hasScriptArgs(argv[1:]) {
		return s.interactive(ctx, stdio, tty, loginEnv(g.hostname, tty, env))
	}
	rio, err := newRunIO(ctx, stdio, tty)
	if err != nil {
		return 255, err
	}
	defer rio.close()
	code, err := s.runArgv(ctx, "/root", loginEnv(g.hostname, tty, env), rio, argv)
	return exitCode(ctx, code, err)
}

// Shell runs root's interactive login shell, as `pct enter` does.
func (g *Guest) Shell(ctx context.Context, stdio Stdio, tty *Tty) (int, error) {
	s, err := g.open()
	if err != nil {
		return 255, err
	}
	defer s.close()
	s.attachTty(tty)
	return s.interactive(ctx, stdio, tty, loginEnv(g.hostname, tty, nil))
}

func (g *Guest) open() (*session, error) {
	v, err := openVFS(g.dir)
	if err != nil {
		return nil, fmt.Errorf("guest: open root: %w", err)
	}
	return &session{g: g, fs: v}, nil
}

// exitCode maps the interpreter's result onto a process exit status.
func exitCode(ctx context.Context, code int, err error) (int, error) {
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), ErrInterrupt) {
			return 130, nil
		}
		return 137, nil
	}
	return code, err
}

// loginEnv is the environment lxc-attach gives root, overlaid with env.
func loginEnv(hostname string, tty *Tty, env []string) []string {
	out := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash",
		"HOSTNAME=" + hostname, "LANG=C.UTF-8",
		"UID=0", "EUID=0", "GID=0",
	}
	if tty != nil {
		term := tty.Term
		if term == "" {
			term = "xterm-256color"
		}
		out = append(out, "TERM="+term)
	}
	return append(out, env...)
}

func isShell(name string) bool {
	switch filepath.Base(name) {
	case "bash", "sh", "dash":
		return true
	}
	return false
}

// hasScriptArgs reports whether shell arguments name something to run
// (-c or a script file) rather than asking for an interactive shell.
func hasScriptArgs(args []string) bool {
	for _, a := range args {
		if a == "-c" || !strings.HasPrefix(a, "-") {
			return true
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "c") {
			return true
		}
	}
	return false
}
