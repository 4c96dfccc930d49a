package guest

import (
	"errors"
	"io/fs"
)

// writeSkeleton creates what a Debian 12 standard template provides and
// the tests and scripts rely on; existing entries are left alone.
func writeSkeleton(v *vfs, hostname string) error {
	dirs := []struct {
		path string
		perm fs.FileMode
	}{
		{"/etc/systemd/system", 0o755}, {"/lib/systemd/system", 0o755}, {"/root", 0o700}, {"/tmp", 0o777},
		{"/var/log", 0o755}, {"/var/tmp", 0o777}, {"/usr/bin", 0o755}, {"/usr/sbin", 0o755},
		{"/usr/local/bin", 0o755}, {"/bin", 0o755}, {"/sbin", 0o755}, {"/home", 0o755},
		{"/dev", 0o755}, {"/run", 0o755}, {"/opt", 0o755}, {"/srv", 0o755},
		{"/etc/apt/sources.list.d", 0o755}, {"/etc/apt/keyrings", 0o755}, {"/etc/apt/trusted.gpg.d", 0o755},
		{"/etc/apt/apt.conf.d", 0o755},
	}
	for _, d := range dirs {
		if err := v.MkdirAll(d.path, d.perm); err != nil {
			return err
		}
	}
	files := []struct {
		path, content string
		perm          fs.FileMode
	}{
		{"/etc/os-release", osRelease, 0o644},
		{"/etc/debian_version", "12.8\n", 0o644},
		{"/etc/hostname", hostname + "\n", 0o644},
		{"/etc/hosts", "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" + hostname + "\n", 0o644},
		{"/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\npostfix:x:100:102::/var/spool/postfix:/usr/sbin/nologin\n", 0o644},
		{"/etc/group", "root:x:0:\ndaemon:x:1:\nsudo:x:27:\nwww-data:x:33:\nusers:x:100:\npostfix:x:102:\nnogroup:x:65534:\n", 0o644},
		{"/etc/shadow", "root:*:20000:0:99999:7:::\n", 0o640},
		{"/etc/resolv.conf", "nameserver 10.10.10.1\n", 0o644},
		{"/etc/apt/sources.list", "deb http://deb.debian.org/debian bookworm main contrib\n\ndeb http://deb.debian.org/debian bookworm-updates main contrib\n\n# security updates\ndeb http://security.debian.org bookworm-security main contrib\n", 0o644},
		{"/root/.bashrc", "# ~/.bashrc: executed by bash(1) for non-login shells.\n", 0o644},
		// Device nodes are plain files so that tests like [ -e /dev/null ]
		// work; opening them is emulated.
		{"/dev/null", "", 0o666}, {"/dev/zero", "", 0o666}, {"/dev/urandom", "", 0o666}, {"/dev/random", "", 0o666},
	}
	for _, f := range files {
		if _, err := v.Lstat(f.path); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := v.WriteFile(f.path, []byte(f.content), f.perm); err != nil {
			return err
		}
	}
	return nil
}

const osRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`
