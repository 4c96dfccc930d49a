//go:build unix

package guest

import (
	"os"
	"syscall"
)

// lockPath takes an exclusive flock on path, creating it if needed. flock
// locks belong to the open file, so two Guests on the same root in one
// process exclude each other as well as separate processes do.
func lockPath(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
