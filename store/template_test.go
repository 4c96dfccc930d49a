package store

import (
	"errors"
	"reflect"
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

func mustTemplate(t *testing.T, db *DB, tmpl Template) Template {
	t.Helper()
	out, err := db.CreateTemplate(t.Context(), tmpl)
	if err != nil {
		t.Fatalf("CreateTemplate(%q): %v", tmpl.Name, err)
	}
	return out
}

func TestDB_CreateTemplate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		clock := newFakeClock()
		db, _ := mustOpen(t, withClock(clock))
		in := validTemplate("  Web Server ", "Web", " nginx", "web", "")
		in.Files[0].TargetDir = "/etc/"
		got := mustTemplate(t, db, in)
		if got.ID == "" || got.Source != SourceCustom || !got.Created.Equal(clock.Now()) || !got.Updated.Equal(clock.Now()) {
			t.Errorf("created %+v", got)
		}
		if got.Name != "Web Server" || !reflect.DeepEqual(got.Tags, []string{"web", "nginx"}) || got.Files[0].TargetDir != "/etc" {
			t.Errorf("not normalized: name %q tags %q target %q", got.Name, got.Tags, got.Files[0].TargetDir)
		}
		read, err := db.Template(t.Context(), got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(read, got) {
			t.Errorf("read back\n%+v\nwant\n%+v", read, got)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		db, _ := mustOpen(t)
		mustTemplate(t, db, validTemplate("Docker"))
		_, err := db.CreateTemplate(t.Context(), validTemplate("docker"))
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
		if _, err := db.Template(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Template(nope) err = %v", err)
		}
	})

	t.Run("ConcurrentSameName", func(t *testing.T) {
		db, _ := mustOpen(t)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { _, errs[i] = db.CreateTemplate(t.Context(), validTemplate("Race")) })
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

func TestDB_Templates(t *testing.T) {
	db, _ := mustOpen(t)
	mustTemplate(t, db, validTemplate("Static web", "web", "nginx"))
	mustTemplate(t, db, validTemplate("webapp builder", "webapp", "nodejs"))
	mustTemplate(t, db, validTemplate("Docker host", "docker", "web"))
	mustTemplate(t, db, validTemplate("alpha", "nginx"))

	tests := []struct {
		name   string
		filter TemplateFilter
		want   []string
	}{
		{"all by name", TemplateFilter{}, []string{"alpha", "Docker host", "Static web", "webapp builder"}},
		{"query any case", TemplateFilter{Query: "WEB"}, []string{"Static web", "webapp builder"}},
		{"whole tags only", TemplateFilter{Tags: []string{"web"}}, []string{"Docker host", "Static web"}},
		{"tags AND", TemplateFilter{Tags: []string{"web", "nginx"}}, []string{"Static web"}},
		{"tags AND query", TemplateFilter{Query: "host", Tags: []string{"web"}}, []string{"Docker host"}},
		{"tag case", TemplateFilter{Tags: []string{"NGINX"}}, []string{"alpha", "Static web"}},
		{"no match", TemplateFilter{Tags: []string{"web", "nodejs"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := db.Templates(t.Context(), tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tmpl := range list {
				names = append(names, tmpl.Name)
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("got %q, want %q", names, tt.want)
			}
		})
	}

	tags, err := db.TemplateTags(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"docker", "nginx", "nodejs", "web", "webapp"}; !reflect.DeepEqual(tags, want) {
		t.Errorf("TemplateTags = %q, want %q", tags, want)
	}
}

func TestDB_UpdateTemplate(t *testing.T) {
	clock := newFakeClock()
	db, _ := mustOpen(t, withClock(clock))
	orig := mustTemplate(t, db, validTemplate("one"))
	mustTemplate(t, db, validTemplate("two"))

	t.Run("OK", func(t *testing.T) {
		clock.Add(1000)
		edit := orig
		edit.Source, edit.Path = SourceFilesystem, "/elsewhere" // ignored: not editable
		edit.Description = "changed"
		edit.Scripts = []Script{{Name: "b.sh", Content: "b"}, {Name: "a.sh", Content: "a"}}
		got, err := db.UpdateTemplate(t.Context(), edit)
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != SourceCustom || got.Path != "" || !got.Created.Equal(orig.Created) || !got.Updated.Equal(clock.Now()) {
			t.Errorf("bookkeeping changed: %+v", got)
		}
		read, _ := db.Template(t.Context(), orig.ID)
		if read.Description != "changed" || read.Scripts[0].Name != "b.sh" {
			t.Errorf("read back %+v", read)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		edit := orig
		edit.Name = "TWO"
		if _, err := db.UpdateTemplate(t.Context(), edit); !errors.Is(err, ErrConflict) {
			t.Errorf("rename onto another name: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		edit := orig
		edit.ID = "missing"
		if _, err := db.UpdateTemplate(t.Context(), edit); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("Upsert", func(t *testing.T) {
		in := validTemplate("ONE")
		in.Source = SourceFilesystem
		got, created, err := db.UpsertTemplateByName(t.Context(), in)
		if err != nil || created || got.ID != orig.ID || got.Source != SourceFilesystem {
			t.Errorf("upsert existing = %+v, %v, %v", got, created, err)
		}
		got, created, err = db.UpsertTemplateByName(t.Context(), validTemplate("three"))
		if err != nil || !created || got.ID == "" {
			t.Errorf("upsert new = %+v, %v, %v", got, created, err)
		}
	})
}

func TestDB_DeleteTemplate(t *testing.T) {
	db, _ := mustOpen(t)
	tmpl := mustTemplate(t, db, validTemplate("gone"))
	if err := db.DeleteTemplate(t.Context(), tmpl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Template(t.Context(), tmpl.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := db.DeleteTemplate(t.Context(), tmpl.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	// The name is free again.
	mustTemplate(t, db, validTemplate("gone"))
}

func TestDB_SeedTemplates(t *testing.T) {
	db, path := mustOpen(t)
	ctx := t.Context()
	if err := db.SeedTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := db.Templates(ctx, TemplateFilter{})
	if len(list) != 3 {
		t.Fatalf("seeded %d templates, want 3", len(list))
	}
	docker, _ := db.Templates(ctx, TemplateFilter{Tags: []string{"docker"}})
	if len(docker) != 1 || !docker[0].Features.Nesting || !docker[0].Features.Keyctl || docker[0].Source != SourceBuiltin {
		t.Errorf("docker built-in = %+v", docker)
	}
	// Deleted built-ins stay deleted, also after reopening.
	if err := db.DeleteTemplate(ctx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.SeedTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := db2.Templates(ctx, TemplateFilter{}); len(list) != 2 {
		t.Errorf("after re-seed %d templates, want 2", len(list))
	}

	t.Run("KeepsUserTemplateOfSameName", func(t *testing.T) {
		db, _ := mustOpen(t)
		mine := mustTemplate(t, db, validTemplate("Docker host"))
		if err := db.SeedTemplates(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ := db.Templates(ctx, TemplateFilter{})
		if len(list) != 3 {
			t.Errorf("%d templates, want 3", len(list))
		}
		if got, _ := db.Template(ctx, mine.ID); got.Source != SourceCustom {
			t.Errorf("user template overwritten: %+v", got)
		}
	})
}

func TestTemplateFile(t *testing.T) {
	db, _ := mustOpen(t)
	ctx := t.Context()
	if err := db.SeedTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := db.Templates(ctx, TemplateFilter{})

	t.Run("RoundTrip", func(t *testing.T) {
		for _, orig := range list {
			name, data, err := db.ExportTemplate(ctx, orig.ID)
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
			want.ID, want.Source, want.Created, want.Updated = "", SourceCustom, back.Created, back.Updated
			if !reflect.DeepEqual(back, want) {
				t.Errorf("round trip of %s:\n%+v\nwant\n%+v", orig.Name, back, want)
			}
		}
	})
	t.Run("ImportConflict", func(t *testing.T) {
		_, data, _ := db.ExportTemplate(ctx, list[0].ID)
		if _, err := db.ImportTemplate(ctx, data); !errors.Is(err, ErrConflict) {
			t.Errorf("import over existing name: %v", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, data := range []string{
			"", "not json", `{"name":"x"}`, `{"corral_template":2,"name":"x"}`,
			`{"corral_template":1,"name":"x","surprise":true}`, `{"corral_template":1,"name":"x"} {}`,
		} {
			if _, err := db.ImportTemplate(ctx, []byte(data)); !errors.Is(err, ErrInvalid) {
				t.Errorf("ImportTemplate(%q) err = %v, want ErrInvalid", data, err)
			}
		}
	})
	t.Run("ImportValidates", func(t *testing.T) {
		_, err := db.ImportTemplate(ctx, []byte(`{"corral_template":1,"name":"x","cores":99999}`))
		var v *ValidationError
		if !errors.As(err, &v) || v.Fields["cores"] == "" {
			t.Errorf("err = %v, want a cores ValidationError", err)
		}
	})
}
