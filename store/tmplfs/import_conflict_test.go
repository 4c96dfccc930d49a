package tmplfs

import (
	"os"
	"path/filepath"
	"testing"

	"corral/store"
)

// TestImportDir_Conflicts: a name the user already has is not replaced
// behind their back. It is reported with a free name to use instead; the
// user's answer (overwrite, rename or skip) applies on the next import.
func TestImportDir_Conflicts(t *testing.T) {
	ctx := t.Context()
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
	write("web/template.conf", "TEMPLATE_CPU=2\n")
	write("db/template.conf", "TEMPLATE_CPU=4\n")
	write("new/template.conf", "")
	db, uid := mustOpen(t)
	mine, err := db.CreateTemplate(ctx, uid, store.Template{Name: "Web", Cores: 1, Features: store.Features{Unprivileged: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateTemplate(ctx, uid, store.Template{Name: "db", Cores: 8}); err != nil {
		t.Fatal(err)
	}

	r, err := ImportDir(ctx, root, uid, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Imported) != 1 || r.Imported[0].Name != "new" || !r.Imported[0].Created || len(r.Errors) != 0 {
		t.Fatalf("first import: %+v", r)
	}
	if len(r.Conflicts) != 2 {
		t.Fatalf("conflicts %+v", r.Conflicts)
	}
	web := r.Conflicts[1]
	if web.Dir != "web" || web.ExistingID != mine.ID || web.FromHere || web.Name != "Web" || web.Suggest != "Web (imported)" {
		t.Errorf("web conflict %+v", web)
	}
	if got, _ := db.Template(ctx, uid, mine.ID); got.Cores != 1 {
		t.Fatal("the user's Web was replaced without asking")
	}

	// Answers: web under a name that is taken (asked again), db skipped.
	r, err = ImportDir(ctx, root, uid, db, Options{Choices: map[string]Choice{
		"web": {Action: Rename, Name: "DB"}, "db": {Action: Skip},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Conflicts) != 1 || r.Conflicts[0].Dir != "web" || r.Conflicts[0].Problem != `A template named "DB" already exists` {
		t.Fatalf("taken new name: %+v", r.Conflicts)
	}
	if len(r.Skipped) != 1 || r.Skipped[0] != "db" || len(r.Imported) != 1 || !r.Imported[0].Unchanged {
		t.Errorf("skip and unchanged: %+v", r)
	}

	// Renamed: both live side by side, and the renamed one stays the
	// directory's: importing again finds it unchanged.
	r, _ = ImportDir(ctx, root, uid, db, Options{Choices: map[string]Choice{"web": {Action: Rename, Name: "web from disk"}}})
	if len(r.Imported) != 2 || r.Imported[1].Name != "web from disk" || !r.Imported[1].Created {
		t.Fatalf("rename: %+v", r)
	}
	r, _ = ImportDir(ctx, root, uid, db, Options{})
	if len(r.Conflicts) != 1 || r.Conflicts[0].Dir != "db" || len(r.Imported) != 2 || !r.Imported[1].Unchanged || r.Imported[1].Name != "web from disk" {
		t.Fatalf("import after the rename: %+v", r)
	}
	if got, _ := db.Template(ctx, uid, mine.ID); got.Cores != 1 {
		t.Fatal("the user's Web changed")
	}

	// Overwrite replaces in place, keeping the id.
	dbID := r.Conflicts[0].ExistingID
	r, _ = ImportDir(ctx, root, uid, db, Options{Choices: map[string]Choice{"db": {Action: Overwrite}}})
	got, _ := db.Template(ctx, uid, dbID)
	if got.Cores != 4 || got.Source != store.SourceFilesystem || got.Name != "db" {
		t.Errorf("overwritten db: %+v", got)
	}
	if len(r.Conflicts) != 0 || len(r.Imported) != 3 {
		t.Errorf("after overwriting: %+v", r)
	}

	// Edited on disk since: a conflict again, now marked as from here and
	// named as the user named it.
	write("web/template.conf", "TEMPLATE_CPU=3\n")
	r, _ = ImportDir(ctx, root, uid, db, Options{})
	if len(r.Conflicts) != 1 || !r.Conflicts[0].FromHere || r.Conflicts[0].Name != "web from disk" {
		t.Fatalf("re-import of an edited template: %+v", r.Conflicts)
	}
	r, _ = ImportDir(ctx, root, uid, db, Options{Choices: map[string]Choice{"web": {Action: Overwrite}}})
	if len(r.Imported) != 3 || r.Imported[2].Name != "web from disk" || r.Imported[2].Verb() != "updated" {
		t.Errorf("overwrite from here: %+v", r.Imported)
	}
}
