package tmplfs

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"corral/store"
)

// mustOpen opens a database with one account and returns its id.
func mustOpen(t *testing.T) (*store.DB, string) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "corral.db"), store.Options{Key: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	u, err := db.CreateUser(t.Context(), "alice", "alice-password-1")
	if err != nil {
		t.Fatal(err)
	}
	return db, u.ID
}

// ownTemplates lists the user's own templates, without the built-ins.
func ownTemplates(t *testing.T, db *store.DB, userID string) []store.Template {
	t.Helper()
	all, err := db.Templates(t.Context(), userID, store.TemplateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Template
	for _, tm := range all {
		if tm.Owner == userID {
			out = append(out, tm)
		}
	}
	return out
}

const testTree = "testdata/templates"

func TestImportDir(t *testing.T) {
	ctx := t.Context()
	db, uid := mustOpen(t)
	r, err := ImportDir(ctx, testTree, uid, db, Options{})
	if err != nil {
		t.Fatal(err)
	}

	// broken fails alone; notatemplate (no template.conf) is not a template.
	if len(r.Errors) != 1 || r.Errors[0].Name != "broken" || !strings.Contains(r.Errors[0].Error(), "line 1") {
		t.Errorf("errors = %v, want one for broken naming line 1", r.Errors)
	}
	var names []string
	for _, im := range r.Imported {
		names = append(names, im.Name)
		if !im.Created {
			t.Errorf("%s: Created = false on first import", im.Name)
		}
	}
	if want := []string{"static-site", "web3-dev"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("imported %v, want %v", names, want)
	}

	all := ownTemplates(t, db, uid)
	if len(all) != 2 {
		t.Fatalf("store holds %d templates, want 2", len(all))
	}
	web3 := all[1]
	abs, _ := filepath.Abs(filepath.Join(testTree, "web3-dev"))
	want := store.Template{
		ID: web3.ID, Owner: uid, OwnerName: "alice", Name: "web3-dev", Source: store.SourceFilesystem, Path: abs,
		Description: "Web3 development box with Node.js, Docker and code-server",
		Tags:        []string{"web3", "development", "nodejs", "docker"},
		OSTemplate:  "debian-12-standard",
		Cores:       4, Memory: 8192, Disk: 20,
		// The inline comment after TEMPLATE_UNPRIVILEGED must not make it privileged.
		Features: store.Features{Unprivileged: true, Nesting: true, Keyctl: true, Fuse: true},
		Scripts: []store.Script{
			{Name: "00-pre-checks.sh", Enabled: true, Content: readTestFile(t, "web3-dev/container-configs/scripts/00-pre-checks.sh")},
			{Name: "01-user.sh", Enabled: true, Content: readTestFile(t, "web3-dev/container-configs/scripts/01-user.sh")},
			{Name: "02-docker.sh", Enabled: true, Content: readTestFile(t, "web3-dev/container-configs/scripts/02-docker.sh")},
			{Name: "10-nodejs.sh", Enabled: true, Content: readTestFile(t, "web3-dev/container-configs/scripts/10-nodejs.sh")},
			{Name: "99-post-setup.sh", Enabled: true, Content: readTestFile(t, "web3-dev/container-configs/scripts/99-post-setup.sh")},
		},
		Files: []store.File{
			{Name: "aliases.sh", TargetDir: "/home/coder/.config", Policy: store.PolicyReplace, Content: "alias ll=\"ls -la\"\nalias gs=\"git status\"\n"},
			{Name: "bashrc", TargetDir: "/home/coder", Policy: store.PolicyDefault, Content: "# ~/.bashrc\nexport PATH=\"$HOME/.local/bin:$PATH\"\n"},
			{Name: "config-manager-status.sh", TargetDir: "/etc/profile.d", Policy: store.PolicyBackup, Mode: "0755", Content: "#!/bin/sh\necho \"config-manager: ok\"\n"},
			// No gitconfig.policy: a missing sidecar means default.
			{Name: "gitconfig", TargetDir: "/home/coder", Policy: store.PolicyDefault, Content: "[user]\n\tname = Coder\n"},
		},
		Packages: []store.Package{
			{Manager: store.ManagerApt, Name: "curl"},
			{Manager: store.ManagerApt, Name: "wget"},
			{Manager: store.ManagerApt, Name: "git"},
			{Manager: store.ManagerApt, Name: "ca-certificates"},
			{Manager: store.ManagerApt, Name: "sudo"},
			{Manager: store.ManagerApt, Name: "jq"},
			{Manager: store.ManagerApt, Name: "build-essential"},
			{Manager: store.ManagerApt, Name: "python3-pip"},
			{Manager: store.ManagerCustom, Name: "foundry", Check: "command -v forge", Install: "curl -L https://foundry.paradigm.xyz | bash && foundryup"},
			{Manager: store.ManagerNpm, Name: "typescript@5.0.0"},
			{Manager: store.ManagerNpm, Name: "pnpm"},
			{Manager: store.ManagerPip, Name: "requests==2.28.0"},
			{Manager: store.ManagerPip, Name: "black"},
		},
		Created: web3.Created, Updated: web3.Updated,
	}
	if !reflect.DeepEqual(web3, want) {
		t.Errorf("web3-dev imported as\n%+v\nwant\n%+v", web3, want)
	}

	static := all[0]
	if static.Memory != 256 || static.Swap == nil || *static.Swap != 0 || static.Storage != "local-lvm" || static.Bridge != "vmbr1" ||
		static.Description != "Small nginx site" || len(static.Files) != 1 || static.Files[0].Policy != store.PolicyDefault {
		t.Errorf("static-site imported as %+v", static)
	}

	t.Run("ReimportIsIdempotent", func(t *testing.T) {
		r2, err := ImportDir(ctx, testTree, uid, db, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(r2.Imported) != 2 || r2.Imported[0].Created || r2.Imported[1].Created || len(r2.Errors) != 1 {
			t.Fatalf("second import report = %+v", r2)
		}
		again := ownTemplates(t, db, uid)
		if len(again) != 2 {
			t.Fatalf("store holds %d templates after re-import, want 2", len(again))
		}
		for i := range again {
			again[i].Updated = all[i].Updated
			if !reflect.DeepEqual(again[i], all[i]) {
				t.Errorf("re-import changed %s:\n%+v\nwas\n%+v", all[i].Name, again[i], all[i])
			}
		}
	})

	t.Run("ExportImportRoundTrip", func(t *testing.T) {
		_, data, err := db.ExportTemplate(ctx, uid, web3.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteTemplate(ctx, uid, web3.ID); err != nil {
			t.Fatal(err)
		}
		back, err := db.ImportTemplate(ctx, uid, data)
		if err != nil {
			t.Fatal(err)
		}
		// Only this Corral's bookkeeping differs: id, source, path, times.
		want := web3
		want.ID, want.Source, want.Path, want.Created, want.Updated = back.ID, store.SourceCustom, "", back.Created, back.Updated
		if !reflect.DeepEqual(back, want) {
			t.Errorf("round trip gave\n%+v\nwant\n%+v", back, want)
		}
	})
}

func TestImportDir_Reports(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok/template.conf", "TEMPLATE_CPU=2\n")
	write("ok/container-configs/scripts/notes.txt", "not a script")
	write("ok/container-configs/packages/x.dnf", "vim")
	write("nopath/template.conf", "")
	write("nopath/container-configs/files/motd", "hi")
	write("badcpu/template.conf", "TEMPLATE_CPU=lots\n")
	write("badpolicy/template.conf", "")
	write("badpolicy/container-configs/files/motd", "hi")
	write("badpolicy/container-configs/files/motd.path", "/etc")
	write("badpolicy/container-configs/files/motd.policy", "sometimes")
	write("badtarget/template.conf", "")
	write("badtarget/container-configs/files/motd", "hi")
	write("badtarget/container-configs/files/motd.path", "etc/../x")
	write("badpkg/template.conf", "")
	write("badpkg/container-configs/packages/x.custom", "just-a-name\n")
	write("toobig/template.conf", "TEMPLATE_CPU=100000\n")

	db, uid := mustOpen(t)
	r, err := ImportDir(t.Context(), root, uid, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Imported) != 1 || r.Imported[0].Name != "ok" {
		t.Errorf("imported %+v, want only ok", r.Imported)
	}
	wantErr := map[string]string{
		"badcpu":    `TEMPLATE_CPU="lots" is not a whole number`,
		"badpkg":    "line 1: write custom packages as name|check command|install command",
		"badpolicy": "Policy must be replace, default or backup",
		"badtarget": "Target directory must be absolute",
		"nopath":    "missing motd.path",
		"toobig":    "CPU cores must be between 1 and 8192",
	}
	got := map[string]string{}
	for _, e := range r.Errors {
		got[e.Name] = e.Error()
	}
	for name, msg := range wantErr {
		if !strings.Contains(got[name], msg) {
			t.Errorf("error for %s = %q, want it to mention %q", name, got[name], msg)
		}
	}
	if len(r.Errors) != len(wantErr) {
		t.Errorf("got %d errors, want %d: %v", len(r.Errors), len(wantErr), r.Errors)
	}
	if len(r.Warnings) != 2 {
		t.Errorf("warnings = %q, want the skipped notes.txt and x.dnf", r.Warnings)
	}
	if s := r.String(); !strings.Contains(s, "1 imported, 6 failed") {
		t.Errorf("summary = %q", s)
	}

	if _, err := ImportDir(t.Context(), filepath.Join(root, "missing"), uid, db, Options{}); err == nil {
		t.Error("ImportDir of a missing root succeeded")
	}
}

func readTestFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testTree, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
