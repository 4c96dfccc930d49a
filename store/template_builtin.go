package store

import "strings"

// The built-in starters are not stored: every account reads them from here,
// and nobody can change or delete them. "Copy to my templates" gives an
// account its own editable copy (CopyTemplate).

// builtinIDPrefix starts every built-in's id. Stored ids are 22 random
// characters, so no stored id equals a built-in's.
const builtinIDPrefix = "builtin-"

// builtinTemplate returns the built-in whose id is id.
func builtinTemplate(id string) (Template, bool) {
	if !strings.HasPrefix(id, builtinIDPrefix) {
		return Template{}, false
	}
	for _, t := range BuiltinTemplates() {
		if t.ID == id {
			return t, true
		}
	}
	return Template{}, false
}

// BuiltinTemplates returns the templates Corral ships with, normalized and
// with their fixed ids, freshly built so callers may change them.
func BuiltinTemplates() []Template {
	list := builtinRecipes()
	for i := range list {
		list[i].Normalize()
		list[i].ID = builtinIDPrefix + fileSlug(list[i].Name)
	}
	return list
}

func builtinRecipes() []Template {
	swap := 512
	return []Template{
		{
			Name:        "Debian base",
			Description: "Plain Debian 12 with a few everyday tools and automatic security updates.",
			Tags:        []string{"debian", "base"},
			Source:      SourceBuiltin,
			OSTemplate:  "debian-12-standard",
			Cores:       1, Memory: 512, Swap: &swap, Disk: 8,
			Features: Features{Unprivileged: true},
			Packages: []Package{
				{Manager: ManagerApt, Name: "curl"},
				{Manager: ManagerApt, Name: "ca-certificates"},
				{Manager: ManagerApt, Name: "vim"},
				{Manager: ManagerApt, Name: "unattended-upgrades"},
			},
			Scripts: []Script{{
				Name:    "10-unattended-upgrades.sh",
				Enabled: true,
				Content: "#!/bin/bash\nset -euo pipefail\n# Install security updates automatically.\necho 'unattended-upgrades unattended-upgrades/enable_auto_updates boolean true' | debconf-set-selections\ndpkg-reconfigure -f noninteractive unattended-upgrades\n",
			}},
		},
		{
			Name: "Docker host",
			Description: "Debian 12 with Docker Engine from Docker's own apt repository: docker-ce, docker-ce-cli, containerd.io, " +
				"docker-buildx-plugin and docker-compose-plugin (docker compose). Docker inside LXC needs nesting and keyctl, which this template turns on.",
			Tags:       []string{"debian", "docker"},
			Source:     SourceBuiltin,
			OSTemplate: "debian-12-standard",
			Cores:      2, Memory: 2048, Swap: &swap, Disk: 16,
			Features: Features{Unprivileged: true, Nesting: true, Keyctl: true},
			Packages: []Package{
				{Manager: ManagerApt, Name: "ca-certificates"},
				{Manager: ManagerApt, Name: "curl"},
			},
			Scripts: []Script{
				{
					Name:    "10-docker-apt-repository.sh",
					Enabled: true,
					Content: "#!/bin/bash\nset -euo pipefail\n" +
						"# Docker's apt repository, as https://docs.docker.com/engine/install/debian/ sets it up.\n" +
						"# Its signing key comes with this template (/etc/apt/keyrings/docker.asc,\n" +
						"# fingerprint 9DC8 5822 9FC7 DD38 854A E2D8 8D81 803C 0EBF CD88) instead of a download.\n" +
						"chmod a+r /etc/apt/keyrings/docker.asc\n" +
						"echo \\\n" +
						"  \"deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian \\\n" +
						"  $(. /etc/os-release && echo \"$VERSION_CODENAME\") stable\" | \\\n" +
						"  tee /etc/apt/sources.list.d/docker.list > /dev/null\n" +
						"apt-get update\n" +
						"apt-get install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin\n",
				},
				{
					Name:    "20-enable-docker.sh",
					Enabled: true,
					Content: "#!/bin/bash\nset -euo pipefail\nsystemctl enable --now docker\n" +
						"version=$(docker info --format '{{.ServerVersion}}')\n" +
						"log_info \"Docker Engine $version is running\"\n" +
						"docker compose version\n",
				},
			},
			Files: []File{
				{
					Name:      "docker.asc",
					TargetDir: "/etc/apt/keyrings",
					Policy:    PolicyReplace,
					Mode:      "0644",
					Content:   dockerAptKey,
				},
				{
					Name:      "daemon.json",
					TargetDir: "/etc/docker",
					Policy:    PolicyDefault,
					Mode:      "0644",
					Content:   "{\n  \"log-driver\": \"local\",\n  \"log-opts\": {\"max-size\": \"10m\"}\n}\n",
				},
			},
		},
		{
			Name:        "Static web server",
			Description: "Debian 12 with nginx serving /var/www/html on port 80, from its own site file in place of Debian's default site.",
			Tags:        []string{"debian", "web", "nginx"},
			Source:      SourceBuiltin,
			OSTemplate:  "debian-12-standard",
			Cores:       1, Memory: 512, Swap: &swap, Disk: 8,
			Features: Features{Unprivileged: true},
			Packages: []Package{{Manager: ManagerApt, Name: "nginx"}},
			Scripts: []Script{{
				Name:    "10-enable-site.sh",
				Enabled: true,
				// The site is not named "default": nginx ships that file, and
				// dpkg would stop to ask about one that is already there.
				Content: "#!/bin/bash\nset -euo pipefail\n" +
					"ln -sf /etc/nginx/sites-available/static /etc/nginx/sites-enabled/static\n" +
					"rm -f /etc/nginx/sites-enabled/default\n" +
					"nginx -t\n" +
					"systemctl enable --now nginx\n" +
					"systemctl reload nginx\n",
			}},
			Files: []File{
				{
					Name:      "index.html",
					TargetDir: "/var/www/html",
					Policy:    PolicyDefault,
					Mode:      "0644",
					Owner:     "www-data:www-data",
					Content:   "<!doctype html>\n<title>It works</title>\n<h1>Served by nginx, built by Corral</h1>\n",
				},
				{
					Name:      "static",
					TargetDir: "/etc/nginx/sites-available",
					Policy:    PolicyBackup,
					Mode:      "0644",
					Content:   "server {\n\tlisten 80 default_server;\n\tlisten [::]:80 default_server;\n\troot /var/www/html;\n\tindex index.html;\n\tlocation / {\n\t\ttry_files $uri $uri/ =404;\n\t}\n}\n",
				},
			},
		},
	}
}
