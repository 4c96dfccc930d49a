package tmplfs

import (
	"context"

	"corral/store"
)

// Library is the template store together with the templates directory
// configured with --templates, for the "Import from directory" button.
// main passes it where handlers expect a template store.
type Library struct {
	*store.DB
	Dir string
}

// TemplatesDir returns the configured directory ("" when none).
func (l Library) TemplatesDir() string { return l.Dir }

// ImportTemplatesDir imports the configured directory as the user's
// templates (see ImportDir).
func (l Library) ImportTemplatesDir(ctx context.Context, userID string, opt Options) (Report, error) {
	return ImportDir(ctx, l.Dir, userID, l.DB, opt)
}
