// Package tmplfs reads container templates from a directory tree laid out
// as NAME/template.conf plus NAME/container-configs/{scripts,files,packages}
// and imports them into the store. It parses template.conf as bash would
// for plain assignments, without running anything.
//
// tmplfs imports store for its record types; store never imports tmplfs.
package tmplfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"corral/store"
)

// Store is where ImportDir puts templates; *store.DB satisfies it.
type Store interface {
	CreateTemplate(ctx context.Context, userID string, t store.Template) (store.Template, error)
	// UpsertTemplateByName creates t as the user's template or replaces the
	// user's template of the same name, keeping its id.
	UpsertTemplateByName(ctx context.Context, userID string, t store.Template) (store.Template, bool, error)
	Templates(ctx context.Context, userID string, f store.TemplateFilter) ([]store.Template, error)
	FreeTemplateName(ctx context.Context, userID, name, word string) (string, error)
}

// What to do with a template whose name the user already has.
const (
	Overwrite = "overwrite" // replace the user's template, keeping its id
	Rename    = "rename"    // import it as a new template under Choice.Name
	Skip      = "skip"      // leave it out
)

// Choice is the user's answer for one conflicting template.
type Choice struct {
	Action string // Overwrite, Rename or Skip
	Name   string // the new name, for Rename
}

// Options say how ImportDir treats names the user already has.
type Options struct {
	// Choices maps a template directory's name to the user's answer. A
	// conflicting template without one is left alone and reported in
	// Report.Conflicts, so the user can decide.
	Choices map[string]Choice
	// OverwriteAll replaces every template of the same name without asking
	// (the command line, which has nobody to ask).
	OverwriteAll bool
}

// Report says what ImportDir did, template by template.
type Report struct {
	Imported []Imported
	Errors   []TemplateError
	// Conflicts are templates whose name the user already has, with a
	// different recipe, waiting for the user's Choice.
	Conflicts []Conflict
	// Skipped names the directories the user chose to leave out.
	Skipped []string
	// Warnings name files that were skipped on purpose.
	Warnings []string
}

// Imported is one template written to the store, or found there already.
type Imported struct {
	Name    string
	ID      string
	Created bool // false: an existing template of that name was updated
	// Unchanged: the user's template of that name already had this recipe.
	Unchanged bool
	Scripts   int
	Files     int
	// Packages counts the template's packages over all managers.
	Packages int
}

// Conflict is a template whose name the user already has.
type Conflict struct {
	Dir        string // the template's directory name, the key of Options.Choices
	Name       string
	ExistingID string
	// FromHere: the user's template was imported from this very directory
	// (a re-import of edited files) rather than made or copied in Corral.
	FromHere bool
	// Suggest is a free name to import it under instead.
	Suggest string
	// Problem says why the user's last choice did not work, if it did not.
	Problem string
}

// TemplateError is one template that could not be imported.
type TemplateError struct {
	Name string
	Err  error
}

func (e TemplateError) Error() string { return e.Name + ": " + e.Err.Error() }

func (e TemplateError) Unwrap() error { return e.Err }

// String summarises the report, one line per template, for the CLI.
func (r Report) String() string {
	var b strings.Builder
	for _, im := range r.Imported {
		fmt.Fprintf(&b, "%s: %s (%d scripts, %d files, %d packages)\n", im.Name, im.Verb(), im.Scripts, im.Files, im.Packages)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for _, c := range r.Conflicts {
		fmt.Fprintf(&b, "conflict: you already have a template named %q; not imported\n", c.Name)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", e.Error())
	}
	fmt.Fprintf(&b, "%d imported, %d failed\n", len(r.Imported), len(r.Errors))
	return b.String()
}

// Verb says what happened to the template: created, updated or unchanged.
func (im Imported) Verb() string {
	switch {
	case im.Unchanged:
		return "unchanged"
	case im.Created:
		return "created"
	}
	return "updated"
}

// ImportDir imports every immediate subdirectory of root that holds a
// template.conf, in name order, as templates of the user userID. A name
// the user does not have yet is created; a template of the same name and
// recipe is left as it is, so importing the same tree twice changes
// nothing; any other template of that name is replaced, renamed or skipped
// as opt says, and otherwise reported as a conflict and left alone. A
// template that fails is reported in Report.Errors and the others still
// import; the returned error is only for a root that cannot be read or a
// cancelled ctx.
func ImportDir(ctx context.Context, root, userID string, dst Store, opt Options) (Report, error) {
	var r Report
	list, err := os.ReadDir(root)
	if err != nil {
		return r, fmt.Errorf("tmplfs: read templates directory: %w", err)
	}
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		dir := filepath.Join(root, e.Name())
		if !isTemplateDir(dir) {
			continue
		}
		t, warnings, err := ReadTemplate(dir)
		for _, w := range warnings {
			r.Warnings = append(r.Warnings, e.Name()+": "+w)
		}
		if err == nil {
			err = importOne(ctx, &r, e.Name(), t, userID, dst, opt)
		}
		if err != nil {
			r.Errors = append(r.Errors, TemplateError{Name: e.Name(), Err: err})
		}
	}
	return r, nil
}

// importOne writes one template read from directory dir, or records why not.
func importOne(ctx context.Context, r *Report, dir string, t store.Template, userID string, dst Store, opt Options) error {
	done := func(saved store.Template, created, unchanged bool) {
		r.Imported = append(r.Imported, Imported{
			Name: saved.Name, ID: saved.ID, Created: created, Unchanged: unchanged,
			Scripts: len(saved.Scripts), Files: len(saved.Files), Packages: len(saved.Packages),
		})
	}
	if opt.OverwriteAll {
		saved, created, err := dst.UpsertTemplateByName(ctx, userID, t)
		if err == nil {
			done(saved, created, false)
		}
		return err
	}
	existing, err := ownFor(ctx, dst, userID, t)
	if err != nil {
		return err
	}
	if existing == nil {
		saved, err := dst.CreateTemplate(ctx, userID, t)
		if err == nil {
			done(saved, true, false)
		}
		return err
	}
	fromHere := existing.Source == store.SourceFilesystem && existing.Path == t.Path
	if fromHere {
		t.Name = existing.Name // imported before, maybe under a name the user chose
		if store.SameRecipe(*existing, t) {
			done(*existing, false, true)
			return nil
		}
	}
	conflict := Conflict{Dir: dir, Name: existing.Name, ExistingID: existing.ID, FromHere: fromHere}
	choice, chosen := opt.Choices[dir]
	switch {
	case chosen && choice.Action == Overwrite:
		saved, _, err := dst.UpsertTemplateByName(ctx, userID, t)
		if err == nil {
			done(saved, false, false)
		}
		return err
	case chosen && choice.Action == Skip:
		r.Skipped = append(r.Skipped, dir)
		return nil
	case chosen && choice.Action == Rename:
		t.Name = strings.TrimSpace(choice.Name)
		saved, err := dst.CreateTemplate(ctx, userID, t)
		var verr *store.ValidationError
		if errors.As(err, &verr) && verr.Fields["name"] != "" {
			conflict.Problem = verr.Fields["name"]
			break // ask again
		}
		if err == nil {
			done(saved, true, false)
		}
		return err
	}
	if conflict.Suggest, err = dst.FreeTemplateName(ctx, userID, conflict.Name, "imported"); err != nil {
		return err
	}
	r.Conflicts = append(r.Conflicts, conflict)
	return nil
}

// ownFor finds the user's own template that t would replace: the one
// imported from t's directory before, whatever it is called now, or else
// the one named like t in any letter case; nil when there is none.
func ownFor(ctx context.Context, dst Store, userID string, t store.Template) (*store.Template, error) {
	list, err := dst.Templates(ctx, userID, store.TemplateFilter{})
	if err != nil {
		return nil, err
	}
	var byName *store.Template
	for _, o := range list {
		switch {
		case o.Owner != userID:
		case o.Source == store.SourceFilesystem && o.Path == t.Path:
			return &o, nil
		case strings.EqualFold(o.Name, t.Name) && byName == nil:
			byName = &o
		}
	}
	return byName, nil
}

// isTemplateDir reports whether dir (following symlinks) is a directory
// with a template.conf.
func isTemplateDir(dir string) bool {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, ConfName))
	return !errors.Is(err, fs.ErrNotExist)
}
