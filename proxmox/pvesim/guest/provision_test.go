package guest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpers is a trimmed copy of the helper environment the provisioning
// pipeline sources before every script.
const helpers = `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
log_info() { printf '[%s] [%-7s] %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" INFO "$*"; }
. /etc/os-release
CONTAINER_OS="${ID:-unknown}"
CONTAINER_OS_VERSION="${VERSION_ID:-unknown}"
CONTAINER_USER="$(getent passwd 1000 | cut -d: -f1 || true)"
is_installed() { command -v "$1" >/dev/null 2>&1; }
generate_password() { tr -dc 'a-zA-Z0-9' </dev/urandom | head -c "${1:-16}"; }
save_credential() {
  local dir=/etc/infrahaus/credentials file
  mkdir -p "$dir"; file="$dir/$1"; touch "$file"
  if grep -q "^$2=" "$file"; then sed -i "s|^$2=.*|$2=$3|" "$file"; else echo "$2=$3" >> "$file"; fi
  chmod 600 "$file"
}
`

const appScript = `set -euo pipefail
log_info "Setting up myapp on $CONTAINER_OS $CONTAINER_OS_VERSION"
useradd -m -s /bin/bash coder
mkdir -p /opt/myapp
cat > /opt/myapp/run.sh <<'END'
#!/bin/bash
exec node /opt/myapp/server.js
END
chmod +x /opt/myapp/run.sh
chown -R coder:coder /opt/myapp
apt-get update -qq && apt-get install -y -qq nginx curl
is_installed nginx || exit 9
npm install -g pm2
pip install --quiet flask
cat > /etc/systemd/system/myapp.service <<END
[Unit]
Description=My App
After=network.target

[Service]
User=coder
Environment=PORT=3000 NODE_ENV=production
ExecStart=/opt/myapp/run.sh
Restart=always

[Install]
WantedBy=multi-user.target
END
systemctl daemon-reload && systemctl enable --now myapp
save_credential myapp MYAPP_PASSWORD "$(generate_password 20)"
save_credential myapp MYAPP_USER admin
cat > /root/credentials.txt <<END
user=admin
END
log_info "done as $CONTAINER_USER"
`

func TestProvisioning(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ct")
	g, err := New(root, "ct101")
	if err != nil {
		t.Fatal(err)
	}
	// What pct push does: files land in the root from the host side.
	for name, content := range map[string]string{"tmp/script-helpers.sh": helpers, "tmp/10-app.sh": appScript} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := execArgv(t, g, []string{"bash", "-c", "source /tmp/script-helpers.sh; source '/tmp/10-app.sh'"}, "")
	if code != 0 {
		t.Fatalf("provisioning exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !regexp.MustCompile(`(?m)^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[INFO   \] Setting up myapp on debian 12$`).MatchString(out) {
		t.Errorf("log line missing:\n%s", out)
	}
	// The helpers are sourced per script, so the user appears for the next.
	if got := mustSh(t, g, "source /tmp/script-helpers.sh; echo $CONTAINER_USER"); got != "coder\n" {
		t.Errorf("CONTAINER_USER = %q", got)
	}
	if !strings.Contains(errOut, "Created symlink /etc/systemd/system/multi-user.target.wants/myapp.service → /etc/systemd/system/myapp.service.") {
		t.Errorf("enable message missing:\n%s", errOut)
	}

	// Discovery, exactly as the pipeline runs it.
	units := mustSh(t, g, "systemctl list-units --type=service --state=running --no-pager --no-legend")
	var running []string
	for _, l := range strings.Split(strings.TrimSpace(units), "\n") {
		running = append(running, strings.Fields(l)[0])
	}
	for _, want := range []string{"myapp.service", "nginx.service", "ssh.service", "cron.service"} {
		if !slices.Contains(running, want) {
			t.Errorf("list-units misses %s:\n%s", want, units)
		}
	}
	if !regexp.MustCompile(`(?m)^  myapp\.service +loaded active running My App$`).MatchString(units) {
		t.Errorf("list-units row format:\n%s", units)
	}
	plain := mustSh(t, g, "systemctl list-units --type=service --state=running --no-pager --plain --no-legend")
	if !regexp.MustCompile(`(?m)^nginx\.service +loaded active running A high performance web server`).MatchString(plain) {
		t.Errorf("--plain format:\n%s", plain)
	}
	mainPID := strings.TrimSpace(mustSh(t, g, "systemctl show -p MainPID --value myapp"))
	ss := mustSh(t, g, "ss -tlnp")
	if !strings.HasPrefix(ss, "State  Recv-Q Send-Q") {
		t.Errorf("ss header:\n%s", ss)
	}
	ports := map[string]string{}
	re := regexp.MustCompile(`(?:0\.0\.0\.0|\*|:::):(\d+)\s.*?pid=(\d+)`)
	for _, l := range strings.Split(ss, "\n")[1:] {
		if m := re.FindStringSubmatch(l); m != nil {
			ports[m[2]] = m[1]
		}
	}
	if ports[mainPID] != "3000" {
		t.Errorf("pid %s not on port 3000: %v\n%s", mainPID, ports, ss)
	}
	ssH := mustSh(t, g, "ss -tlnpH")
	for _, want := range []string{`0.0.0.0:80 `, `[::]:80 `, `users:(("nginx",pid=`, `0.0.0.0:3000 `, `users:(("run.sh",pid=` + mainPID + `,fd=`} {
		if !strings.Contains(ssH, want) {
			t.Errorf("ss -tlnpH misses %q:\n%s", want, ssH)
		}
	}
	if strings.HasPrefix(ssH, "State") {
		t.Errorf("ss -H printed a header")
	}
	journal := mustSh(t, g, "journalctl -u myapp.service -n 50 --no-pager --output=short")
	if !regexp.MustCompile(`(?m)^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d ct101 systemd\[1\]: Started myapp\.service - My App\.$`).MatchString(journal) {
		t.Errorf("journal:\n%s", journal)
	}
	creds := mustSh(t, g, "ls /etc/infrahaus/credentials/ && cat /etc/infrahaus/credentials/myapp && stat -c %a /etc/infrahaus/credentials/myapp")
	if !regexp.MustCompile(`^myapp\nMYAPP_PASSWORD=[a-zA-Z0-9]{20}\nMYAPP_USER=admin\n600\n$`).MatchString(creds) {
		t.Errorf("credentials:\n%s", creds)
	}
	if got := mustSh(t, g, "cat /root/credentials.txt; stat -c %U /opt/myapp/run.sh"); got != "user=admin\ncoder\n" {
		t.Errorf("files: %q", got)
	}

	check := func(g *Guest) {
		t.Helper()
		inst := g.Installed()
		for mgr, want := range map[string][]string{"apt": {"curl", "nginx"}, "npm": {"pm2"}, "pip": {"flask"}} {
			if !slices.Equal(inst[mgr], want) {
				t.Errorf("Installed()[%s] = %v, want %v", mgr, inst[mgr], want)
			}
		}
		svcs := map[string]Service{}
		for _, s := range g.Services() {
			svcs[s.Name] = s
		}
		if s := svcs["myapp.service"]; s.Active != "active" || !s.Enabled || !slices.Equal(s.Ports, []int{3000}) {
			t.Errorf("myapp: %+v", s)
		}
		if s := svcs["nginx.service"]; s.Active != "active" || !slices.Equal(s.Ports, []int{80}) {
			t.Errorf("nginx: %+v", s)
		}
	}
	check(g)
	// A Guest made afresh on the same root sees the same container.
	g2, err := New(root, "ct101")
	if err != nil {
		t.Fatal(err)
	}
	check(g2)
	if out, _, code := execArgv(t, g2, []string{"systemctl", "is-active", "myapp"}, ""); out != "active\n" || code != 0 {
		t.Errorf("is-active: %q %d", out, code)
	}
	if got := mustSh(t, g2, "dpkg-query -W -f '${Status}' nginx; pip show flask | head -1; npm ls -g | tail -1; test -f /var/www/html/index.nginx-debian.html && echo page"); got != "install ok installedName: flask\n└── pm2@1.0.0\npage\n" {
		t.Errorf("package queries: %q", got)
	}

	status, _, code := sh(t, g2, "systemctl status myapp --no-pager")
	if code != 0 || !strings.HasPrefix(status, "● myapp.service - My App\n     Loaded: loaded (/etc/systemd/system/myapp.service; enabled; preset: enabled)\n     Active: active (running) since ") || !strings.Contains(status, "Main PID: "+mainPID+" (run.sh)") {
		t.Errorf("status %d:\n%s", code, status)
	}

	// Stopping takes the port away and is journalled.
	mustSh(t, g2, "systemctl stop myapp")
	if ss := mustSh(t, g2, "ss -tlnpH"); strings.Contains(ss, ":3000") {
		t.Errorf("port 3000 still listed after stop:\n%s", ss)
	}
	if out, _, code := sh(t, g2, "systemctl is-active myapp"); out != "inactive\n" || code != 3 {
		t.Errorf("is-active after stop: %q %d", out, code)
	}
	if j := mustSh(t, g2, "journalctl -u myapp -n 1 --no-pager -o cat"); j != "Stopped myapp.service.\n" {
		t.Errorf("journal after stop: %q", j)
	}
}

func TestUnitFailure(t *testing.T) {
	g := newGuest(t)
	mustSh(t, g, `printf '[Unit]\nDescription=Broken\n[Service]\nExecStart=/opt/missing/bin --port 8080\n' > /etc/systemd/system/broken.service`)
	_, errOut, code := sh(t, g, "systemctl enable --now broken")
	if code != 1 || !strings.Contains(errOut, `Job for broken.service failed because the control process exited with error code.`) {
		t.Errorf("start: %d %q", code, errOut)
	}
	if out, _, code := sh(t, g, "systemctl is-active broken"); out != "failed\n" || code != 3 {
		t.Errorf("is-active: %q %d", out, code)
	}
	j := mustSh(t, g, "journalctl -u broken --no-pager")
	for _, want := range []string{"broken.service: Failed to locate executable /opt/missing/bin: No such file or directory", "status=203/EXEC", "Failed to start broken.service - Broken."} {
		if !strings.Contains(j, want) {
			t.Errorf("journal misses %q:\n%s", want, j)
		}
	}
	// Once the binary exists, the port comes from --port.
	mustSh(t, g, `mkdir -p /opt/missing && printf '#!/bin/sh\n' > /opt/missing/bin && chmod +x /opt/missing/bin && systemctl restart broken`)
	if ss := mustSh(t, g, "ss -tlnH"); !strings.Contains(ss, "0.0.0.0:8080 ") || strings.Contains(ss, "users:") {
		t.Errorf("ss -tlnH:\n%s", ss)
	}
}

func TestAptInstallServices(t *testing.T) {
	g := newGuest(t)
	mustSh(t, g, "apt-get install -y postgresql redis-server mariadb-server docker.io openssh-server")
	want := map[string][]int{"postgresql.service": {5432}, "redis-server.service": {6379}, "mariadb.service": {3306}, "docker.service": nil, "ssh.service": {22}}
	got := map[string]Service{}
	for _, s := range g.Services() {
		got[s.Name] = s
	}
	for name, ports := range want {
		if s, ok := got[name]; !ok || s.Active != "active" || !slices.Equal(s.Ports, ports) {
			t.Errorf("%s: %+v, want ports %v", name, s, ports)
		}
	}
	ss := mustSh(t, g, "ss -tlnH")
	for _, l := range []string{"127.0.0.1:5432 ", "127.0.0.1:6379 ", "127.0.0.1:3306 "} {
		if !strings.Contains(ss, l) {
			t.Errorf("ss misses %s:\n%s", l, ss)
		}
	}
	if inst := g.Installed()["apt"]; !slices.Equal(inst, []string{"docker.io", "mariadb-server", "postgresql", "redis-server"}) {
		t.Errorf("apt: %v", inst)
	}
}
