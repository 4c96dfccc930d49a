package guest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

func cmdCat(p *proc) int {
	f := parseFlags(p.args[1:])
	return p.readInputs(f.args, func(_ string, r io.Reader) error {
		_, err := io.Copy(p.out, ctxReader{p, r})
		return err
	})
}

// ctxReader stops a copy when the command is cancelled.
type ctxReader struct {
	p *proc
	r io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.p.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

func cmdLs(p *proc) int {
	f := parseFlags(p.args[1:])
	long, all, dirOnly := f.has("-l", "-n"), f.has("-a"), f.has("-d")
	almost := f.has("-A")
	ops := f.args
	if len(ops) == 0 {
		ops = []string{"."}
	}
	owners := p.s.owners()
	code := 0
	var files, dirs []string
	for _, a := range ops {
		fi, err := p.s.fs.Stat(p.path(a))
		if err != nil {
			fmt.Fprintf(p.err, "ls: cannot access '%s': %s\n", a, errText(err))
			code = 2
			continue
		}
		if fi.IsDir() && !dirOnly {
			dirs = append(dirs, a)
		} else {
			files = append(files, a)
		}
	}
	for _, a := range files {
		p.lsEntry(a, p.path(a), long, owners)
	}
	for i, a := range dirs {
		if len(ops) > 1 {
			if i > 0 || len(files) > 0 {
				fmt.Fprintln(p.out)
			}
			fmt.Fprintf(p.out, "%s:\n", a)
		}
		ents, err := p.s.fs.ReadDir(p.path(a))
		if err != nil {
			fmt.Fprintf(p.err, "ls: cannot open directory '%s': %s\n", a, errText(err))
			code = 2
			continue
		}
		if long {
			fmt.Fprintf(p.out, "total %d\n", len(ents)*4)
		}
		names := []string{}
		if all {
			names = append(names, ".", "..")
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") && !all && !almost {
				continue
			}
			names = append(names, e.Name())
		}
		for _, n := range names {
			p.lsEntry(n, clean(p.path(a)+"/"+n), long, owners)
		}
	}
	return code
}

func (p *proc) lsEntry(name, vp string, long bool, owners map[string]string) {
	if !long {
		fmt.Fprintln(p.out, name)
		return
	}
	fi, err := p.s.fs.Lstat(vp)
	if err != nil {
		return
	}
	user, group := ownerOf(owners, vp)
	line := fmt.Sprintf("%s 1 %s %s %5d %s %s", modeString(fi.Mode()), user, group, fi.Size(),
		fi.ModTime().UTC().Format("Jan _2 15:04"), name)
	if fi.Mode()&fs.ModeSymlink != 0 {
		if t, err := p.s.fs.Readlink(vp); err == nil {
			line += " -> " + t
		}
	}
	fmt.Fprintln(p.out, line)
}

// modeString renders a mode the way ls does ("drwxr-xr-x").
func modeString(m fs.FileMode) string {
	s := []byte("-rwxrwxrwx")
	switch {
	case m.IsDir():
		s[0] = 'd'
	case m&fs.ModeSymlink != 0:
		s[0] = 'l'
	}
	for i := 0; i < 9; i++ {
		if m.Perm()&(1<<(8-i)) == 0 {
			s[i+1] = '-'
		}
	}
	return string(s)
}

func cmdMkdir(p *proc) int {
	f := parseFlags(p.args[1:], "-m", "--mode")
	mode := fs.FileMode(0o755)
	if m, ok := f.get("-m", "--mode"); ok {
		mode = parseMode(m, mode)
	}
	code := 0
	for _, a := range f.args {
		var err error
		if f.has("-p", "--parents") {
			err = p.s.fs.MkdirAll(p.path(a), mode)
		} else {
			err = p.s.fs.Mkdir(p.path(a), mode)
		}
		if err != nil {
			fmt.Fprintf(p.err, "mkdir: cannot create directory '%s': %s\n", a, errText(err))
			code = 1
		}
	}
	return code
}

func cmdRm(p *proc) int {
	f := parseFlags(p.args[1:])
	force, recursive := f.has("-f", "--force"), f.has("-r", "-R", "--recursive")
	rmdir := p.name() == "rmdir"
	code := 0
	for _, a := range f.args {
		vp := p.path(a)
		if vp == "/" {
			fmt.Fprintf(p.err, "%s: it is dangerous to operate recursively on '/'\n", p.name())
			code = 1
			continue
		}
		fi, err := p.s.fs.Lstat(vp)
		if err != nil {
			if !force || rmdir {
				fmt.Fprintf(p.err, "%s: cannot remove '%s': %s\n", p.name(), a, errText(err))
				code = 1
			}
			continue
		}
		switch {
		case fi.IsDir() && recursive:
			err = p.s.fs.RemoveAll(vp)
		case fi.IsDir() && !rmdir && !f.has("-d"):
			err = errors.New("Is a directory")
		default:
			err = p.s.fs.Remove(vp)
		}
		if err != nil {
			fmt.Fprintf(p.err, "%s: cannot remove '%s': %s\n", p.name(), a, errText(err))
			code = 1
		}
	}
	return code
}

// target resolves the destination of cp/mv/ln/install: inside dst when dst
// is a directory.
func (p *proc) target(src, dst string) string {
	vp := p.path(dst)
	if fi, err := p.s.fs.Stat(vp); err == nil && fi.IsDir() {
		return clean(vp + "/" + baseName(src))
	}
	return vp
}

func cmdCp(p *proc) int {
	f := parseFlags(p.args[1:])
	recursive := f.has("-r", "-R", "-a", "--recursive", "--archive")
	if len(f.args) < 2 {
		return p.fail("missing destination file operand")
	}
	dst := f.args[len(f.args)-1]
	code := 0
	for _, src := range f.args[:len(f.args)-1] {
		if err := p.copyTree(p.path(src), p.target(src, dst), recursive); err != nil {
			fmt.Fprintf(p.err, "cp: cannot copy '%s': %s\n", src, errText(err))
			code = 1
		}
	}
	return code
}

func (p *proc) copyTree(from, to string, recursive bool) error {
	fi, err := p.s.fs.Stat(from)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return p.copyFile(from, to, fi.Mode().Perm())
	}
	if !recursive {
		return errors.New("-r not specified; omitting directory")
	}
	if err := p.s.fs.MkdirAll(to, fi.Mode().Perm()); err != nil {
		return err
	}
	ents, err := p.s.fs.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := p.copyTree(from+"/"+e.Name(), to+"/"+e.Name(), true); err != nil {
			return err
		}
	}
	return nil
}

func (p *proc) copyFile(from, to string, mode fs.FileMode) error {
	in, err := p.s.fs.OpenFile(from, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := p.s.fs.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func cmdMv(p *proc) int {
	f := parseFlags(p.args[1:])
	if len(f.args) < 2 {
		return p.fail("missing destination file operand")
	}
	dst := f.args[len(f.args)-1]
	code := 0
	for _, src := range f.args[:len(f.args)-1] {
		if err := p.s.fs.Rename(p.path(src), p.target(src, dst)); err != nil {
			fmt.Fprintf(p.err, "mv: cannot move '%s' to '%s': %s\n", src, dst, errText(err))
			code = 1
		}
	}
	return code
}

func cmdChmod(p *proc) int {
	args := p.args[1:]
	recursive := false
	for len(args) > 0 && (args[0] == "-R" || args[0] == "--recursive" || args[0] == "-v" || args[0] == "-f") {
		recursive = recursive || args[0] != "-v" && args[0] != "-f"
		args = args[1:]
	}
	if len(args) < 2 {
		return p.fail("missing operand")
	}
	code := 0
	for _, a := range args[1:] {
		err := p.walk(p.path(a), recursive, func(vp string, fi fs.FileInfo) error {
			return p.s.fs.Chmod(vp, parseMode(args[0], fi.Mode()))
		})
		if err != nil {
			fmt.Fprintf(p.err, "chmod: cannot access '%s': %s\n", a, errText(err))
			code = 1
		}
	}
	return code
}

// walk calls fn on vp and, when recursive, everything below it.
func (p *proc) walk(vp string, recursive bool, fn func(vp string, fi fs.FileInfo) error) error {
	fi, err := p.s.fs.Stat(vp)
	if err != nil {
		return err
	}
	if err := fn(vp, fi); err != nil {
		return err
	}
	if !recursive || !fi.IsDir() {
		return nil
	}
	ents, err := p.s.fs.ReadDir(vp)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type()&fs.ModeSymlink != 0 {
			continue
		}
		if err := p.walk(clean(vp+"/"+e.Name()), true, fn); err != nil {
			return err
		}
	}
	return nil
}

// parseMode applies an octal ("755") or symbolic ("u+x,go-w") mode to old.
func parseMode(spec string, old fs.FileMode) fs.FileMode {
	if n, err := strconv.ParseUint(spec, 8, 32); err == nil {
		return fs.FileMode(n) & fs.ModePerm
	}
	perm := old.Perm()
	for _, clause := range strings.Split(spec, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			continue
		}
		who, op, what := clause[:i], clause[i], clause[i+1:]
		if who == "" || strings.Contains(who, "a") {
			who = "ugo"
		}
		var bits fs.FileMode
		for _, c := range what {
			switch c {
			case 'r':
				bits |= 4
			case 'w':
				bits |= 2
			case 'x':
				bits |= 1
			case 'X':
				if old.IsDir() || perm&0o111 != 0 {
					bits |= 1
				}
			}
		}
		var mask, set fs.FileMode
		for _, c := range who {
			shift := map[rune]uint{'u': 6, 'g': 3, 'o': 0}[c]
			mask |= 7 << shift
			set |= bits << shift
		}
		switch op {
		case '+':
			perm |= set
		case '-':
			perm &^= set
		case '=':
			perm = perm&^mask | set
		}
	}
	return perm
}

func cmdChown(p *proc) int {
	f := parseFlags(p.args[1:])
	if len(f.args) < 2 {
		return p.fail("missing operand")
	}
	spec := f.args[0]
	user, group, hasGroup := strings.Cut(strings.Replace(spec, ".", ":", 1), ":")
	if p.name() == "chgrp" {
		user, group, hasGroup = "", spec, true
	}
	if user != "" && !p.s.accountExists("/etc/passwd", user) {
		return p.fail("invalid user: '%s'", spec)
	}
	if hasGroup && group != "" && !p.s.accountExists("/etc/group", group) {
		return p.fail("invalid group: '%s'", spec)
	}
	var paths []string
	code := 0
	for _, a := range f.args[1:] {
		err := p.walk(p.path(a), f.has("-R", "--recursive"), func(vp string, _ fs.FileInfo) error {
			paths = append(paths, vp)
			return nil
		})
		if err != nil {
			fmt.Fprintf(p.err, "%s: cannot access '%s': %s\n", p.name(), a, errText(err))
			code = 1
		}
	}
	err := p.s.g.update(func(st *state) error {
		for _, vp := range paths {
			u, g := ownerOf(st.Owners, vp)
			if user != "" {
				u = user
			}
			if hasGroup && group != "" {
				g = group
			} else if hasGroup && group == "" {
				g = user // "chown user:" means the user's login group
			}
			if u == "root" && g == "root" {
				delete(st.Owners, vp)
			} else {
				st.Owners[vp] = u + ":" + g
			}
		}
		return nil
	})
	if err != nil {
		return p.fail("%v", err)
	}
	return code
}

func ownerOf(owners map[string]string, vp string) (user, group string) {
	if o, ok := owners[vp]; ok {
		user, group, _ = strings.Cut(o, ":")
		return user, group
	}
	return "root", "root"
}

func (s *session) owners() map[string]string {
	var out map[string]string
	_ = s.g.view(func(st *state) { out = st.Owners })
	return out
}

func cmdTouch(p *proc) int {
	f := parseFlags(p.args[1:])
	code := 0
	now := p.s.g.now()
	for _, a := range f.args {
		vp := p.path(a)
		if _, err := p.s.fs.Stat(vp); err == nil {
			if err := p.s.fs.Chtimes(vp, now); err != nil {
				code = p.fail("cannot touch '%s': %s", a, errText(err))
			}
			continue
		}
		if f.has("-c") {
			continue
		}
		fh, err := p.s.fs.OpenFile(vp, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			code = p.fail("cannot touch '%s': %s", a, errText(err))
			continue
		}
		fh.Close()
	}
	return code
}

func cmdLn(p *proc) int {
	f := parseFlags(p.args[1:])
	if len(f.args) < 1 {
		return p.fail("missing file operand")
	}
	target := f.args[0]
	link := baseName(target)
	if len(f.args) > 1 {
		link = f.args[1]
	}
	vp := p.target(target, link)
	if f.has("-n", "--no-dereference") || f.has("-T") {
		vp = p.path(link)
	}
	if f.has("-f", "--force") {
		p.s.fs.Remove(vp)
	}
	var err error
	if f.has("-s", "--symbolic") {
		err = p.s.fs.Symlink(target, vp)
	} else {
		err = p.hardLink(p.path(target), vp)
	}
	if err != nil {
		return p.fail("failed to create link '%s': %s", link, errText(err))
	}
	return 0
}

// hardLink copies instead of linking: the sandbox keeps every file owned by
// exactly one path, which is all provisioning scripts can observe.
func (p *proc) hardLink(from, to string) error {
	fi, err := p.s.fs.Stat(from)
	if err != nil {
		return err
	}
	if _, err := p.s.fs.Lstat(to); err == nil {
		return fs.ErrExist
	}
	return p.copyFile(from, to, fi.Mode().Perm())
}

func cmdInstall(p *proc) int {
	f := parseFlags(p.args[1:], "-m", "-o", "-g", "--mode", "--owner", "--group")
	mode := fs.FileMode(0o755)
	if m, ok := f.get("-m", "--mode"); ok {
		mode = parseMode(m, mode)
	}
	if f.has("-d", "--directory") {
		for _, a := range f.args {
			if err := p.s.fs.MkdirAll(p.path(a), mode); err != nil {
				return p.fail("cannot create directory '%s': %s", a, errText(err))
			}
		}
		return 0
	}
	if len(f.args) < 2 {
		return p.fail("missing destination file operand")
	}
	dst := f.args[len(f.args)-1]
	for _, src := range f.args[:len(f.args)-1] {
		to := p.target(src, dst)
		if f.has("-D") {
			p.s.fs.MkdirAll(dirName(to), 0o755)
		}
		if err := p.copyFile(p.path(src), to, mode); err != nil {
			return p.fail("cannot install '%s': %s", src, errText(err))
		}
		if err := p.s.fs.Chmod(to, mode); err != nil {
			return p.fail("cannot change mode of '%s': %s", dst, errText(err))
		}
	}
	return 0
}

func cmdStat(p *proc) int {
	f := parseFlags(p.args[1:], "-c", "--format", "--printf")
	format, custom := f.get("-c", "--format", "--printf")
	owners := p.s.owners()
	code := 0
	for _, a := range f.args {
		vp := p.path(a)
		fi, err := p.s.fs.Lstat(vp)
		if err != nil {
			code = p.fail("cannot statx '%s': %s", a, errText(err))
			continue
		}
		user, group := ownerOf(owners, vp)
		kind := "regular file"
		switch {
		case fi.IsDir():
			kind = "directory"
		case fi.Mode()&fs.ModeSymlink != 0:
			kind = "symbolic link"
		case fi.Size() == 0:
			kind = "regular empty file"
		}
		if custom {
			r := strings.NewReplacer("%a", fmt.Sprintf("%o", fi.Mode().Perm()), "%A", modeString(fi.Mode()),
				"%U", user, "%G", group, "%s", strconv.FormatInt(fi.Size(), 10), "%n", a, "%F", kind,
				"%Y", strconv.FormatInt(fi.ModTime().Unix(), 10), "%u", uidOf(user), "%g", uidOf(group))
			fmt.Fprintln(p.out, r.Replace(format))
			continue
		}
		fmt.Fprintf(p.out, "  File: %s\n  Size: %-10d\tBlocks: %-10d IO Block: 4096   %s\n", a, fi.Size(), (fi.Size()+511)/512, kind)
		fmt.Fprintf(p.out, "Access: (%04o/%s)  Uid: (%5s/%8s)   Gid: (%5s/%8s)\n", fi.Mode().Perm(), modeString(fi.Mode()), uidOf(user), user, uidOf(group), group)
		fmt.Fprintf(p.out, "Modify: %s\n", fi.ModTime().UTC().Format("2006-01-02 15:04:05.000000000 -0700"))
	}
	return code
}

func uidOf(name string) string {
	if name == "root" {
		return "0"
	}
	return "1000"
}

func cmdMktemp(p *proc) int {
	f := parseFlags(p.args[1:], "-p", "--tmpdir")
	tmpl := "tmp.XXXXXXXXXX"
	if len(f.args) > 0 {
		tmpl = f.args[0]
	}
	dir, hasDir := f.get("-p", "--tmpdir")
	if !hasDir && (len(f.args) == 0 || f.has("-t")) {
		dir = "/tmp"
	}
	x := len(tmpl) - len(strings.TrimRight(tmpl, "X"))
	if x < 3 {
		return p.fail("too few X's in template '%s'", tmpl)
	}
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, x)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	name := tmpl[:len(tmpl)-x] + string(b)
	if dir != "" {
		name = dir + "/" + name
	}
	vp := p.path(name)
	var err error
	if f.has("-d", "--directory") {
		err = p.s.fs.Mkdir(vp, 0o700)
	} else {
		var fh *os.File
		fh, err = p.s.fs.OpenFile(vp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			fh.Close()
		}
	}
	if err != nil {
		return p.fail("failed to create file via template '%s': %s", tmpl, errText(err))
	}
	fmt.Fprintln(p.out, name)
	return 0
}

func cmdTee(p *proc) int {
	f := parseFlags(p.args[1:])
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if f.has("-a", "--append") {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	writers := []io.Writer{p.out}
	code := 0
	for _, a := range f.args {
		vp := p.path(a)
		if dev, ok := openDevice(p.s.fs.Target(vp), p.out, p.err); ok {
			writers = append(writers, dev)
			continue
		}
		fh, err := p.s.fs.OpenFile(vp, flag, 0o644)
		if err != nil {
			code = p.fail("%s: %s", a, errText(err))
			continue
		}
		defer fh.Close()
		writers = append(writers, fh)
	}
	if _, err := io.Copy(io.MultiWriter(writers...), ctxReader{p, p.in}); err != nil && p.ctx.Err() == nil {
		return p.fail("%v", err)
	}
	return code
}

// sleepCtx waits d or until the command is cancelled.
func (p *proc) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// cmdReadlink prints what a symlink says, or with -f, -e or -m the path
// with every link resolved; like coreutils it prints nothing for a file it
// cannot answer for, and exits 1.
func cmdReadlink(p *proc) int {
	f := parseFlags(p.args[1:])
	canon := f.has("-f", "-e", "-m", "--canonicalize", "--canonicalize-existing", "--canonicalize-missing")
	code := 0
	for _, a := range f.args {
		vp := p.path(a)
		var out string
		var err error
		if canon {
			var rel string
			if rel, err = p.s.fs.resolve(vp, true); err == nil && f.has("-e", "--canonicalize-existing") {
				_, err = p.s.fs.Stat(vp)
			}
			out = "/" + rel
			if rel == "." {
				out = "/"
			}
		} else {
			out, err = p.s.fs.Readlink(vp)
		}
		if err != nil {
			code = 1
			continue
		}
		fmt.Fprintln(p.out, out)
	}
	return code
}
