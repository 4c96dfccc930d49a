package guest

import "strings"

// pkgSpec says what installing an apt package does inside the sandbox.
type pkgSpec struct {
	version   string
	desc      string
	repo      string            // the third-party repository that ships it (see aptRepos); "" for Debian's own
	depends   []string          // packages apt installs with it
	bins      []string          // stand-in executables
	files     map[string]string // other files it ships; those under /etc are conffiles
	links     map[string]string // symlinks its postinst creates: link -> target
	units     []unitSpec        // services it enables and starts
	questions []debconfQuestion // what it asks debconf
	// configure is what its postinst does with the debconf answers, on
	// install and on dpkg-reconfigure.
	configure func(v *vfs, answer func(question string) string)
}

// unitSpec is a service a package ships: its unit file and what it
// listens on once started.
type unitSpec struct {
	name, desc, exec, proc string
	listen                 []listen
}

func dualStack(port int) []listen {
	return []listen{{"0.0.0.0", port}, {"[::]", port}}
}

func loopback(port int) []listen {
	return []listen{{"127.0.0.1", port}, {"[::1]", port}}
}

// basePackages are part of the container template: dpkg reports them as
// installed, but Installed() lists only what the stand-ins installed.
func basePackage(name string) (pkgSpec, bool) {
	switch name {
	case "bash", "coreutils", "grep", "sed", "tar", "gzip", "findutils", "procps", "iproute2", "systemd",
		"ca-certificates", "perl", "apt", "dpkg", "debconf", "tzdata", "debianutils", "util-linux", "passwd", "login", "wget", "less", "nano":
		return pkgSpec{version: "12.0-1", desc: name + " (part of the container template)"}, true
	case "openssh-server":
		return pkgSpec{version: "1:9.2p1-2+deb12u3", desc: "secure shell (SSH) server", bins: []string{"/usr/sbin/sshd"},
			units: []unitSpec{{"ssh.service", "OpenBSD Secure Shell server", "/usr/sbin/sshd -D", "sshd", dualStack(22)}}}, true
	case "cron":
		return pkgSpec{version: "3.0pl1-162", desc: "process scheduling daemon", bins: []string{"/usr/sbin/cron"},
			units: []unitSpec{{"cron.service", "Regular background program processing daemon", "/usr/sbin/cron -f", "cron", nil}}}, true
	case "postfix":
		return pkgSpec{version: "3.7.11-0+deb12u1", desc: "High-performance mail transport agent", bins: []string{"/usr/lib/postfix/sbin/master"},
			units: []unitSpec{{"postfix.service", "Postfix Mail Transport Agent", "/usr/lib/postfix/sbin/master -w", "master", loopback(25)}}}, true
	case "systemd-sysv":
		return pkgSpec{version: "252.33-1~deb12u1", desc: "system and service manager",
			bins: []string{"/lib/systemd/systemd-journald", "/lib/systemd/systemd-logind", "/sbin/agetty"},
			units: []unitSpec{
				{"systemd-journald.service", "Journal Service", "/lib/systemd/systemd-journald", "systemd-journal", nil},
				{"systemd-logind.service", "User Login Management", "/lib/systemd/systemd-logind", "systemd-logind", nil},
				{"console-getty.service", "Console Getty", "/sbin/agetty -o '-p -- \\u' --noclear --keep-baud - 115200,38400,9600 $TERM", "agetty", nil},
			}}, true
	}
	return pkgSpec{}, false
}

// basePackageNames are installed when a root is first used, in this order.
func basePackageNames() []string {
	return []string{"systemd-sysv", "cron", "openssh-server", "postfix"}
}

// aptPackage describes the packages whose installation has visible effects.
func aptPackage(name string) (pkgSpec, bool) {
	switch name {
	case "nginx", "nginx-light", "nginx-full":
		return pkgSpec{version: "1.22.1-9+deb12u1", desc: "small, powerful, scalable web/proxy server",
			bins: []string{"/usr/sbin/nginx"},
			files: map[string]string{
				"/var/www/html/index.nginx-debian.html": "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n",
				"/etc/nginx/nginx.conf":                 "user www-data;\nworker_processes auto;\npid /run/nginx.pid;\nevents {\n\tworker_connections 768;\n}\nhttp {\n\tinclude /etc/nginx/sites-enabled/*;\n}\n",
				"/etc/nginx/sites-available/default":    "server {\n\tlisten 80 default_server;\n\tlisten [::]:80 default_server;\n\troot /var/www/html;\n\tindex index.html index.htm index.nginx-debian.html;\n\tserver_name _;\n\tlocation / {\n\t\ttry_files $uri $uri/ =404;\n\t}\n}\n",
			},
			links: map[string]string{"/etc/nginx/sites-enabled/default": "/etc/nginx/sites-available/default"},
			units: []unitSpec{{"nginx.service", "A high performance web server and a reverse proxy server",
				"/usr/sbin/nginx -g 'daemon on; master_process on;'", "nginx", dualStack(80)}}}, true
	case "apache2":
		return pkgSpec{version: "2.4.62-1~deb12u2", desc: "Apache HTTP Server", bins: []string{"/usr/sbin/apache2", "/usr/sbin/apachectl"},
			files: map[string]string{"/var/www/html/index.html": "<html><body><h1>It works!</h1></body></html>\n"},
			units: []unitSpec{{"apache2.service", "The Apache HTTP Server", "/usr/sbin/apachectl start", "apache2", []listen{{"*", 80}}}}}, true
	case "postgresql", "postgresql-15":
		return pkgSpec{version: "15+248", desc: "object-relational SQL database",
			bins: []string{"/usr/lib/postgresql/15/bin/postgres", "/usr/bin/psql", "/usr/bin/pg_ctlcluster"},
			units: []unitSpec{{"postgresql.service", "PostgreSQL RDBMS",
				"/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", "postgres", loopback(5432)}}}, true
	case "redis-server", "redis":
		return pkgSpec{version: "5:7.0.15-1~deb12u1", desc: "Persistent key-value database with network interface",
			bins: []string{"/usr/bin/redis-server", "/usr/bin/redis-cli"},
			units: []unitSpec{{"redis-server.service", "Advanced key-value store",
				"/usr/bin/redis-server /etc/redis/redis.conf --supervised systemd --daemonize no", "redis-server", loopback(6379)}}}, true
	case "mariadb-server", "default-mysql-server":
		return pkgSpec{version: "1:10.11.6-0+deb12u1", desc: "MariaDB database server",
			bins:  []string{"/usr/sbin/mariadbd", "/usr/bin/mariadb", "/usr/bin/mysql"},
			units: []unitSpec{{"mariadb.service", "MariaDB 10.11.6 database server", "/usr/sbin/mariadbd", "mariadbd", loopback(3306)[:1]}}}, true
	case "unattended-upgrades":
		return pkgSpec{version: "2.9.1+nmu3", desc: "automatic installation of security upgrades",
			bins: []string{"/usr/bin/unattended-upgrade", "/usr/share/unattended-upgrades/unattended-upgrade-shutdown"},
			files: map[string]string{"/etc/apt/apt.conf.d/50unattended-upgrades": "Unattended-Upgrade::Origins-Pattern {\n" +
				"        \"origin=Debian,codename=${distro_codename},label=Debian\";\n" +
				"        \"origin=Debian,codename=${distro_codename},label=Debian-Security\";\n" +
				"        \"origin=Debian,codename=${distro_codename}-security,label=Debian-Security\";\n};\n"},
			units: []unitSpec{{"unattended-upgrades.service", "Unattended Upgrades Shutdown",
				"/usr/share/unattended-upgrades/unattended-upgrade-shutdown --wait-for-signal", "unattended-upgr", nil}},
			questions: []debconfQuestion{{"unattended-upgrades/enable_auto_updates", "boolean", "false"}},
			configure: configureUnattendedUpgrades}, true
	case "docker.io":
		return pkgSpec{version: "20.10.24+dfsg1-1+deb12u1", desc: "Linux container runtime",
			bins: []string{"/usr/bin/docker", "/usr/sbin/dockerd", "/usr/bin/containerd"},
			units: []unitSpec{
				{"containerd.service", "containerd container runtime", "/usr/bin/containerd", "containerd", nil},
				{"docker.service", "Docker Application Container Engine", "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", "dockerd", nil},
			}}, true
	case "docker-compose":
		return pkgSpec{version: "1.29.2-3", desc: "define and run multi-container Docker applications with YAML (Compose v1)",
			depends: []string{"docker.io"}, bins: []string{"/usr/bin/docker-compose"}}, true
	case "nodejs":
		return pkgSpec{version: "18.19.0+dfsg-6~deb12u2", desc: "evented I/O for V8 javascript - runtime executable", bins: []string{"/usr/bin/node", "/usr/bin/nodejs"}}, true
	case "npm":
		return pkgSpec{version: "9.2.0~ds1-1", desc: "package manager for Node.js", bins: []string{"/usr/bin/npm", "/usr/bin/npx"}}, true
	case "python3":
		return pkgSpec{version: "3.11.2-1+b1", desc: "interactive high-level object-oriented language", bins: []string{"/usr/bin/python3"}}, true
	case "python3-pip":
		return pkgSpec{version: "23.0.1+dfsg-1", desc: "Python package installer", bins: []string{"/usr/bin/pip3", "/usr/bin/pip", "/usr/bin/python3"}}, true
	case "python3-venv":
		return pkgSpec{version: "3.11.2-1+b1", desc: "venv module for python3", bins: []string{"/usr/bin/python3"}}, true
	}
	if spec, ok := dockerPackage(name); ok {
		return spec, true
	}
	for _, b := range commonTools() {
		if name == b {
			return pkgSpec{version: "1.0-1", desc: name, bins: []string{"/usr/bin/" + name}}, true
		}
	}
	for _, b := range commonLibs() {
		if name == b {
			return pkgSpec{version: "1.0-1", desc: name}, true
		}
	}
	for _, prefix := range []string{"lib", "python3-", "fonts-", "php", "ruby-", "golang-", "openjdk-", "node-", "gir1.2-", "linux-headers-"} {
		if strings.HasPrefix(name, prefix) && len(name) > len(prefix)+1 {
			return pkgSpec{version: "1.0-1", desc: name}, true
		}
	}
	return pkgSpec{}, false
}

// commonTools are accepted packages that ship a command of the same name.
func commonTools() []string {
	return []string{
		"curl", "git", "vim", "htop", "jq", "unzip", "zip", "tmux", "zsh", "fish", "tree", "rsync", "make",
		"cmake", "sudo", "sqlite3", "gnupg", "ufw", "certbot", "socat", "lsof", "strace", "screen", "neovim",
		"bat", "fzf", "ripgrep", "fd-find", "ncdu", "btop", "iftop", "gcc", "g++", "golang", "ansible",
		"mosquitto", "haproxy", "caddy", "restic", "borgbackup", "ffmpeg", "imagemagick", "pv", "bc", "dos2unix",
		"whois", "telnet", "netcat-openbsd", "nmap", "tcpdump", "gawk", "mawk", "file", "patch", "xz-utils",
		"bzip2", "acl", "openssl", "gpg", "logrotate", "rsyslog", "fail2ban", "git-lfs", "shellcheck", "yq",
	}
}

// commonLibs are accepted packages without a command of their own name.
func commonLibs() []string {
	return []string{
		"build-essential", "software-properties-common", "apt-transport-https", "lsb-release", "gnupg2",
		"net-tools", "dnsutils", "iputils-ping", "locales", "tzdata", "bash-completion", "man-db",
		"pkg-config", "psmisc", "dirmngr", "debian-keyring", "python-is-python3",
		"default-jre", "default-jdk", "postgresql-contrib", "redis-tools", "mariadb-client", "postgresql-client",
		"nfs-common", "cifs-utils", "avahi-daemon", "wireguard", "wireguard-tools", "qemu-guest-agent",
	}
}

// configureUnattendedUpgrades is the postinst of unattended-upgrades: the
// debconf answer turns the daily apt runs on (or off again, if it had
// been on).
func configureUnattendedUpgrades(v *vfs, answer func(string) string) {
	const conf = "/etc/apt/apt.conf.d/20auto-upgrades"
	on := "1"
	switch answer("unattended-upgrades/enable_auto_updates") {
	case "true":
	case "false":
		if _, err := v.Stat(conf); err != nil {
			return
		}
		on = "0"
	default:
		return
	}
	v.MkdirAll(dirName(conf), 0o755)
	v.WriteFile(conf, []byte("APT::Periodic::Update-Package-Lists \""+on+"\";\nAPT::Periodic::Unattended-Upgrade \""+on+"\";\n"), 0o644)
}

// dockerRepo is Docker's apt repository for Debian (see aptRepos).
const dockerRepo = "docker"

// dockerPackage describes the packages of Docker's own apt repository,
// which apt finds only once that repository is configured and updated.
func dockerPackage(name string) (pkgSpec, bool) {
	const suffix = "-1~debian.12~bookworm"
	switch name {
	case "docker-ce":
		return pkgSpec{version: "5:28.0.1" + suffix, desc: "Docker: the open-source application container engine", repo: dockerRepo,
			depends: []string{"containerd.io", "docker-ce-cli"},
			bins:    []string{"/usr/bin/dockerd", "/usr/bin/docker-proxy"},
			units: []unitSpec{{"docker.service", "Docker Application Container Engine",
				"/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", "dockerd", nil}}}, true
	case "docker-ce-cli":
		return pkgSpec{version: "5:28.0.1" + suffix, desc: "Docker CLI: the open-source application container engine", repo: dockerRepo,
			bins: []string{"/usr/bin/docker"}}, true
	case "containerd.io":
		return pkgSpec{version: "1.7.25-1", desc: "An open and reliable container runtime", repo: dockerRepo,
			bins:  []string{"/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", "/usr/bin/ctr", "/usr/bin/runc"},
			units: []unitSpec{{"containerd.service", "containerd container runtime", "/usr/bin/containerd", "containerd", nil}}}, true
	case "docker-buildx-plugin":
		return pkgSpec{version: "0.21.1" + suffix, desc: "Docker Buildx cli plugin.", repo: dockerRepo,
			bins: []string{"/usr/libexec/docker/cli-plugins/docker-buildx"}}, true
	case "docker-compose-plugin":
		return pkgSpec{version: "2.33.1" + suffix, desc: "Docker Compose (V2) plugin for the Docker CLI.", repo: dockerRepo,
			bins: []string{"/usr/libexec/docker/cli-plugins/docker-compose"}}, true
	case "docker-ce-rootless-extras":
		return pkgSpec{version: "5:28.0.1" + suffix, desc: "Rootless support for Docker.", repo: dockerRepo,
			bins: []string{"/usr/bin/dockerd-rootless.sh", "/usr/bin/dockerd-rootless-setuptool.sh"}}, true
	}
	return pkgSpec{}, false
}
