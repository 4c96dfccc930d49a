package inspect

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"corral/exec"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simtest"
	"corral/store"
)

const ssSample = `State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN 0      128          0.0.0.0:22         0.0.0.0:*     users:(("sshd",pid=101,fd=3))
LISTEN 0      128             [::]:22            [::]:*     users:(("sshd",pid=101,fd=4))
LISTEN 0      511          0.0.0.0:80         0.0.0.0:*     users:(("nginx",pid=200,fd=6),("nginx",pid=201,fd=6))
LISTEN 0      511             [::]:443           [::]:*     users:(("nginx",pid=200,fd=7))
LISTEN 0      4096               *:8080             *:*     users:(("code-server",pid=300,fd=20))
LISTEN 0      100        127.0.0.1:25         0.0.0.0:*     users:(("master",pid=400,fd=13))
LISTEN 0      100            [::1]:25            [::]:*     users:(("master",pid=400,fd=14))
LISTEN 0      4096   127.0.0.53%lo:53         0.0.0.0:*     users:(("systemd-resolve",pid=500,fd=14))
LISTEN 0      128              :::3000            :::*      users:(("node",pid=600,fd=18))
LISTEN 0      128  [::ffff:127.0.0.1]:9000       [::]:*     users:(("php",pid=700,fd=5))
LISTEN 0      128      10.0.0.5:5432          0.0.0.0:*     users:(("postgres",pid=800,fd=5))
LISTEN 0      128      [fe80::1%eth0]:7000      [::]:*
`

func TestParseListeners(t *testing.T) {
	got := ParseListeners(ssSample)
	want := map[int][]int{101: {22}, 200: {80, 443}, 201: {80}, 300: {8080}, 600: {3000}, 800: {5432}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseListeners:\n got %v\nwant %v", got, want)
	}
}

func TestListenPort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		port int
		ok   bool
	}{
		{"[::]:8443", 8443, true},
		{":::22", 22, true},
		{"*:80", 80, true},
		{"0.0.0.0:1", 1, true},
		{"192.168.1.5:8006", 8006, true},
		{"127.0.0.1:25", 0, false},
		{"[::1]:25", 0, false},
		{"0.0.0.0:*", 0, false},
		{"0.0.0.0:70000", 0, false},
		{"garbage", 0, false},
	} {
		port, ok := listenPort(tc.in)
		if port != tc.port || ok != tc.ok {
			t.Errorf("listenPort(%q) = %d, %v; want %d, %v", tc.in, port, ok, tc.port, tc.ok)
		}
	}
}

func TestParseUnits(t *testing.T) {
	out := "  cron.service        loaded active running Regular background program processing daemon\n" +
		"● broken.service      loaded failed failed  Broken\n" +
		"nginx.service loaded active running A high performance web server\n" +
		"code-server@coder.service loaded active running code-server\n" +
		"systemd-journald.socket loaded active running Journal Socket\n" +
		"--evil.service loaded active running x\n" +
		"nginx.service loaded active running duplicate\n\n"
	got := ParseUnits(out)
	want := []string{"cron.service", "broken.service", "nginx.service", "code-server@coder.service"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseUnits = %q, want %q", got, want)
	}
}

func TestParseCredentials(t *testing.T) {
	got := ParseCredentials("# saved by save_credential\nUSER = admin\nPASSWORD=s3cr=et\nnoequals\n=novalue\n\nUSER=root\n")
	want := []Credential{{"USER", "root"}, {"PASSWORD", "s3cr=et"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseCredentials = %v, want %v", got, want)
	}
}

func TestParseDiscovery(t *testing.T) {
	out := markUnits + "\n" +
		"cron.service loaded active running cron\n" +
		"ssh.service loaded active running OpenBSD Secure Shell server\n" +
		"nginx.service loaded active running nginx\n" +
		"code-server@coder.service loaded active running code-server\n" +
		markSS + "\n" + ssSample +
		markPIDs + "\n" +
		"cron.service 90 \n" +
		"ssh.service 101 \n" +
		"nginx.service 200 201 \n" +
		"code-server@coder.service 299 300 \n" +
		markCreds + "\n" +
		markFile + "code-server\nPASSWORD=abc\n\n" +
		markFile + "grafana\nUSER=admin\nPASSWORD=x\n\n" +
		markFile + "empty\n# nothing\n\n" +
		markFile + "../etc/passwd\nroot=x\n\n"
	got := parseDiscovery(out)
	want := []store.Service{
		{Name: "code-server@coder", Unit: "code-server@coder.service", Status: "running", Ports: []int{8080}, CredentialKeys: []string{"PASSWORD"}, CredentialFile: "code-server"},
		{Name: "grafana", CredentialKeys: []string{"USER", "PASSWORD"}, CredentialFile: "grafana"},
		{Name: "nginx", Unit: "nginx.service", Status: "running", Ports: []int{80, 443}},
		{Name: "cron", Unit: "cron.service", Status: "running", System: true},
		{Name: "ssh", Unit: "ssh.service", Status: "running", Ports: []int{22}, System: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseDiscovery:\n got %+v\nwant %+v", got, want)
	}
}

// TestParseDiscoveryPlacesCredentials: credentials saved under a package's
// name go to its unit (issue 14, bug 11: `save_credential redis ...` showed
// a "redis - stopped" service next to the running redis-server); a stopped
// installed unit keeps its own; what belongs to no unit is no service.
func TestParseDiscoveryPlacesCredentials(t *testing.T) {
	out := markUnits + "\n" +
		"redis-server.service loaded active running Advanced key-value store\n" +
		"redis-sentinel.service loaded active running sentinel\n" +
		"php8.2-fpm.service loaded active running PHP FastCGI\n" +
		"mariadb.service loaded active running MariaDB\n" +
		"ssh.service loaded active running OpenBSD Secure Shell server\n" +
		markFiles + "\n" +
		"redis-server.service enabled enabled\n" +
		"redis-sentinel.service enabled enabled\n" +
		"php8.2-fpm.service enabled enabled\n" +
		"mariadb.service enabled enabled\n" +
		"myapp.service disabled enabled\n" +
		"gitea-runner.service disabled enabled\n" +
		"getty@.service enabled enabled\n" +
		"ssh.service enabled enabled\n" +
		markSS + "\n" +
		"LISTEN 0 511 0.0.0.0:6379 0.0.0.0:* users:((\"redis-server\",pid=10,fd=6))\n" +
		"LISTEN 0 511 0.0.0.0:26379 0.0.0.0:* users:((\"redis-sentinel\",pid=11,fd=6))\n" +
		markPIDs + "\n" +
		"redis-server.service 10\nredis-sentinel.service 11\nphp8.2-fpm.service 12\nmariadb.service 13\nssh.service 14\n" +
		markCreds + "\n" +
		markFile + "redis\nREDIS_PASSWORD=x\n\n" +
		markFile + "php\nADMIN=x\n\n" +
		markFile + "mariadb\nROOT_PASSWORD=x\n\n" +
		markFile + "myapp\nTOKEN=x\n\n" +
		markFile + "gitea\nADMIN_PASSWORD=x\n\n" +
		markFile + "wordpress\nWP_ADMIN=x\n\n" +
		markFile + "re\nX=y\n\n" +
		markFile + "getty\nX=y\n\n"
	got := parseDiscovery(out)
	want := []store.Service{
		{Name: "getty", CredentialKeys: []string{"X"}, CredentialFile: "getty"},
		{Name: "gitea-runner", Unit: "gitea-runner.service", Status: "stopped", CredentialKeys: []string{"ADMIN_PASSWORD"}, CredentialFile: "gitea"},
		{Name: "mariadb", Unit: "mariadb.service", Status: "running", CredentialKeys: []string{"ROOT_PASSWORD"}, CredentialFile: "mariadb"},
		{Name: "myapp", Unit: "myapp.service", Status: "stopped", CredentialKeys: []string{"TOKEN"}, CredentialFile: "myapp"},
		{Name: "php8.2-fpm", Unit: "php8.2-fpm.service", Status: "running", CredentialKeys: []string{"ADMIN"}, CredentialFile: "php"},
		{Name: "re", CredentialKeys: []string{"X"}, CredentialFile: "re"},
		{Name: "redis-sentinel", Unit: "redis-sentinel.service", Status: "running", Ports: []int{26379}},
		{Name: "redis-server", Unit: "redis-server.service", Status: "running", Ports: []int{6379}, CredentialKeys: []string{"REDIS_PASSWORD"}, CredentialFile: "redis"},
		{Name: "wordpress", CredentialKeys: []string{"WP_ADMIN"}, CredentialFile: "wordpress"},
		{Name: "ssh", Unit: "ssh.service", Status: "running", System: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseDiscovery:\n got %+v\nwant %+v", got, want)
	}
}

func TestValidServiceName(t *testing.T) {
	for _, ok := range []string{"nginx", "code-server@coder", "php8.2-fpm", "a_b", "x.service"} {
		if err := ValidServiceName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-u", ".hidden", "a b", "a;b", "../x", "x/y", "a..b", "$(id)", strings.Repeat("a", 129)} {
		if err := ValidServiceName(bad); !errors.Is(err, ErrBadServiceName) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestDiscoverInSim runs the real probe in a simulated container: nginx from
// apt (IPv4 and [::] listeners), ssh as a system service, and a credential
// file written the way save_credential does.
func TestDiscoverInSim(t *testing.T) {
	sim := simtest.TwoHosts(t)
	node := sim.Node("pve1")
	h, err := exec.Dial(t.Context(), target(t, node))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var out strings.Builder
	code, err := h.Pct(t.Context(), exec.PctRequest{VMID: 105, Argv: []string{"bash", "-c", "apt-get install -y nginx openssh-server redis"}, Stdout: &out, Stderr: &out})
	if err != nil || code != 0 {
		t.Fatalf("install: %d %v\n%s", code, err, out.String())
	}
	dir := filepath.Join(node.ContainerDir(105), CredentialDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx"), []byte("USER=admin\nPASSWORD=hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Saved under the package's name, not the unit's (issue 14, bug 11).
	if err := os.WriteFile(filepath.Join(dir, "redis"), []byte("REDIS_PASSWORD=s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	found, err := Discover(t.Context(), h, 105)
	if err != nil || found.Truncated {
		t.Fatal(found.Truncated, err)
	}
	svcs := found.Services
	byName := map[string]store.Service{}
	for _, s := range svcs {
		byName[s.Name] = s
	}
	ng, ok := byName["nginx"]
	if !ok || ng.System || !reflect.DeepEqual(ng.Ports, []int{80}) || !reflect.DeepEqual(ng.CredentialKeys, []string{"USER", "PASSWORD"}) {
		t.Fatalf("nginx = %+v (all: %+v)", ng, svcs)
	}
	if s, ok := byName["ssh"]; !ok || !s.System || !reflect.DeepEqual(s.Ports, []int{22}) {
		t.Fatalf("ssh = %+v (all: %+v)", s, svcs)
	}
	if svcs[0].System {
		t.Fatalf("system service listed first: %+v", svcs)
	}
	if r, ok := byName["redis-server"]; !ok || r.Status != "running" || r.CredentialFile != "redis" || !reflect.DeepEqual(r.CredentialKeys, []string{"REDIS_PASSWORD"}) {
		t.Fatalf("redis-server = %+v (all: %+v)", r, svcs)
	}
	if r, ok := byName["redis"]; ok {
		t.Fatalf("the credential file shows as a service of its own: %+v", r)
	}

	creds, err := Credentials(t.Context(), h, 105, "nginx")
	if err != nil || creds.Truncated || !reflect.DeepEqual(creds.Entries, []Credential{{"USER", "admin"}, {"PASSWORD", "hunter2"}}) {
		t.Fatalf("Credentials = %v, %v", creds, err)
	}
	logs, err := ServiceLogs(t.Context(), h, 105, "nginx", 500)
	if err != nil || len(logs.Lines) == 0 || logs.Truncated {
		t.Fatalf("ServiceLogs = %+v, %v", logs, err)
	}
	if _, err := ServiceLogs(t.Context(), h, 105, "-all", 10); !errors.Is(err, ErrBadServiceName) {
		t.Fatalf("bad name: %v", err)
	}
	// A stopped container: pct refuses, and the error says why.
	_, err = Discover(t.Context(), h, 106)
	var ce *exec.CommandError
	if !errors.As(err, &ce) || ce.Code == 0 || ce.Stderr == "" {
		t.Fatalf("discover in stopped CT: %v", err)
	}
}

func FuzzParseListeners(f *testing.F) {
	f.Add(ssSample)
	f.Add("LISTEN 0 1 [::]:1 [::]:* users:((\"x\",pid=1,fd=1))")
	f.Add("LISTEN 0 1 :::: x pid=")
	f.Fuzz(func(t *testing.T, s string) {
		for pid, ports := range ParseListeners(s) {
			if pid <= 0 || len(ports) == 0 {
				t.Fatalf("pid %d ports %v", pid, ports)
			}
			for i, p := range ports {
				if p <= 0 || p > 65535 || i > 0 && ports[i-1] >= p {
					t.Fatalf("ports %v", ports)
				}
			}
		}
	})
}

func FuzzParseUnits(f *testing.F) {
	f.Add("  cron.service loaded active running x\n● a@b.service loaded failed failed y\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, u := range ParseUnits(s) {
			if !strings.HasSuffix(u, ".service") || ValidServiceName(u) != nil {
				t.Fatalf("unit %q", u)
			}
		}
	})
}

func FuzzParseCredentials(f *testing.F) {
	f.Add("USER=admin\nPASSWORD = a=b\n#c\n=x\n")
	f.Fuzz(func(t *testing.T, s string) {
		seen := map[string]bool{}
		for _, c := range ParseCredentials(s) {
			if c.Key == "" || seen[c.Key] || strings.ContainsAny(c.Key+c.Value, "\n") {
				t.Fatalf("credential %+v", c)
			}
			seen[c.Key] = true
		}
	})
}

func FuzzParseDiscovery(f *testing.F) {
	f.Add(markUnits + "\nx.service a b c\n" + markSS + "\n" + ssSample + markPIDs + "\nx.service 101\n" + markCreds + "\n" + markFile + "x\nA=b\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, svc := range parseDiscovery(s) {
			if svc.Name == "" || ValidServiceName(svc.Name) != nil {
				t.Fatalf("service %+v", svc)
			}
		}
	})
}

// TestCappedReadsInSim reads a huge credential file and one that links to
// /dev/zero in a simulated container: each read stops at MaxOutput and says
// it was cut, instead of holding the whole stream (or never ending).
func TestCappedReadsInSim(t *testing.T) {
	sim := simtest.TwoHosts(t)
	node := sim.Node("pve1")
	h, err := exec.Dial(t.Context(), target(t, node))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	dir := filepath.Join(node.ContainerDir(105), CredentialDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("KEY=0123456789abcdef\n"), (8<<20)/21)
	if err := os.WriteFile(filepath.Join(dir, "big"), append([]byte("FIRST=yes\n"), big...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero")); err != nil {
		t.Fatal(err)
	}

	creds, err := Credentials(t.Context(), h, 105, "big")
	if err != nil || !creds.Truncated || len(creds.Entries) != 2 || creds.Entries[0] != (Credential{"FIRST", "yes"}) {
		t.Fatalf("big file: %+v %v", creds, err)
	}
	creds, err = Credentials(t.Context(), h, 105, "zero")
	if err != nil || !creds.Truncated || len(creds.Entries) != 0 {
		t.Fatalf("/dev/zero: %+v %v", creds, err)
	}
	// Discovery reads every credential file: cut, with the units it read.
	found, err := Discover(t.Context(), h, 105)
	if err != nil || !found.Truncated {
		t.Fatalf("discover: %+v %v", found, err)
	}
	// The host connection still works after the stopped commands.
	creds, err = Credentials(t.Context(), h, 105, "missing")
	var ce *exec.CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("a missing file afterwards: %+v %v", creds, err)
	}
}

// target is how Corral reaches n's host: root, password, pinned key.
func target(t testing.TB, n *pvesim.Node) exec.HostTarget {
	t.Helper()
	l := simtest.SSHLogin(t, n)
	return exec.HostTarget{Host: l.Host, Port: l.Port, User: l.User, Password: l.Password, HostKey: l.HostKey}
}
