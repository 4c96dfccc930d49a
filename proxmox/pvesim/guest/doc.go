// Package guest is the inside of a simulated LXC container: what runs when
// the simulator handles `pct exec VMID -- CMD...` or `pct enter VMID`.
//
// # Mechanism
//
// A container is a directory on the host (its root file system) plus a
// hidden state file in it. Commands are not processes: shell code runs in
// an in-process POSIX/Bash interpreter (mvdan.cc/sh/v3/interp) whose
// handlers are all replaced:
//
//   - Files. Every path the interpreter or a command touches is a container
//     path, cleaned lexically (so ".." stops at "/") and resolved by vfs,
//     which follows symlinks itself, reading absolute targets relative to
//     the container root as chroot does, with the kernel's 40-hop limit.
//     The resulting symlink-free name is opened through an os.Root, which
//     refuses anything that would still leave the directory, e.g. a link
//     swapped in between the two steps. Error messages name container
//     paths only. The state file is hidden and refused.
//   - Programs. The exec handler never starts a host process. It runs a Go
//     implementation (cat, ls, grep, sed, apt-get, systemctl, ss, ...; see
//     lookup), a nested interpreter for bash/sh, or a shell script found in
//     the root (on PATH or by path). A #! naming another interpreter that
//     exists in the root counts as run successfully: it is a stand-in.
//   - Builtins that would consult the host (`command -v`, `type`, `pwd -P`)
//     are rerouted to versions that look inside the root.
//
// Package managers are stand-ins that record what was installed. apt-get
// knows a small catalogue: installing nginx, postgresql, redis-server,
// mariadb-server, docker.io, docker-ce, unattended-upgrades or
// openssh-server writes stub executables, files and unit files and starts
// their services with the ports a real install would listen on; other
// plausible names are only recorded and unknown names fail like apt ("E:
// Unable to locate package X", exit 100). apt reads its sources
// (sources.list, sources.list.d/*.list and *.sources) and reaches a
// built-in mirror of Debian 12 and of Docker's repository, nothing else:
// Docker's packages (docker-ce, docker-ce-cli, containerd.io,
// docker-buildx-plugin, docker-compose-plugin) are found only after that
// repository was added with a Signed-By key and apt-get update ran, as on a
// real system; dependencies come along. Configuration files a package
// ships under /etc are conffiles: one the system already has is dpkg's
// question, which fails for want of a terminal unless apt passed dpkg
// --force-confold or --force-confdef (then it is kept, the package's
// version lands beside it as .dpkg-dist). debconf is a database in the
// state: debconf-set-selections fills it, a package's postinst acts on its
// answers at install and at dpkg-reconfigure (which never asks, whatever
// the frontend), and debconf-show lists them. Some stubs answer like their
// program: docker (versions, plugins, info with --format, an engine
// without images that cannot pull for lack of network) and nginx (-t
// finds a missing file or two default servers on one address).
// npm and pip record names. systemd is modelled by unit files under
// /etc/systemd/system and /lib/systemd/system plus per-unit state: a started
// unit gets a PID and the ports from the catalogue, Environment=PORT=N, or
// --port N/--port=N/-p N in ExecStart; a unit whose ExecStart binary is
// missing fails with journal entries like systemd's. ss, journalctl and
// systemctl answer from that state in the formats of iproute2 6.1 and
// systemd 252 (Debian 12); journalctl -f keeps printing new entries until
// the command is interrupted.
//
// State that is not a file (packages, units, journal, file owners, the
// address, debconf answers, the apt lists fetched) is JSON in /.pvesim-state.json inside the root, read and written
// under the Guest's mutex and an flock, so concurrent Exec calls and Guests
// re-created on the same root agree.
//
// # Limits
//
// What a real container does that this does not: no real processes, so
// nothing listens on a socket, nothing runs in the background after a
// command returns, and services never crash on their own; no network
// beyond apt's mirror (curl and wget fail with "Network is unreachable"); no users or
// permissions beyond a record of owners (everything runs as root, chown
// only records); hard links are copies; only the listed commands exist,
// each with the flags provisioning scripts use (no awk, find, tar, python,
// node); /dev and /proc are not real (/dev/null, /dev/zero, /dev/urandom,
// /dev/stdout and /dev/stderr are emulated, also through a symlink, but
// test -f still calls them regular files); `command -v` sees functions of
// the top-level shell only; in the interactive shell, input typed while a
// command runs goes to that command even if it never reads it. Process
// substitution (<(...)) uses a named pipe
// the interpreter creates in the host's temporary directory.
package guest
