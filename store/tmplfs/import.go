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
	// UpsertTemplateByName creates t as the user's template or replaces the
	// user's template of the same name, keeping its id.
	UpsertTemplateByName(ctx context.Context, userID string, t store.Template) (store.Template, bool, error)
}

// Report says what ImportDir did, template by template.
type Report struct {
	Imported []Imported
	Errors   []TemplateError
	// Warnings name files that were skipped on purpose.
	Warnings []string
}

// Imported is one template written to the store.
type Imported struct {
	Name    string
	ID      string
	Created bool // false: an existing template of that name was updated
	Scripts int
	Files   int
	// Packages counts the template's packages over all managers.
	Packages int
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
		verb := "updated"
		if im.Created {
			verb = "created"
		}
		fmt.Fprintf(&b, "%s: %s (%d scripts, %d files, %d packages)\n", im.Name, verb, im.Scripts, im.Files, im.Packages)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "error: %s\n", e.Error())
	}
	fmt.Fprintf(&b, "%d imported, %d failed\n", len(r.Imported), len(r.Errors))
	return b.String()
}

// ImportDir imports every immediate subdirectory of root that holds a
// template.conf, in name order, as templates of the user userID. Importing
// the same tree again updates the same templates (matched by name) and
// leaves the store as it was. A
// template that fails is reported in Report.Errors and the others still
// import; the returned error is only for a root that cannot be read or a
// cancelled ctx.
func ImportDir(ctx context.Context, root, userID string, dst Store) (Report, error) {
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
		if err != nil {
			r.Errors = append(r.Errors, TemplateError{Name: e.Name(), Err: err})
			continue
		}
		saved, created, err := dst.UpsertTemplateByName(ctx, userID, t)
		if err != nil {
			r.Errors = append(r.Errors, TemplateError{Name: e.Name(), Err: err})
			continue
		}
		r.Imported = append(r.Imported, Imported{
			Name: saved.Name, ID: saved.ID, Created: created,
			Scripts: len(saved.Scripts), Files: len(saved.Files), Packages: len(saved.Packages),
		})
	}
	return r, nil
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
