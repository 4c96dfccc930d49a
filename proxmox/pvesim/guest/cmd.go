package guest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"path"
	"strings"

	"mvdan.cc/sh/v3/expand"
)

// proc is one running command: its arguments, streams and view of the
// container.
type proc struct {
	ctx  context.Context
	s    *session
	dir  string
	env  expand.Environ
	args []string
	in   io.Reader
	out  io.Writer
	err  io.Writer
}

// A command is one Go implementation of a program; it returns the exit
// status.
type command func(p *proc) int

// lookup returns the Go implementation of a program, or nil.
func lookup(name string) command { return commands[name] }

// commands maps every command name the guest knows, aliases included, to
// its implementation. It is filled in init because some commands (sudo,
// xargs, which, command -v) look others up.
var commands map[string]command

func init() {
	commands = map[string]command{
		"cat":                    cmdCat,
		"ls":                     cmdLs,
		"mkdir":                  cmdMkdir,
		"rm":                     cmdRm,
		"rmdir":                  cmdRm,
		"cp":                     cmdCp,
		"mv":                     cmdMv,
		"chmod":                  cmdChmod,
		"chown":                  cmdChown,
		"chgrp":                  cmdChown,
		"touch":                  cmdTouch,
		"ln":                     cmdLn,
		"readlink":               cmdReadlink,
		"install":                cmdInstall,
		"stat":                   cmdStat,
		"mktemp":                 cmdMktemp,
		"tee":                    cmdTee,
		"head":                   cmdHead,
		"tail":                   cmdTail,
		"grep":                   cmdGrep,
		"egrep":                  cmdGrep,
		"fgrep":                  cmdGrep,
		"sed":                    cmdSed,
		"wc":                     cmdWc,
		"sort":                   cmdSort,
		"uniq":                   cmdUniq,
		"cut":                    cmdCut,
		"tr":                     cmdTr,
		"basename":               cmdBasename,
		"dirname":                cmdDirname,
		"base64":                 cmdBase64,
		"sha256sum":              cmdSha256sum,
		"xargs":                  cmdXargs,
		"sleep":                  cmdSleep,
		"date":                   cmdDate,
		"uname":                  cmdUname,
		"hostname":               cmdHostname,
		"id":                     cmdID,
		"whoami":                 cmdWhoami,
		"env":                    cmdEnv,
		"printenv":               cmdEnv,
		"true":                   func(*proc) int { return 0 },
		"false":                  func(*proc) int { return 1 },
		"which":                  cmdWhich,
		cmdLookupV:               cmdCommandV,
		cmdLookupType:            cmdType,
		"useradd":                cmdUseradd,
		"adduser":                cmdUseradd,
		"echo":                   cmdEcho,
		"tty":                    cmdTty,
		"stty":                   cmdStty,
		"usermod":                cmdUsermod,
		"groupadd":               cmdGroupadd,
		"addgroup":               cmdGroupadd,
		"chpasswd":               func(p *proc) int { io.Copy(io.Discard, p.in); return 0 },
		"passwd":                 func(p *proc) int { io.Copy(io.Discard, p.in); return 0 },
		"getent":                 cmdGetent,
		"pgrep":                  cmdPgrep,
		"pvesim-kill":            func(*proc) int { return 0 },
		"apt-get":                cmdApt,
		"apt":                    cmdApt,
		"dpkg":                   cmdDpkg,
		"dpkg-query":             cmdDpkg,
		"dpkg-reconfigure":       cmdDpkgReconfigure,
		"debconf-set-selections": cmdDebconfSetSelections,
		"debconf-show":           cmdDebconfShow,
		"npm":                    cmdNpm,
		"pip":                    cmdPip,
		"pip3":                   cmdPip,
		"systemctl":              cmdSystemctl,
		"journalctl":             cmdJournalctl,
		"ss":                     cmdSs,
		"ip":                     cmdIP,
		"curl":                   cmdNetwork,
		"wget":                   cmdNetwork,
		"sudo":                   cmdSudo,
	}
}

// baseNames lists the Go commands `which` and `command -v` report. Commands
// live in /usr/bin except these few.
func commandPath(name string) string {
	switch name {
	case "useradd", "adduser", "ip", "ss", "dpkg-reconfigure":
		return "/usr/sbin/" + name
	}
	return "/usr/bin/" + name
}

func (p *proc) name() string { return baseName(p.args[0]) }

func (p *proc) errorf(format string, a ...any) {
	fmt.Fprintf(p.err, p.name()+": "+format+"\n", a...)
}

// fail prints "NAME: msg" and returns status 1.
func (p *proc) fail(format string, a ...any) int {
	p.errorf(format, a...)
	return 1
}

func (p *proc) path(a string) string { return abs(p.dir, a) }

func (p *proc) getenv(name string) string { return p.env.Get(name).String() }

// exportedEnv is what a child process would inherit.
func (p *proc) exportedEnv() []string {
	var out []string
	p.env.Each(func(name string, vr expand.Variable) bool {
		if vr.Exported && vr.Kind == expand.String {
			out = append(out, name+"="+vr.Str)
		}
		return true
	})
	return out
}

// open opens an input operand: "-" is stdin, device files are emulated.
func (p *proc) open(a string) (io.ReadCloser, error) {
	if a == "-" {
		return io.NopCloser(p.in), nil
	}
	vp := p.path(a)
	if dev, ok := openDevice(p.s.fs.Target(vp), p.out, p.err); ok {
		return dev, nil
	}
	return p.s.fs.OpenFile(vp, 0, 0)
}

// readInputs reads each operand, or stdin when there is none.
func (p *proc) readInputs(ops []string, fn func(name string, r io.Reader) error) int {
	if len(ops) == 0 {
		ops = []string{"-"}
	}
	code := 0
	for _, a := range ops {
		f, err := p.open(a)
		if err != nil {
			p.errorf("%s: %s", a, errText(err))
			code = 1
			continue
		}
		err = fn(a, f)
		f.Close()
		if err != nil {
			if p.ctx.Err() == nil {
				p.errorf("%s: %s", a, errText(err))
			}
			code = 1
		}
	}
	return code
}

// flags is a parsed command line.
type flags struct {
	set  map[string]string // flag -> value ("" for booleans)
	args []string          // operands
}

func (f flags) has(names ...string) bool {
	for _, n := range names {
		if _, ok := f.set[n]; ok {
			return true
		}
	}
	return false
}

func (f flags) get(names ...string) (string, bool) {
	for _, n := range names {
		if v, ok := f.set[n]; ok {
			return v, true
		}
	}
	return "", false
}

// parseFlags splits args (without the program name) into flags and
// operands. Short flags combine ("-rf"); letters in withValue take a value
// from the rest of the word or the next argument, as do long flags listed
// in withValue ("--lines"); "--" ends flags.
func parseFlags(args []string, withValue ...string) flags {
	takes := func(f string) bool {
		for _, w := range withValue {
			if w == f {
				return true
			}
		}
		return false
	}
	f := flags{set: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			f.args = append(f.args, args[i+1:]...)
			return f
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a, "=")
			if !hasVal && takes(name) && i+1 < len(args) {
				i++
				val = args[i]
			}
			f.set[name] = val
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				name := "-" + a[j:j+1]
				if takes(name) {
					val := a[j+1:]
					if val == "" && i+1 < len(args) {
						i++
						val = args[i]
					}
					f.set[name] = val
					break
				}
				f.set[name] = ""
			}
		default:
			f.args = append(f.args, a)
		}
	}
	return f
}

func baseName(p string) string {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return "/"
	}
	return path.Base(p)
}

func dirName(p string) string {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return "/"
	}
	return path.Dir(p)
}

// device is an emulated /dev file.
type device struct {
	r io.Reader
	w io.Writer
}

func (d device) Read(b []byte) (int, error) {
	if d.r == nil {
		return 0, io.EOF
	}
	return d.r.Read(b)
}

func (d device) Write(b []byte) (int, error) {
	if d.w == nil {
		return len(b), nil
	}
	return d.w.Write(b)
}

func (device) Close() error { return nil }

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func openDevice(vp string, stdout, stderr io.Writer) (io.ReadWriteCloser, bool) {
	switch vp {
	case "/dev/null":
		return device{}, true
	case "/dev/zero":
		return device{r: zeroReader{}}, true
	case "/dev/urandom", "/dev/random":
		return device{r: rand.Reader}, true
	case "/dev/stdout", "/dev/tty":
		return device{w: stdout}, true
	case "/dev/stderr":
		return device{w: stderr}, true
	}
	return nil, false
}

func cmdTty(p *proc) int {
	if !p.s.tty {
		fmt.Fprintln(p.out, "not a tty")
		return 1
	}
	fmt.Fprintln(p.out, "/dev/pts/0")
	return 0
}
