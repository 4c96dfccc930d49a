package store

import (
	"errors"
	"testing"
)

// TestDB_ResetTemplate: a copy of a built-in remembers it and can be reset
// to the built-in's current recipe, keeping its own id, name and sharing;
// other templates cannot, and nobody resets another account's copy.
func TestDB_ResetTemplate(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	mine, err := db.CopyTemplate(ctx, alice.ID, "builtin-docker-host")
	if err != nil {
		t.Fatal(err)
	}
	if mine.CopiedFrom != "builtin-docker-host" {
		t.Fatalf("copy remembers %q", mine.CopiedFrom)
	}
	mine.Name = "My docker"
	mine.Cores = 7
	mine.Scripts = mine.Scripts[:1]
	mine.Scripts[0].Content = "echo mine\n"
	if mine, err = db.UpdateTemplate(ctx, alice.ID, mine); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ShareTemplate(ctx, alice.ID, mine.ID, true); err != nil {
		t.Fatal(err)
	}
	builtin, _ := db.Template(ctx, alice.ID, "builtin-docker-host")
	if SameRecipe(mine, builtin) {
		t.Fatal("the edited copy still has the built-in's recipe")
	}

	if _, err := db.ResetTemplate(ctx, bob.ID, mine.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob resets alice's copy: %v", err)
	}
	reset, err := db.ResetTemplate(ctx, alice.ID, mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reset.ID != mine.ID || reset.Name != "My docker" || !reset.Shared || reset.CopiedFrom != "builtin-docker-host" ||
		reset.Source != SourceCustom || !reset.Created.Equal(mine.Created) {
		t.Errorf("reset kept %+v", reset)
	}
	stored, _ := db.Template(ctx, alice.ID, mine.ID)
	builtin.Name = stored.Name
	if !SameRecipe(stored, builtin) || stored.Cores != 2 || len(stored.Scripts) != 2 {
		t.Errorf("after reset the copy is %+v", stored)
	}

	own := mustTemplate(t, db, alice.ID, validTemplate("own"))
	if _, err := db.ResetTemplate(ctx, alice.ID, own.ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("reset of a template that is no copy: %v", err)
	}
	dup, _ := db.CopyTemplate(ctx, alice.ID, own.ID)
	if dup.CopiedFrom != "" {
		t.Errorf("a copy of an own template remembers %q", dup.CopiedFrom)
	}
}

func TestDB_FreeTemplateName(t *testing.T) {
	ctx := t.Context()
	db, _ := mustOpen(t)
	alice := mustUser(t, db, "alice")
	if got, err := db.FreeTemplateName(ctx, alice.ID, "web", "imported"); err != nil || got != "web" {
		t.Errorf("free name with no templates: %q %v", got, err)
	}
	mustTemplate(t, db, alice.ID, validTemplate("web"))
	mustTemplate(t, db, alice.ID, validTemplate("Web (imported)"))
	if got, _ := db.FreeTemplateName(ctx, alice.ID, "WEB", "imported"); got != "WEB (imported 2)" {
		t.Errorf("free name %q", got)
	}
}
