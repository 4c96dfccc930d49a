package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// BindMount is a host directory mounted into a container as mp[Index].
// Proxmox lets only root@pam set host paths (an API token gets "mount
// point type bind is only allowed for root@pam"), so Corral sets them with
// `pct set` on the host, like feature flags.
type BindMount struct {
	Index    int    // n of mp[n], 0-255
	HostPath string // directory on the Proxmox host, e.g. /srv/media
	Path     string // where it appears inside the container, e.g. /media
	ReadOnly bool
}

// safePath is what may appear in a mount point: it goes into a property
// string (no ',' or '=') and a shell command (nothing the shell reads).
var safePath = regexp.MustCompile(`^/[A-Za-z0-9._+@/-]*$`)

// hostSystemDirs may not be bind-mounted: handing a container the host's
// own system (or Proxmox's cluster files) would give it the host.
var hostSystemDirs = []string{"/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run",
	"/sbin", "/sys", "/usr", "/var/lib/vz", "/var/lib/pve-cluster"}

// Errors of BindMount.Validate, in words a user can act on.
var (
	ErrBindIndex    = errors.New("the mount point number must be between 0 and 255")
	ErrBindHostPath = errors.New("the host path must be an absolute directory path such as /srv/media, using only letters, digits and . _ + @ - /")
	ErrBindHostDir  = errors.New("the host path is a system directory of the Proxmox host; choose a data directory such as /srv/… or /mnt/…")
	ErrBindPath     = errors.New("the path in the container must be absolute, such as /media, using only letters, digits and . _ + @ - /, and not /")
)

// Validate checks both paths before anything is sent to the host.
func (b BindMount) Validate() error {
	if b.Index < 0 || b.Index > 255 {
		return ErrBindIndex
	}
	if !cleanAbsolute(b.HostPath) || b.HostPath == "/" {
		return ErrBindHostPath
	}
	for _, d := range hostSystemDirs {
		if b.HostPath == d || strings.HasPrefix(b.HostPath, d+"/") {
			return ErrBindHostDir
		}
	}
	if !cleanAbsolute(b.Path) || b.Path == "/" {
		return ErrBindPath
	}
	return nil
}

// cleanAbsolute reports whether p is absolute, made of safe characters
// and already clean (no "//", ".", ".." or trailing "/").
func cleanAbsolute(p string) bool {
	return len(p) <= 4096 && safePath.MatchString(p) && path.Clean(p) == p
}

// Value is the mp[n] value Proxmox stores: "/srv/media,mp=/media,ro=1".
func (b BindMount) Value() string {
	v := b.HostPath + ",mp=" + b.Path
	if b.ReadOnly {
		v += ",ro=1"
	}
	return v
}

// Command is the pct set command that SetBindMount sends, to show it before
// it is run.
func (b BindMount) Command(vmid int) (string, error) {
	if vmid < minVMID || vmid > maxVMID {
		return "", fmt.Errorf("%w: VMID %d out of range", ErrBadArgument, vmid)
	}
	if err := b.Validate(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadArgument, err)
	}
	return "pct set " + strconv.Itoa(vmid) + " --mp" + strconv.Itoa(b.Index) + " " + b.Value(), nil
}

// SetBindMount runs `pct set VMID --mpN HOST,mp=PATH[,ro=1]` and returns
// its exit code. A running container gets the mount at once, and pct fails
// (255, "directory '…' does not exist") when the host directory is
// missing; a stopped one is checked at its next start.
func (h *Host) SetBindMount(ctx context.Context, vmid int, b BindMount, stdout, stderr io.Writer) (int, error) {
	cmd, err := b.Command(vmid)
	if err != nil {
		return -1, fmt.Errorf("exec: pct set: %w", err)
	}
	return h.run(ctx, cmd, runIO{stdout: stdout, stderr: stderr})
}
