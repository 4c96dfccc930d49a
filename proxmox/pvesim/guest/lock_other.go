//go:build !unix

package guest

// lockPath is a no-op where flock is unavailable; the Guest's mutex still
// serialises access within one Guest.
func lockPath(string) (unlock func(), err error) { return func() {}, nil }
