package guest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// session is one Exec or Shell call: the Guest plus an open root.
type session struct {
	g   *Guest
	fs  *vfs
	tty bool // commands run on a pseudo-terminal
	win winsize
}

func (s *session) close() { s.fs.Close() }

// runIO holds the streams of one run. stdin is an *os.File because the
// interpreter would otherwise make its own pipe and copying goroutine that
// nobody closes; ours is closed when the run ends or ctx is cancelled,
// which also unblocks a command waiting for input.
type runIO struct {
	stdin    *os.File
	out, err io.Writer
	closers  []io.Closer
	stop     func() bool
}

func newRunIO(ctx context.Context, stdio Stdio, tty *Tty) (*runIO, error) {
	rio := &runIO{}
	out := newLockedWriter(stdio.Stdout)
	rio.out, rio.err = out, newLockedWriter(stdio.Stderr)
	if tty != nil {
		// A PTY merges stderr into stdout and its line discipline turns
		// "\n" into "\r\n".
		rio.out = crlfWriter{out}
		rio.err = rio.out
	}
	if stdio.Stdin == nil {
		return rio, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("guest: stdin pipe: %w", err)
	}
	go func() {
		io.Copy(pw, stdio.Stdin)
		pw.Close()
	}()
	rio.stdin = pr
	rio.closers = []io.Closer{pr, pw}
	rio.stop = context.AfterFunc(ctx, func() { pr.Close() })
	return rio, nil
}

func (r *runIO) close() {
	if r.stop != nil {
		r.stop()
	}
	for _, c := range r.closers {
		c.Close()
	}
}

// runArgv runs a `pct exec` argument vector: a shell with its arguments, or
// one command, which is quoted and run through the interpreter so that it
// is found exactly as a shell would find it.
func (s *session) runArgv(ctx context.Context, dir string, env []string, rio *runIO, argv []string) (int, error) {
	var in io.Reader
	if rio.stdin != nil {
		in = rio.stdin
	}
	if isShell(argv[0]) {
		return s.runShellArgs(ctx, dir, env, in, rio.out, rio.err, argv[1:])
	}
	words := make([]string, len(argv))
	for i, a := range argv {
		q, err := syntax.Quote(a, syntax.LangBash)
		if err != nil {
			fmt.Fprintf(rio.err, "%s: invalid argument\n", argv[0])
			return 126, nil
		}
		words[i] = q
	}
	return s.runSource(ctx, dir, env, in, rio.out, rio.err, strings.Join(words, " "), "bash", nil, nil)
}

// runShellArgs emulates `bash ARGS...`: -c STRING [NAME [ARGS]], a script
// file with arguments, or a script read from stdin.
func (s *session) runShellArgs(ctx context.Context, dir string, env []string, in io.Reader, out, errw io.Writer, args []string) (int, error) {
	var opts []string
	command, haveCommand := "", false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		a := args[0]
		args = args[1:]
		switch {
		case a == "--":
			goto operands
		case a == "-c":
			haveCommand = true
		case a == "-o" || a == "+o":
			if len(args) > 0 {
				opts = append(opts, a, args[0])
				args = args[1:]
			}
		case strings.HasPrefix(a, "--"):
			// --login, --norc, --noprofile: nothing to load here.
		default:
			for _, c := range a[1:] {
				switch c {
				case 'c':
					haveCommand = true
				case 'e', 'u', 'x', 'f', 'n':
					opts = append(opts, "-"+string(c))
				}
			}
		}
	}
operands:
	name := "bash"
	switch {
	case haveCommand:
		if len(args) == 0 {
			fmt.Fprintln(errw, "bash: -c: option requires an argument")
			return 2, nil
		}
		command, args = args[0], args[1:]
		if len(args) > 0 {
			name, args = args[0], args[1:]
		}
	case len(args) > 0:
		b, err := s.fs.ReadFile(abs(dir, args[0]))
		if err != nil {
			fmt.Fprintf(errw, "bash: %s: %s\n", args[0], errText(err))
			return 127, nil
		}
		command, name, args = string(b), args[0], args[1:]
	case in != nil:
		b, err := io.ReadAll(in)
		if err != nil && ctx.Err() == nil {
			return 1, fmt.Errorf("guest: read script: %w", err)
		}
		command = string(b)
	}
	return s.runSource(ctx, dir, env, in, out, errw, command, name, opts, args)
}

// runSource parses and runs src with the sandbox handlers.
func (s *session) runSource(ctx context.Context, dir string, env []string, in io.Reader, out, errw io.Writer, src, name string, opts, params []string) (int, error) {
	file, err := syntax.NewParser().Parse(strings.NewReader(src), name)
	if err != nil {
		fmt.Fprintf(errw, "%s: %v\n", name, err)
		return 2, nil
	}
	r, err := s.newRunner(dir, env, in, out, errw, append(opts, append([]string{"--"}, params...)...))
	if err != nil {
		return 1, err
	}
	return runResult(ctx, r.Run(ctx, file))
}

// runResult turns the interpreter's error into an exit status; a cancelled
// ctx is passed on so that an enclosing interpreter stops too.
func runResult(ctx context.Context, err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	if st, ok := interp.IsExitStatus(err); ok {
		return int(st), nil
	}
	if ctx.Err() != nil {
		return 1, ctx.Err()
	}
	return 1, fmt.Errorf("guest: run: %w", err)
}

func (s *session) newRunner(dir string, env []string, in io.Reader, out, errw io.Writer, params []string) (*interp.Runner, error) {
	var top *interp.Runner
	r, err := interp.New(
		interp.Env(expand.ListEnviron(env...)),
		// interp.Dir would stat the host path; dir is a container path.
		func(r *interp.Runner) error { r.Dir = clean(dir); return nil },
		interp.StdIO(in, out, errw),
		interp.OpenHandler(s.openHandler),
		interp.StatHandler(s.statHandler),
		interp.ReadDirHandler2(s.readDirHandler),
		interp.AccessHandler(s.accessHandler),
		interp.CallHandler(func(ctx context.Context, args []string) ([]string, error) {
			return s.callHandler(top, args), nil
		}),
		interp.ExecHandler(s.execHandler),
		interp.Params(params...),
	)
	if err != nil {
		return nil, fmt.Errorf("guest: interpreter: %w", err)
	}
	top = r
	return r, nil
}

// callHandler reroutes the few builtins that would look at the host: the
// PATH search of `command -v` and `type`, and `pwd -P`.
func (s *session) callHandler(top *interp.Runner, args []string) []string {
	switch args[0] {
	case "command":
		if len(args) > 1 && (args[1] == "-v" || args[1] == "-V") {
			return append([]string{cmdLookupV}, s.markFuncs(top, args[2:])...)
		}
	case "type":
		return append([]string{cmdLookupType}, s.markFuncs(top, args[1:])...)
	case "pwd":
		return []string{"pwd"}
	case "kill":
		return append([]string{"pvesim-kill"}, args[1:]...)
	}
	return args
}

// Internal command names the call handler rewrites to.
const (
	cmdLookupV    = "pvesim-command-v"
	cmdLookupType = "pvesim-type"
	funcMarker    = "\x00func:"
)

// markFuncs tags names of shell functions of the top-level shell, which the
// exec handler cannot see.
func (s *session) markFuncs(top *interp.Runner, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if top != nil && top.Funcs[n] != nil {
			out[i] = funcMarker + n
		}
	}
	return out
}

func (s *session) openHandler(ctx context.Context, p string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	hc := interp.HandlerCtx(ctx)
	vp := abs(hc.Dir, p)
	if dev, ok := openDevice(s.fs.Target(vp), hc.Stdout, hc.Stderr); ok {
		return dev, nil
	}
	f, err := s.fs.OpenFile(vp, flag, perm)
	if err != nil {
		// The interpreter prints a *PathError as is; shape it like bash's
		// "bash: /x: No such file or directory".
		return nil, &fs.PathError{Op: "bash:", Path: p, Err: bashErr{err}}
	}
	return f, nil
}

// bashErr words an error the way bash does while keeping errors.Is.
type bashErr struct{ err error }

func (e bashErr) Error() string { return errText(e.err) }
func (e bashErr) Unwrap() error { return e.err }

func (s *session) statHandler(ctx context.Context, name string, follow bool) (fs.FileInfo, error) {
	vp := abs(interp.HandlerCtx(ctx).Dir, name)
	if follow {
		return s.fs.Stat(vp)
	}
	return s.fs.Lstat(vp)
}

func (s *session) readDirHandler(ctx context.Context, p string) ([]fs.DirEntry, error) {
	return s.fs.ReadDir(abs(interp.HandlerCtx(ctx).Dir, p))
}

// accessHandler answers for root: everything is readable and writable, and
// executable when any x bit is set.
func (s *session) accessHandler(ctx context.Context, p string, mode interp.AccessMode) error {
	vp := abs(interp.HandlerCtx(ctx).Dir, p)
	fi, err := s.fs.Stat(vp)
	if err != nil {
		return err
	}
	if mode&interp.AccessExec != 0 && !fi.IsDir() && fi.Mode().Perm()&0o111 == 0 {
		return &fs.PathError{Op: "access", Path: vp, Err: fs.ErrPermission}
	}
	return nil
}

// execHandler runs every command that is not a shell builtin or function:
// a nested shell, one of the Go commands, or a script file in the root.
// No host program is ever started.
func (s *session) execHandler(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	p := &proc{ctx: ctx, s: s, dir: hc.Dir, env: hc.Env, args: args, in: hc.Stdin, out: hc.Stdout, err: hc.Stderr}
	if f, ok := p.in.(*os.File); ok && f == nil {
		p.in = nil
	}
	if p.in == nil {
		p.in = strings.NewReader("")
	}
	code, err := s.run(p)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if code == 0 {
		return nil
	}
	return interp.ExitStatus(uint8(code))
}

// run finds and runs p.args[0].
func (s *session) run(p *proc) (int, error) {
	name := p.args[0]
	if isShell(name) && (!strings.Contains(name, "/") || inBinDir(name)) {
		return s.runShellArgs(p.ctx, p.dir, p.exportedEnv(), p.in, p.out, p.err, p.args[1:])
	}
	if !strings.Contains(name, "/") {
		if fn := lookup(name); fn != nil {
			return fn(p), nil
		}
		for dir := range strings.SplitSeq(p.getenv("PATH"), ":") {
			if dir == "" {
				continue
			}
			vp := clean(dir + "/" + name)
			if fi, err := s.fs.Stat(vp); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return s.runFile(p, vp)
			}
		}
		fmt.Fprintf(p.err, "%s: command not found\n", name)
		return 127, nil
	}
	vp := abs(p.dir, name)
	fi, err := s.fs.Stat(vp)
	if err != nil {
		if fn := lookup(baseName(name)); fn != nil && inBinDir(name) {
			return fn(p), nil
		}
		fmt.Fprintf(p.err, "bash: %s: No such file or directory\n", name)
		return 127, nil
	}
	if fi.IsDir() {
		fmt.Fprintf(p.err, "bash: %s: Is a directory\n", name)
		return 126, nil
	}
	if fi.Mode()&0o111 == 0 {
		fmt.Fprintf(p.err, "bash: %s: Permission denied\n", name)
		return 126, nil
	}
	return s.runFile(p, vp)
}

// runFile runs an executable file from the root. A package's stand-in with
// a Go implementation runs that; shell scripts (and files without a #!
// line) run in the interpreter; a #! naming another program counts as run
// when that program exists in the root (it is a package stand-in);
// binaries cannot run.
func (s *session) runFile(p *proc, vp string) (int, error) {
	b, err := s.fs.ReadFile(vp)
	if err != nil {
		fmt.Fprintf(p.err, "bash: %s: %s\n", p.args[0], errText(err))
		return 126, nil
	}
	if fn := packageCommand(b, vp); fn != nil {
		return fn(p), nil
	}
	if len(b) >= 4 && string(b[:4]) == "\x7fELF" {
		fmt.Fprintf(p.err, "bash: %s: cannot execute binary file: Exec format error\n", p.args[0])
		return 126, nil
	}
	if line, ok := strings.CutPrefix(string(b), "#!"); ok {
		line, _, _ = strings.Cut(line, "\n")
		fields := strings.Fields(line)
		interpName := ""
		if len(fields) > 0 {
			interpName = fields[0]
			if baseName(interpName) == "env" && len(fields) > 1 {
				interpName = fields[1]
			}
		}
		if interpName != "" && !isShell(interpName) {
			if _, err := s.fs.Stat(abs("/usr/bin", interpName)); err != nil {
				fmt.Fprintf(p.err, "bash: %s: %s: bad interpreter: No such file or directory\n", p.args[0], interpName)
				return 126, nil
			}
			return 0, nil
		}
	}
	return s.runSource(p.ctx, p.dir, p.exportedEnv(), p.in, p.out, p.err, string(b), p.args[0], nil, p.args[1:])
}

func inBinDir(name string) bool {
	switch dirName(name) {
	case "/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin":
		return true
	}
	return false
}

func errText(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	case errors.Is(err, fs.ErrExist):
		return "File exists"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// lockedWriter serialises writes from the interpreter's concurrent
// pipeline stages onto one caller writer.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func newLockedWriter(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return lockedWriter{mu: new(sync.Mutex), w: w}
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// crlfWriter is the output half of a PTY line discipline (onlcr).
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(b []byte) (int, error) {
	if _, err := c.w.Write([]byte(strings.ReplaceAll(string(b), "\n", "\r\n"))); err != nil {
		return 0, err
	}
	return len(b), nil
}
