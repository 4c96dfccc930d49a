package guest

import (
	"slices"
	"strings"
	"testing"
)

// dockerKeyStandIn is enough of an armored key for the mirror; the real
// key ships with the Docker host template.
const dockerKeyStandIn = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBFit2ioBEADhWpZ8\n-----END PGP PUBLIC KEY BLOCK-----\n"

// dockerRepoSetup is Docker's documented repository setup for Debian, with
// the key written in place of the download.
const dockerRepoSetup = `set -euo pipefail
install -m 0755 -d /etc/apt/keyrings
printf '%s' "$KEY" > /etc/apt/keyrings/docker.asc
chmod a+r /etc/apt/keyrings/docker.asc
echo \
  "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian \
  $(. /etc/os-release && echo "$VERSION_CODENAME") stable" | \
  tee /etc/apt/sources.list.d/docker.list > /dev/null
apt-get update
`

func setUpDockerRepo(t *testing.T, g *Guest) {
	t.Helper()
	mustSh(t, g, "KEY='"+dockerKeyStandIn+"'\n"+dockerRepoSetup)
}

// TestAptThirdPartyRepository: Docker's packages come only from Docker's
// repository, which apt uses once it is configured with its key and the
// lists are updated.
func TestAptThirdPartyRepository(t *testing.T) {
	g := newGuest(t)
	if out := mustSh(t, g, "dpkg --print-architecture"); out != "amd64\n" {
		t.Errorf("architecture %q", out)
	}
	_, errOut, code := sh(t, g, "apt-get update -qq && apt-get install -y -qq docker-ce containerd.io")
	if code != 100 || errOut != "E: Unable to locate package docker-ce\n" {
		t.Errorf("docker-ce from Debian: %d %q", code, errOut)
	}
	_, errOut, code = sh(t, g, "apt-get install -y -qq containerd.io")
	if code != 100 || !strings.Contains(errOut, "E: Couldn't find any package by regex 'containerd.io'") {
		t.Errorf("containerd.io from Debian: %d %q", code, errOut)
	}

	// The source without its key: apt refuses the repository.
	mustSh(t, g, `echo "deb [signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable" > /etc/apt/sources.list.d/docker.list`)
	out, errOut, code := sh(t, g, "apt-get update")
	if code != 100 || !strings.Contains(errOut, "NO_PUBKEY 7EA0A9C3F273FCD8") ||
		!strings.Contains(errOut, "E: The repository 'https://download.docker.com/linux/debian bookworm InRelease' is not signed.") ||
		!strings.Contains(out, "Hit:1 http://deb.debian.org/debian bookworm InRelease") {
		t.Errorf("update without the key: %d\n%s\n%s", code, out, errOut)
	}
	if _, _, code := sh(t, g, "apt-get install -y -qq docker-ce"); code != 100 {
		t.Errorf("docker-ce installed from an unsigned repository: %d", code)
	}

	// As Docker documents it: key, source, update, install.
	setUpDockerRepo(t, g)
	if got := mustSh(t, g, "cat /etc/apt/sources.list.d/docker.list"); !strings.Contains(got, "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian   bookworm stable") {
		t.Errorf("docker.list: %q", got)
	}
	out = mustSh(t, g, "apt-get install -y docker-ce docker-compose-plugin docker-buildx-plugin")
	if !strings.Contains(out, "Setting up containerd.io (1.7.25-1) ...") || !strings.Contains(out, "5 newly installed") {
		t.Errorf("install output:\n%s", out)
	}
	inst := g.Installed()["apt"]
	for _, p := range []string{"docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin"} {
		if !slices.Contains(inst, p) {
			t.Errorf("%s not installed (dependencies come along): %v", p, inst)
		}
	}
	for _, s := range g.Services() {
		if (s.Name == "docker.service" || s.Name == "containerd.service") && (s.Active != "active" || !s.Enabled) {
			t.Errorf("%s: %+v", s.Name, s)
		}
	}

	// Taking the source away and updating forgets the repository.
	mustSh(t, g, "apt-get remove -y -qq docker-ce-cli && rm /etc/apt/sources.list.d/docker.list && apt-get update -qq")
	if _, _, code := sh(t, g, "apt-get install -y -qq docker-ce-cli"); code != 100 {
		t.Errorf("docker-ce-cli found without the source: %d", code)
	}
}

func TestAptSourcesProblems(t *testing.T) {
	tests := []struct {
		name, setup, stderr string
		code                int
	}{
		{"unknown suite", `echo "deb [signed-by=/etc/apt/keyrings/k.asc] https://download.docker.com/linux/debian stable stable" > /etc/apt/sources.list.d/docker.list`,
			"E: The repository 'https://download.docker.com/linux/debian stable Release' does not have a Release file.", 100},
		{"no component", `echo "deb https://download.docker.com/linux/debian bookworm" > /etc/apt/sources.list.d/docker.list`,
			"E: Malformed entry 1 in list file /etc/apt/sources.list.d/docker.list (Component)", 100},
		{"unknown type", `echo "dbe https://download.docker.com/linux/debian bookworm stable" > /etc/apt/sources.list.d/docker.list`,
			"E: Type 'dbe' is not known on line 1 in source list /etc/apt/sources.list.d/docker.list", 100},
		{"unreachable host", `echo "deb https://example.com/repo bookworm main" > /etc/apt/sources.list.d/other.list`,
			"W: Failed to fetch https://example.com/repo/dists/bookworm/InRelease  Temporary failure resolving 'example.com'", 0},
		{"bad file name", `touch /etc/apt/sources.list.d/docker.txt`,
			"N: Ignoring file 'docker.txt' in directory '/etc/apt/sources.list.d/' as it has an invalid filename extension", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuest(t)
			mustSh(t, g, "mkdir -p /etc/apt/keyrings && printf '%s' '"+dockerKeyStandIn+"' > /etc/apt/keyrings/k.asc && "+tt.setup)
			_, errOut, code := sh(t, g, "apt-get update -qq")
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant %d and %q", code, errOut, tt.code, tt.stderr)
			}
		})
	}
}

// TestAptDeb822Sources: Docker's newer instructions write a .sources file.
func TestAptDeb822Sources(t *testing.T) {
	g := newGuest(t)
	mustSh(t, g, `set -e
printf '%s' '`+dockerKeyStandIn+`' > /etc/apt/keyrings/docker.asc
tee /etc/apt/sources.list.d/docker.sources >/dev/null <<EOF
Types: deb
URIs: https://download.docker.com/linux/debian
Suites: $(. /etc/os-release && echo "$VERSION_CODENAME")
Components: stable
Signed-By: /etc/apt/keyrings/docker.asc
EOF
apt-get update -qq && apt-get install -y -qq docker-ce-cli`)
	if !slices.Contains(g.Installed()["apt"], "docker-ce-cli") {
		t.Fatalf("installed: %v", g.Installed()["apt"])
	}
}

func TestDockerStandIn(t *testing.T) {
	g := newGuest(t)
	if _, errOut, code := sh(t, g, "docker --version"); code != 127 || !strings.Contains(errOut, "docker: command not found") {
		t.Errorf("before install: %d %q", code, errOut)
	}
	setUpDockerRepo(t, g)
	mustSh(t, g, "apt-get install -y -qq docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin")
	mustSh(t, g, `mkdir -p /etc/docker && echo '{"log-driver": "local"}' > /etc/docker/daemon.json`)
	for script, want := range map[string]string{
		"docker --version":                                       "Docker version 28.0.1, build pvesim\n",
		"docker info --format '{{.ServerVersion}}'":              "28.0.1\n",
		"docker info -f '{{.LoggingDriver}} {{.Name}}'":          "local ct101\n",
		"docker info --format '{{json .OSType}}'":                "\"linux\"\n",
		"docker compose version":                                 "Docker Compose version v2.33.1\n",
		"docker compose version --short":                         "2.33.1\n",
		"docker buildx version":                                  "github.com/docker/buildx v0.21.1\n",
		"docker ps -q":                                           "",
		"/usr/bin/docker version --format '{{.Server.Version}}'": "28.0.1\n",
	} {
		if got := mustSh(t, g, script); got != want {
			t.Errorf("%s = %q, want %q", script, got, want)
		}
	}
	if info := mustSh(t, g, "docker info"); !strings.Contains(info, "compose: Docker Compose (Docker Inc.)\n    Version:  v2.33.1\n    Path:     /usr/libexec/docker/cli-plugins/docker-compose") {
		t.Errorf("docker info plugins:\n%s", info)
	}
	if _, errOut, code := sh(t, g, "docker run --rm -p 8080:80 nginx"); code != 125 || !strings.Contains(errOut, "Unable to find image 'nginx:latest' locally") {
		t.Errorf("run: %d %q", code, errOut)
	}
	mustSh(t, g, "systemctl stop docker")
	if _, errOut, code := sh(t, g, "docker info"); code != 1 || !strings.Contains(errOut, "Cannot connect to the Docker daemon") {
		t.Errorf("daemon stopped: %d %q", code, errOut)
	}
	// Without the compose plugin there is no docker compose.
	mustSh(t, g, "systemctl start docker && apt-get remove -y -qq docker-compose-plugin")
	if _, errOut, code := sh(t, g, "docker compose version"); code != 1 || !strings.Contains(errOut, "unknown command: docker compose") {
		t.Errorf("compose without the plugin: %d %q", code, errOut)
	}
}

// TestAptConffiles: a configuration file the system already has is dpkg's
// question, which pct exec cannot answer, unless apt passes dpkg a
// --force-conf option.
func TestAptConffiles(t *testing.T) {
	const site = "/etc/nginx/sites-available/default"
	mine := "server { listen 8080 default_server; }\n"
	g := newGuest(t)
	mustSh(t, g, "mkdir -p /etc/nginx/sites-available && printf '%s' '"+mine+"' > "+site)
	out, errOut, code := sh(t, g, "apt-get install -y -qq nginx")
	if code != 100 || !strings.Contains(out, "Configuration file '"+site+"'") || !strings.Contains(errOut, "end of file on stdin at conffile prompt") {
		t.Errorf("conffile prompt: %d\n%s\n%s", code, out, errOut)
	}
	if slices.Contains(g.Installed()["apt"], "nginx") {
		t.Error("nginx counts as installed after its configuration failed")
	}
	mustSh(t, g, `apt-get install -y -qq -o Dpkg::Options::="--force-confdef" -o Dpkg::Options::="--force-confold" nginx`)
	if got := mustSh(t, g, "cat "+site); got != mine {
		t.Errorf("kept file: %q", got)
	}
	if got := mustSh(t, g, "cat "+site+".dpkg-dist"); !strings.Contains(got, "root /var/www/html;") {
		t.Errorf("package version beside it: %q", got)
	}
	if got := mustSh(t, g, "readlink /etc/nginx/sites-enabled/default"); got != site+"\n" {
		t.Errorf("sites-enabled/default links to %q", got)
	}
}

func TestNginxStandIn(t *testing.T) {
	g := newGuest(t)
	if _, _, code := sh(t, g, "nginx -t"); code != 127 {
		t.Errorf("nginx before install: %d", code)
	}
	mustSh(t, g, "apt-get install -y -qq nginx")
	if _, errOut, code := sh(t, g, "nginx -t"); code != 0 || !strings.Contains(errOut, "test is successful") {
		t.Errorf("nginx -t: %d %q", code, errOut)
	}
	mustSh(t, g, `printf 'server {\n\t# listen 80 default_server;\n\tlisten [::]:80 default_server;\n}\n' > /etc/nginx/sites-available/static && ln -s /etc/nginx/sites-available/static /etc/nginx/sites-enabled/static`)
	if _, errOut, code := sh(t, g, "nginx -t"); code != 1 || !strings.Contains(errOut, "nginx: [emerg] a duplicate default server for [::]:80 in /etc/nginx/sites-enabled/static:3") {
		t.Errorf("two default servers: %d %q", code, errOut)
	}
	mustSh(t, g, "rm /etc/nginx/sites-enabled/default && nginx -t && nginx -s reload")
	mustSh(t, g, "ln -s /etc/nginx/sites-available/gone /etc/nginx/sites-enabled/gone")
	if _, errOut, code := sh(t, g, "nginx -t -q"); code != 1 || !strings.Contains(errOut, `open() "/etc/nginx/sites-enabled/gone" failed`) {
		t.Errorf("dangling site: %d %q", code, errOut)
	}
	mustSh(t, g, "rm /etc/nginx/sites-enabled/gone && systemctl stop nginx")
	if _, errOut, code := sh(t, g, "nginx -s reload"); code != 1 || !strings.Contains(errOut, "/run/nginx.pid") {
		t.Errorf("reload while stopped: %d %q", code, errOut)
	}
}
