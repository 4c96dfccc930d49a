package guest

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Names of the simulator's own files at the top of the root. They are hidden
// from and refused to anything running inside the container.
const (
	stateFile = ".pvesim-state.json"
	lockFile  = ".pvesim-state.lock"
)

// maxSymlinkHops bounds symlink resolution like the kernel's ELOOP limit.
const maxSymlinkHops = 40

// vfs maps the container's absolute paths onto an os.Root. Every symlink on
// the way is resolved by vfs itself, absolute targets relative to the
// container root as chroot would, so os.Root only ever sees symlink-free
// paths; os.Root then refuses anything that still escapes (for example a
// link swapped in by a concurrent writer).
type vfs struct {
	root *os.Root
}

func openVFS(dir string) (*vfs, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &vfs{root: r}, nil
}

func (v *vfs) Close() error { return v.root.Close() }

// clean turns any container path into a cleaned absolute one; ".." at the
// top stays at "/".
func clean(p string) string { return path.Clean("/" + p) }

// abs joins p onto the working directory dir unless p is absolute.
func abs(dir, p string) string {
	if strings.HasPrefix(p, "/") {
		return clean(p)
	}
	return clean(dir + "/" + p)
}

func hidden(vp string) bool {
	return vp == "/"+stateFile || vp == "/"+lockFile
}

// resolve returns the os.Root-relative name of the container path vp with
// every symlink resolved inside the root; the final component is resolved
// only when follow is set.
func (v *vfs) resolve(vp string, follow bool) (string, error) {
	vp = clean(vp)
	for hops := 0; ; hops++ {
		if hops > maxSymlinkHops {
			return "", &fs.PathError{Op: "resolve", Path: vp, Err: syscall.ELOOP}
		}
		if hidden(vp) {
			return "", &fs.PathError{Op: "open", Path: vp, Err: fs.ErrPermission}
		}
		parts := strings.Split(strings.TrimPrefix(vp, "/"), "/")
		if vp == "/" {
			return ".", nil
		}
		cur := ""
		restarted := false
		for i, part := range parts {
			next := path.Join(cur, part)
			last := i == len(parts)-1
			if last && !follow {
				return next, nil
			}
			fi, err := v.root.Lstat(next)
			if err != nil {
				// Missing: the rest is lexical (the caller may create it).
				return path.Join(append([]string{next}, parts[i+1:]...)...), nil
			}
			if fi.Mode()&fs.ModeSymlink == 0 {
				cur = next
				continue
			}
			target, err := v.root.Readlink(next)
			if err != nil {
				return "", v.pathErr(err, vp)
			}
			rest := strings.Join(parts[i+1:], "/")
			if strings.HasPrefix(target, "/") {
				vp = clean(target + "/" + rest)
			} else {
				vp = clean("/" + cur + "/" + target + "/" + rest)
			}
			restarted = true
			break
		}
		if !restarted {
			return cur, nil
		}
	}
}

// Target is the container path vp names once every symlink on the way is
// followed, or vp itself when it cannot be resolved. Emulated devices are
// recognised by it, so a link to /dev/zero reads zeros as it would on a
// real system.
func (v *vfs) Target(vp string) string {
	rel, err := v.resolve(vp, true)
	if err != nil {
		return clean(vp)
	}
	return clean(rel)
}

// pathErr rewrites errors so that they name the container path, never the
// host directory behind it.
func (v *vfs) pathErr(err error, vp string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		inner := pe.Err
		if strings.Contains(inner.Error(), "escapes") {
			inner = fs.ErrPermission
		}
		return &fs.PathError{Op: pe.Op, Path: vp, Err: inner}
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return &fs.PathError{Op: le.Op, Path: vp, Err: le.Err}
	}
	return &fs.PathError{Op: "access", Path: vp, Err: err}
}

func (v *vfs) OpenFile(vp string, flag int, perm fs.FileMode) (*os.File, error) {
	rel, err := v.resolve(vp, true)
	if err != nil {
		return nil, err
	}
	f, err := v.root.OpenFile(rel, flag, perm)
	if err != nil {
		return nil, v.pathErr(err, vp)
	}
	return f, nil
}

func (v *vfs) ReadFile(vp string) ([]byte, error) {
	rel, err := v.resolve(vp, true)
	if err != nil {
		return nil, err
	}
	b, err := v.root.ReadFile(rel)
	if err != nil {
		return nil, v.pathErr(err, vp)
	}
	return b, nil
}

func (v *vfs) WriteFile(vp string, data []byte, perm fs.FileMode) error {
	rel, err := v.resolve(vp, true)
	if err != nil {
		return err
	}
	if err := v.root.WriteFile(rel, data, perm); err != nil {
		return v.pathErr(err, vp)
	}
	return nil
}

func (v *vfs) Stat(vp string) (fs.FileInfo, error) {
	rel, err := v.resolve(vp, true)
	if err != nil {
		return nil, err
	}
	fi, err := v.root.Stat(rel)
	if err != nil {
		return nil, v.pathErr(err, vp)
	}
	return fi, nil
}

func (v *vfs) Lstat(vp string) (fs.FileInfo, error) {
	rel, err := v.resolve(vp, false)
	if err != nil {
		return nil, err
	}
	fi, err := v.root.Lstat(rel)
	if err != nil {
		return nil, v.pathErr(err, vp)
	}
	return fi, nil
}

// ReadDir lists a directory sorted by name, hiding the simulator's files.
func (v *vfs) ReadDir(vp string) ([]fs.DirEntry, error) {
	rel, err := v.resolve(vp, true)
	if err != nil {
		return nil, err
	}
	f, err := v.root.Open(rel)
	if err != nil {
		return nil, v.pathErr(err, vp)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, v.pathErr(err, vp)
	}
	out := ents[:0]
	for _, e := range ents {
		if rel == "." && (e.Name() == stateFile || e.Name() == lockFile) {
			continue
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out, nil
}

func (v *vfs) Mkdir(vp string, perm fs.FileMode) error {
	return v.op(vp, true, func(rel string) error { return v.root.Mkdir(rel, perm) })
}

func (v *vfs) MkdirAll(vp string, perm fs.FileMode) error {
	return v.op(vp, true, func(rel string) error { return v.root.MkdirAll(rel, perm) })
}

func (v *vfs) Remove(vp string) error {
	return v.op(vp, false, v.root.Remove)
}

func (v *vfs) RemoveAll(vp string) error {
	if clean(vp) == "/" {
		return &fs.PathError{Op: "remove", Path: "/", Err: fs.ErrPermission}
	}
	return v.op(vp, false, v.root.RemoveAll)
}

func (v *vfs) Chmod(vp string, mode fs.FileMode) error {
	return v.op(vp, true, func(rel string) error { return v.root.Chmod(rel, mode) })
}

func (v *vfs) Chtimes(vp string, t time.Time) error {
	return v.op(vp, true, func(rel string) error { return v.root.Chtimes(rel, t, t) })
}

func (v *vfs) Readlink(vp string) (string, error) {
	rel, err := v.resolve(vp, false)
	if err != nil {
		return "", err
	}
	s, err := v.root.Readlink(rel)
	if err != nil {
		return "", v.pathErr(err, vp)
	}
	return s, nil
}

// Symlink stores target verbatim: it is only ever followed by resolve, which
// keeps it inside the root whatever it says.
func (v *vfs) Symlink(target, vlink string) error {
	return v.op(vlink, false, func(rel string) error { return v.root.Symlink(target, rel) })
}

func (v *vfs) Rename(from, to string) error {
	relFrom, err := v.resolve(from, false)
	if err != nil {
		return err
	}
	relTo, err := v.resolve(to, false)
	if err != nil {
		return err
	}
	if err := v.root.Rename(relFrom, relTo); err != nil {
		return v.pathErr(err, to)
	}
	return nil
}

func (v *vfs) op(vp string, follow bool, fn func(rel string) error) error {
	rel, err := v.resolve(vp, follow)
	if err != nil {
		return err
	}
	if err := fn(rel); err != nil {
		return v.pathErr(err, vp)
	}
	return nil
}

func sortEntries(ents []fs.DirEntry) {
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}
