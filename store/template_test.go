package store

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// validTemplate returns a template that passes validation.
func validTemplate(name string, tags ...string) Template {
	swap := 0
	return Template{
		Name: name, Tags: tags, OSTemplate: "debian-12-standard",
		Cores: 2, Memory: 1024, Swap: &swap, Disk: 8, Storage: "local-lvm", Bridge: "vmbr0",
		Features: Features{Unprivileged: true},
		Scripts:  []Script{{Name: "10-setup.sh", Content: "echo hi\n", Enabled: true}},
		Files:    []File{{Name: "motd", TargetDir: "/etc", Policy: PolicyBackup, Mode: "0644", Owner: "root:root", Content: "hello\n"}},
		Packages: []Package{{Manager: ManagerApt, Name: "curl"}},
	}
}

func mustTemplate(t *testing.T, db *DB, userID string, tmpl Template) Template {
	t.Helper()
	out, err := db.CreateTemplate(t.Context(), userID, tmpl)
	if err != nil {
		t.Fatalf("CreateTemplate(%q): %v", tmpl.Name, err)
	}
	return out
}

func TestDB_CreateTemplate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		clock := newFakeClock()
		db, _ := mustOpen(t, withClock(clock))
		alice := mustUser(t, db, "alice")
		in := validTemplate("  Web Server ", "Web", " nginx", "web", "")
		in.Files[0].TargetDir = "/etc/"
		in.Source = SourceBuiltin // only code makes built-ins
		got := mustTemplate(t, db, alice.ID, in)
		if got.ID == "" || got.Source != SourceCustom || got.Owner != alice.ID || got.Shared || !got.Created.Equal(clock.Now()) || !got.Updated.Equal(clock.Now()) {
			t.Errorf("created %+v", got)
		}
		if got.Name != "Web Server" || !reflect.DeepEqual(got.Tags, []string{"web", "nginx"}) || got.Files[0].TargetDir != "/etc" {
			t.Errorf("not normalized: name %q tags %q target %q", got.Name, got.Tags, got.Files[0].TargetDir)
		}
		read, err := db.Template(t.Context(), alice.ID, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(read, got) || got.OwnerName != "alice" {
			t.Errorf("read back\n%+v\nwant\n%+v", read, got)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		db, _ := mustOpen(t)
		alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
		mustTemplate(t, db, alice.ID, validTemplate("Docker"))
		// Names are unique per account: bob may have his own "docker".
		mustTemplate(t, db, bob.ID, validTemplate("docker"))
		_, err := db.CreateTemplate(t.Context(), alice.ID, validTemplate("docker"))
		var v *ValidationError
		if !errors.As(err, &v) || !errors.Is(err, ErrConflict) || !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want a conflict ValidationError", err)
		}
		if v.Fields["name"] != `A template named "docker" already exists` {
			t.Errorf("name message = %q", v.Fields["name"])
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		db, _ := mustOpen(t)
		alice := mustUser(t, db, "alice")
		if _, err := db.Template(t.Context(), alice.ID, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Template(nope) err = %v", err)
		}
		if _, err := db.CreateTemplate(t.Context(), "no-such-user", validTemplate("x")); !errors.Is(err, ErrNotFound) {
			t.Errorf("template for a missing account: %v", err)
		}
	})

	t.Run("ConcurrentSameName", func(t *testing.T) {
		db, _ := mustOpen(t)
		alice := mustUser(t, db, "alice")
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { _, errs[i] = db.CreateTemplate(t.Context(), alice.ID, validTemplate("Race")) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrConflict):
				t.Errorf("unexpected error %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d creates succeeded, want exactly 1", ok)
		}
	})
}

func TestTemplate_Validate(t *testing.T) {
	neg, big := -1, MaxSwap+1
	tests := []struct {
		name   string
		change func(*Template)
		field  string
		msg    string
	}{
		{"name required", func(t *Template) { t.Name = " " }, "name", "Name is required"},
		{"name too long", func(t *Template) { t.Name = strings.Repeat("x", 101) }, "name", "Name must be 100 characters or less"},
		{"name with slash", func(t *Template) { t.Name = "a/b" }, "name", "Name must not contain / or \\ and must not be . or .."},
		{"name dotdot", func(t *Template) { t.Name = ".." }, "name", "Name must not contain / or \\ and must not be . or .."},
		{"name control", func(t *Template) { t.Name = "a\x01b" }, "name", "Name must not contain control characters"},
		{"description too long", func(t *Template) { t.Description = strings.Repeat("é", 501) }, "description", "Description must be 500 characters or less"},
		{"bad tag", func(t *Template) { t.Tags = []string{"two words"} }, "tags", `Tag "two words": use letters, digits, '.', '_', '+' or '-' (at most 32 characters), separated by ';'`},
		{"too many tags", func(t *Template) {
			t.Tags = nil
			for i := range 21 {
				t.Tags = append(t.Tags, "t"+strings.Repeat("x", i))
			}
		}, "tags", "Use at most 20 tags"},
		{"os template", func(t *Template) { t.OSTemplate = "debian 12" }, "os_template", "Use a short name like debian-12-standard or a volid like local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"},
		{"cores low", func(t *Template) { t.Cores = -1 }, "cores", "CPU cores must be between 1 and 8192 (leave empty for the Proxmox default)"},
		{"cores high", func(t *Template) { t.Cores = 8193 }, "cores", "CPU cores must be between 1 and 8192 (leave empty for the Proxmox default)"},
		{"memory low", func(t *Template) { t.Memory = 15 }, "memory", "Memory must be between 16 and 1048576 MiB (leave empty for the Proxmox default)"},
		{"swap negative", func(t *Template) { t.Swap = &neg }, "swap", "Swap must be between 0 and 1048576 MiB"},
		{"swap high", func(t *Template) { t.Swap = &big }, "swap", "Swap must be between 0 and 1048576 MiB"},
		{"disk high", func(t *Template) { t.Disk = MaxDisk + 1 }, "disk", "Disk must be between 1 and 131072 GiB (leave empty for the Proxmox default)"},
		{"storage", func(t *Template) { t.Storage = "Local LVM" }, "storage", "Storage must be a Proxmox storage id like local-lvm (lower-case letters, digits, '-', '_', '.')"},
		{"bridge", func(t *Template) { t.Bridge = "vmbr0-with-a-long-name" }, "bridge", "Bridge must be an interface name like vmbr0 (at most 15 characters)"},
		{"script name required", func(t *Template) { t.Scripts[0].Name = "" }, "scripts.0.name", "Script name is required"},
		{"script name unsafe", func(t *Template) { t.Scripts[0].Name = "../x.sh" }, "scripts.0.name", "Script name must be safe as a file name: letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. 10-install-docker.sh)"},
		{"script name duplicate", func(t *Template) { t.Scripts = append(t.Scripts, t.Scripts[0]) }, "scripts.1.name", "Another script is already called 10-setup.sh"},
		{"script content required", func(t *Template) { t.Scripts[0].Content = " \n" }, "scripts.0.content", "Script content is required"},
		{"file name required", func(t *Template) { t.Files[0].Name = "" }, "files.0.name", "File name is required"},
		{"file name separator", func(t *Template) { t.Files[0].Name = "nginx/nginx.conf" }, "files.0.name", "File name must not contain a path separator; put the directory in Target directory"},
		{"file name dotdot", func(t *Template) { t.Files[0].Name = ".." }, "files.0.name", "File name must be a plain file name"},
		{"target required", func(t *Template) { t.Files[0].TargetDir = "" }, "files.0.target_dir", "Target directory is required"},
		{"target relative", func(t *Template) { t.Files[0].TargetDir = "etc/nginx" }, "files.0.target_dir", "Target directory must be absolute (start with /)"},
		{"target dotdot", func(t *Template) { t.Files[0].TargetDir = "/etc/../root" }, "files.0.target_dir", "Target directory must not contain .."},
		{"target unclean", func(t *Template) { t.Files[0].TargetDir = "/etc//nginx" }, "files.0.target_dir", "Target directory must be a clean path like /etc/nginx"},
		{"file duplicate", func(t *Template) { t.Files = append(t.Files, t.Files[0]) }, "files.1.name", "Another file already goes to /etc/motd"},
		{"policy", func(t *Template) { t.Files[0].Policy = "sometimes" }, "files.0.policy", "Policy must be replace, default or backup"},
		{"mode", func(t *Template) { t.Files[0].Mode = "rw-r--r--" }, "files.0.mode", "Mode must be octal like 0644 or 0755"},
		{"owner", func(t *Template) { t.Files[0].Owner = "Root User" }, "files.0.owner", "Owner must be user or user:group (names or numeric ids)"},
		{"package manager", func(t *Template) { t.Packages[0].Manager = "brew" }, "packages.manager", `Unknown package manager "brew" (use apt, npm, pip or custom)`},
		{"package space", func(t *Template) { t.Packages[0].Name = "a b" }, "packages.apt", `Package name "a b" must not contain spaces`},
		{"package option", func(t *Template) { t.Packages[0].Name = "--force-yes" }, "packages.apt", `Package "--force-yes" must not start with '-'`},
		{"custom needs install", func(t *Template) { t.Packages[0] = Package{Manager: ManagerCustom, Name: "x"} }, "packages.custom", `Custom package "x" needs an install command: name|check command|install command`},
		{"source", func(t *Template) { t.Source = "cloud" }, "source", `Unknown source "cloud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := validTemplate("ok")
			tt.change(&tmpl)
			tmpl.Normalize()
			err := tmpl.Validate()
			var v *ValidationError
			if !errors.As(err, &v) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want a *ValidationError", err)
			}
			if got := v.Fields[tt.field]; got != tt.msg {
				t.Errorf("field %s: got %q, want %q (all: %v)", tt.field, got, tt.msg, v.Fields)
			}
		})
	}

	t.Run("OK", func(t *testing.T) {
		for _, tmpl := range append(BuiltinTemplates(), validTemplate("ok"), Template{Name: "minimal"}) {
			tmpl.Normalize()
			if err := tmpl.Validate(); err != nil {
				t.Errorf("%s: %v", tmpl.Name, err)
			}
		}
	})
}

// TestDB_Templates: a user lists their own templates and the built-ins
// (tags: Debian base debian+base, Docker host debian+docker, Static web
// server debian+web+nginx); of equal names their own comes first.
func TestDB_Templates(t *testing.T) {
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	mustTemplate(t, db, alice.ID, validTemplate("Static web", "web", "nginx"))
	mustTemplate(t, db, alice.ID, validTemplate("webapp builder", "webapp", "nodejs"))
	mustTemplate(t, db, alice.ID, validTemplate("Docker host", "docker", "web"))
	mustTemplate(t, db, alice.ID, validTemplate("alpha", "nginx"))
	mustTemplate(t, db, bob.ID, validTemplate("bob's private", "web", "nginx"))

	tests := []struct {
		name   string
		filter TemplateFilter
		want   []string
	}{
		{"all by name", TemplateFilter{}, []string{"alpha", "Debian base", "Docker host/alice", "Docker host", "Static web", "Static web server", "webapp builder"}},
		{"query any case", TemplateFilter{Query: "WEB"}, []string{"Static web", "Static web server", "webapp builder"}},
		{"whole tags only", TemplateFilter{Tags: []string{"web"}}, []string{"Docker host/alice", "Static web", "Static web server"}},
		{"tags AND", TemplateFilter{Tags: []string{"web", "nginx"}}, []string{"Static web", "Static web server"}},
		{"tags AND query", TemplateFilter{Query: "host", Tags: []string{"web"}}, []string{"Docker host/alice"}},
		{"tag case", TemplateFilter{Tags: []string{"NGINX"}}, []string{"alpha", "Static web", "Static web server"}},
		{"no match", TemplateFilter{Tags: []string{"web", "nodejs"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := db.Templates(t.Context(), alice.ID, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tmpl := range list {
				// Only the clash needs telling apart.
				if tmpl.Name == "Docker host" && tmpl.Owner != "" {
					tmpl.Name += "/" + tmpl.OwnerName
				}
				names = append(names, tmpl.Name)
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("got %q, want %q", names, tt.want)
			}
		})
	}

	tags, err := db.TemplateTags(t.Context(), alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"base", "debian", "docker", "nginx", "nodejs", "web", "webapp"}; !reflect.DeepEqual(tags, want) {
		t.Errorf("TemplateTags = %q, want %q", tags, want)
	}
}

func TestDB_UpdateTemplate(t *testing.T) {
	clock := newFakeClock()
	db, _ := mustOpen(t, withClock(clock))
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	orig := mustTemplate(t, db, alice.ID, validTemplate("one"))
	mustTemplate(t, db, alice.ID, validTemplate("two"))

	t.Run("OK", func(t *testing.T) {
		clock.Add(1000)
		edit := orig
		edit.Source, edit.Path = SourceFilesystem, "/elsewhere" // ignored: not editable
		edit.Description = "changed"
		edit.Scripts = []Script{{Name: "b.sh", Content: "b"}, {Name: "a.sh", Content: "a"}}
		edit.Shared = true // ignored: ShareTemplate's job
		got, err := db.UpdateTemplate(t.Context(), alice.ID, edit)
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != SourceCustom || got.Path != "" || got.Shared || !got.Created.Equal(orig.Created) || !got.Updated.Equal(clock.Now()) {
			t.Errorf("bookkeeping changed: %+v", got)
		}
		read, _ := db.Template(t.Context(), alice.ID, orig.ID)
		if read.Description != "changed" || read.Scripts[0].Name != "b.sh" {
			t.Errorf("read back %+v", read)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		edit := orig
		edit.Name = "TWO"
		if _, err := db.UpdateTemplate(t.Context(), alice.ID, edit); !errors.Is(err, ErrConflict) {
			t.Errorf("rename onto another name: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		edit := orig
		edit.ID = "missing"
		if _, err := db.UpdateTemplate(t.Context(), alice.ID, edit); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v", err)
		}
		// Another account's template, even a shared one, and a built-in.
		if _, err := db.ShareTemplate(t.Context(), alice.ID, orig.ID, true); err != nil {
			t.Fatal(err)
		}
		edit = orig
		edit.Description = "bob was here"
		if _, err := db.UpdateTemplate(t.Context(), bob.ID, edit); !errors.Is(err, ErrNotFound) {
			t.Errorf("bob updates alice's shared template: %v", err)
		}
		builtin := BuiltinTemplates()[0]
		if _, err := db.UpdateTemplate(t.Context(), alice.ID, builtin); !errors.Is(err, ErrNotFound) {
			t.Errorf("update a built-in: %v", err)
		}
		if read, _ := db.Template(t.Context(), alice.ID, orig.ID); read.Description == "bob was here" {
			t.Error("bob's update landed")
		}
	})
	t.Run("Upsert", func(t *testing.T) {
		in := validTemplate("ONE")
		in.Source = SourceFilesystem
		got, created, err := db.UpsertTemplateByName(t.Context(), alice.ID, in)
		if err != nil || created || got.ID != orig.ID || got.Source != SourceFilesystem || !got.Shared {
			t.Errorf("upsert existing = %+v, %v, %v", got, created, err)
		}
		got, created, err = db.UpsertTemplateByName(t.Context(), alice.ID, validTemplate("three"))
		if err != nil || !created || got.ID == "" {
			t.Errorf("upsert new = %+v, %v, %v", got, created, err)
		}
		// Bob's import of the same name makes his own template.
		got, created, err = db.UpsertTemplateByName(t.Context(), bob.ID, validTemplate("one"))
		if err != nil || !created || got.ID == orig.ID || got.Owner != bob.ID {
			t.Errorf("bob's upsert = %+v, %v, %v", got, created, err)
		}
	})
}

func TestDB_DeleteTemplate(t *testing.T) {
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	tmpl := mustTemplate(t, db, alice.ID, validTemplate("gone"))
	if _, err := db.ShareTemplate(t.Context(), alice.ID, tmpl.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTemplate(t.Context(), bob.ID, tmpl.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob deletes alice's shared template: %v", err)
	}
	if err := db.DeleteTemplate(t.Context(), alice.ID, BuiltinTemplates()[0].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete a built-in: %v", err)
	}
	if err := db.DeleteTemplate(t.Context(), alice.ID, tmpl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Template(t.Context(), alice.ID, tmpl.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := db.DeleteTemplate(t.Context(), alice.ID, tmpl.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	// The name is free again.
	mustTemplate(t, db, alice.ID, validTemplate("gone"))
}

// TestDB_TemplateOwnership: another account's private template does not
// exist for bob; a shared one he reads and copies but never changes.
func TestDB_TemplateOwnership(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	secret := mustTemplate(t, db, alice.ID, validTemplate("Alice's app"))

	if _, err := db.Template(ctx, bob.ID, secret.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob reads alice's private template: %v", err)
	}
	if _, _, err := db.ExportTemplate(ctx, bob.ID, secret.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob exports it: %v", err)
	}
	if _, err := db.CopyTemplate(ctx, bob.ID, secret.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob copies it: %v", err)
	}
	if _, err := db.ShareTemplate(ctx, bob.ID, secret.ID, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob shares it: %v", err)
	}
	if list, _ := db.Templates(ctx, bob.ID, TemplateFilter{}); slices.ContainsFunc(list, func(x Template) bool { return x.ID == secret.ID }) {
		t.Error("bob's list holds alice's private template")
	}
	if tags, _ := db.TemplateTags(ctx, bob.ID); !slices.Equal(tags, []string{"base", "debian", "docker", "nginx", "web"}) {
		t.Errorf("bob's tags %q", tags)
	}

	shared, err := db.ShareTemplate(ctx, alice.ID, secret.ID, true)
	if err != nil || !shared.Shared {
		t.Fatalf("share: %+v %v", shared, err)
	}
	got, err := db.Template(ctx, bob.ID, secret.ID)
	if err != nil || got.Owner != alice.ID || got.OwnerName != "alice" || got.EditableBy(bob.ID) || !got.EditableBy(alice.ID) {
		t.Fatalf("bob reads the shared template: %+v %v", got, err)
	}
	list, _ := db.Templates(ctx, bob.ID, TemplateFilter{})
	if !slices.ContainsFunc(list, func(x Template) bool { return x.ID == secret.ID && x.OwnerName == "alice" }) {
		t.Error("bob's list lacks alice's shared template")
	}
	copied, err := db.CopyTemplate(ctx, bob.ID, secret.ID)
	if err != nil || copied.Owner != bob.ID || copied.ID == secret.ID || copied.Shared || copied.Name != "Alice's app" || copied.Source != SourceCustom {
		t.Fatalf("bob's copy: %+v %v", copied, err)
	}
	copied.Scripts[0].Content = "echo bob's payload\n"
	if _, err := db.UpdateTemplate(ctx, bob.ID, copied); err != nil {
		t.Fatal(err)
	}
	if orig, _ := db.Template(ctx, alice.ID, secret.ID); orig.Scripts[0].Content != "echo hi\n" {
		t.Errorf("bob's edit of his copy reached alice's template: %q", orig.Scripts[0].Content)
	}

	// Unsharing hides it again; bob keeps his copy.
	if _, err := db.ShareTemplate(ctx, alice.ID, secret.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Template(ctx, bob.ID, secret.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("unshared template still readable: %v", err)
	}
	if _, err := db.Template(ctx, bob.ID, copied.ID); err != nil {
		t.Errorf("bob's copy: %v", err)
	}

	t.Run("CopyNames", func(t *testing.T) {
		var names []string
		for range 3 {
			c, err := db.CopyTemplate(ctx, alice.ID, secret.ID)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, c.Name)
		}
		if want := []string{"Alice's app (copy)", "Alice's app (copy 2)", "Alice's app (copy 3)"}; !slices.Equal(names, want) {
			t.Errorf("copy names %q, want %q", names, want)
		}
		long := mustTemplate(t, db, alice.ID, validTemplate(strings.Repeat("n", MaxTemplateName)))
		c, err := db.CopyTemplate(ctx, alice.ID, long.ID)
		if err != nil || c.Name != strings.Repeat("n", MaxTemplateName-7)+" (copy)" {
			t.Errorf("copy of a long name: %q %v", c.Name, err)
		}
	})
}

// TestDB_BuiltinTemplates: every account reads the built-ins, nobody
// changes them, and a copy is the user's own.
func TestDB_BuiltinTemplates(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")
	list, _ := db.Templates(ctx, alice.ID, TemplateFilter{})
	if len(list) != 3 {
		t.Fatalf("%d templates for a new account, want the 3 built-ins", len(list))
	}
	docker, _ := db.Templates(ctx, alice.ID, TemplateFilter{Tags: []string{"docker"}})
	if len(docker) != 1 || !docker[0].Features.Nesting || !docker[0].Features.Keyctl || docker[0].Source != SourceBuiltin ||
		docker[0].ID != "builtin-docker-host" || docker[0].Owner != "" || docker[0].EditableBy(alice.ID) {
		t.Fatalf("docker built-in = %+v", docker)
	}
	got, err := db.Template(ctx, alice.ID, docker[0].ID)
	if err != nil || !reflect.DeepEqual(got, docker[0]) {
		t.Errorf("read by id: %+v %v", got, err)
	}
	if _, err := db.ShareTemplate(ctx, alice.ID, docker[0].ID, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("share a built-in: %v", err)
	}
	mine, err := db.CopyTemplate(ctx, alice.ID, docker[0].ID)
	if err != nil || mine.Name != "Docker host" || mine.Source != SourceCustom || !mine.EditableBy(alice.ID) || mine.Scripts[0].Content != docker[0].Scripts[0].Content {
		t.Fatalf("copy of the built-in: %+v %v", mine, err)
	}
	mine.Scripts[0].Content = "echo mine\n"
	if _, err := db.UpdateTemplate(ctx, alice.ID, mine); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.Template(ctx, alice.ID, docker[0].ID); again.Scripts[0].Content == "echo mine\n" {
		t.Error("editing the copy changed the built-in")
	}
}

func TestTemplateFile(t *testing.T) {
	db, _ := mustOpen(t)
	ctx := t.Context()
	alice := mustUser(t, db, "alice")
	mustTemplate(t, db, alice.ID, validTemplate("mine"))
	list, _ := db.Templates(ctx, alice.ID, TemplateFilter{})

	t.Run("RoundTrip", func(t *testing.T) {
		for _, orig := range list {
			name, data, err := db.ExportTemplate(ctx, alice.ID, orig.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(name, ".corral-template.json") || strings.ContainsAny(name, " /") {
				t.Errorf("file name %q", name)
			}
			back, err := DecodeTemplateFile(data)
			if err != nil {
				t.Fatal(err)
			}
			want := orig
			want.ID, want.Owner, want.OwnerName, want.Source, want.Created, want.Updated = "", "", "", SourceCustom, back.Created, back.Updated
			if !reflect.DeepEqual(back, want) {
				t.Errorf("round trip of %s:\n%+v\nwant\n%+v", orig.Name, back, want)
			}
		}
	})
	t.Run("ImportConflict", func(t *testing.T) {
		_, data, _ := db.ExportTemplate(ctx, alice.ID, "builtin-debian-base")
		if _, err := db.ImportTemplate(ctx, alice.ID, data); err != nil {
			t.Errorf("import of a built-in's export: %v", err)
		}
		if _, err := db.ImportTemplate(ctx, alice.ID, data); !errors.Is(err, ErrConflict) {
			t.Errorf("import over existing name: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, data := range []string{
			"", "not json", `{"name":"x"}`, `{"corral_template":2,"name":"x"}`,
			`{"corral_template":1,"name":"x","surprise":true}`, `{"corral_template":1,"name":"x"} {}`,
		} {
			if _, err := db.ImportTemplate(ctx, alice.ID, []byte(data)); !errors.Is(err, ErrInvalid) {
				t.Errorf("ImportTemplate(%q) err = %v, want ErrInvalid", data, err)
			}
		}
	})
	t.Run("ImportValidates", func(t *testing.T) {
		_, err := db.ImportTemplate(ctx, alice.ID, []byte(`{"corral_template":1,"name":"x","cores":99999}`))
		var v *ValidationError
		if !errors.As(err, &v) || v.Fields["cores"] == "" {
			t.Errorf("err = %v, want a cores ValidationError", err)
		}
	})
}
