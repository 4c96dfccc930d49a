package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// metaTemplatesSeeded marks, in the meta bucket, that the built-in
// templates were created once; a user who deletes them keeps them deleted.
var metaTemplatesSeeded = []byte("templates_seeded")

// SeedTemplates creates the built-in templates the first time it runs on a
// database, so the wizard is useful from the start. Later calls do nothing,
// even if the user has since deleted or renamed the built-ins. A user
// template that already holds a built-in's name is left alone.
func (db *DB) SeedTemplates(ctx context.Context) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bucketMeta))
		if meta.Get(metaTemplatesSeeded) != nil {
			return nil
		}
		for _, t := range BuiltinTemplates() {
			id, err := templateIDByName(tx, t.Name, "")
			if err != nil {
				return err
			}
			if id != "" {
				continue
			}
			if _, err := db.createTemplate(tx, t); err != nil {
				return fmt.Errorf("built-in %q: %w", t.Name, err)
			}
		}
		return meta.Put(metaTemplatesSeeded, []byte(db.now().UTC().Format("2006-01-02T15:04:05Z")))
	})
	if err != nil {
		return fmt.Errorf("store: seed templates: %w", err)
	}
	return nil
}

// BuiltinTemplates returns the templates Corral ships with, freshly built so
// callers may change them.
func BuiltinTemplates() []Template {
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
