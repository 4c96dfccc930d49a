package pvesim

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Snapshots, backups and restores copy a container's data directory. The
// guest sandbox may have left symlinks pointing anywhere, so both ends are
// opened as os.Root and links are copied as links, never followed.

// copyTree copies the contents of directory src into dst, creating dst.
func copyTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	sr, err := os.OpenRoot(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a guest nobody used yet has no directory: nothing to copy
	}
	if err != nil {
		return err
	}
	defer sr.Close()
	dr, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer dr.Close()
	return fs.WalkDir(sr.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return dr.Mkdir(rel, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := sr.Readlink(rel)
			if err != nil {
				return err
			}
			return dr.Symlink(target, rel)
		case d.Type().IsRegular():
			return copyFile(sr, dr, rel, info.Mode().Perm())
		}
		return nil // sockets, fifos: not part of a backup
	})
}

func copyFile(sr, dr *os.Root, rel string, mode fs.FileMode) error {
	in, err := sr.Open(rel)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dr.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// replaceTree makes dst's contents a copy of src's, keeping dst itself (a
// running sandbox may hold its path).
func replaceTree(dst, src string) error {
	entries, err := os.ReadDir(dst)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return copyTree(src, dst)
}

// treeSize is the number of bytes in the regular files under dir.
func treeSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
