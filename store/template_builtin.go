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
			Name:        "Docker host",
			Description: "Debian 12 running Docker Engine and the compose plugin. Docker inside LXC needs nesting and keyctl, which this template turns on.",
			Tags:        []string{"debian", "docker"},
			Source:      SourceBuiltin,
			OSTemplate:  "debian-12-standard",
			Cores:       2, Memory: 2048, Swap: &swap, Disk: 16,
			Features: Features{Unprivileged: true, Nesting: true, Keyctl: true},
			Packages: []Package{
				{Manager: ManagerApt, Name: "ca-certificates"},
				{Manager: ManagerApt, Name: "curl"},
				{Manager: ManagerApt, Name: "docker.io"},
				{Manager: ManagerApt, Name: "docker-compose"},
			},
			Scripts: []Script{{
				Name:    "10-enable-docker.sh",
				Enabled: true,
				Content: "#!/bin/bash\nset -euo pipefail\nsystemctl enable --now docker\ndocker info --format '{{.ServerVersion}}'\n",
			}},
			Files: []File{{
				Name:      "daemon.json",
				TargetDir: "/etc/docker",
				Policy:    PolicyDefault,
				Mode:      "0644",
				Content:   "{\n  \"log-driver\": \"local\",\n  \"log-opts\": {\"max-size\": \"10m\"}\n}\n",
			}},
		},
		{
			Name:        "Static web server",
			Description: "Debian 12 with nginx serving /var/www/html on port 80.",
			Tags:        []string{"debian", "web", "nginx"},
			Source:      SourceBuiltin,
			OSTemplate:  "debian-12-standard",
			Cores:       1, Memory: 512, Swap: &swap, Disk: 8,
			Features: Features{Unprivileged: true},
			Packages: []Package{{Manager: ManagerApt, Name: "nginx"}},
			Scripts: []Script{{
				Name:    "10-enable-nginx.sh",
				Enabled: true,
				Content: "#!/bin/bash\nset -euo pipefail\nnginx -t\nsystemctl enable --now nginx\n",
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
					Name:      "default",
					TargetDir: "/etc/nginx/sites-available",
					Policy:    PolicyBackup,
					Mode:      "0644",
					Content:   "server {\n\tlisten 80 default_server;\n\tlisten [::]:80 default_server;\n\troot /var/www/html;\n\tindex index.html;\n\tlocation / {\n\t\ttry_files $uri $uri/ =404;\n\t}\n}\n",
				},
			},
		},
	}
}
