package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	bolt "go.etcd.io/bbolt"
)

// TemplateFileFormat is the version of the one-file template export. A file
// with a higher version is refused rather than half-read.
const TemplateFileFormat = 1

// templateFile is the shareable form of a template: its recipe without the
// id, timestamps, source or import path of this particular Corral.
type templateFile struct {
	Format      int       `json:"corral_template"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	OSTemplate  string    `json:"os_template,omitempty"`
	Cores       int       `json:"cores,omitempty"`
	Memory      int       `json:"memory,omitempty"`
	Swap        *int      `json:"swap,omitempty"`
	Disk        int       `json:"disk,omitempty"`
	Storage     string    `json:"storage,omitempty"`
	Bridge      string    `json:"bridge,omitempty"`
	Features    Features  `json:"features"`
	Scripts     []Script  `json:"scripts,omitempty"`
	Files       []File    `json:"files,omitempty"`
	Packages    []Package `json:"packages,omitempty"`
}

// EncodeTemplateFile writes t as one JSON file that DecodeTemplateFile
// reads back to the same recipe.
func EncodeTemplateFile(t Template) ([]byte, error) {
	f := templateFile{
		Format: TemplateFileFormat, Name: t.Name, Description: t.Description, Tags: t.Tags,
		OSTemplate: t.OSTemplate, Cores: t.Cores, Memory: t.Memory, Swap: t.Swap, Disk: t.Disk,
		Storage: t.Storage, Bridge: t.Bridge, Features: t.Features,
		Scripts: t.Scripts, Files: t.Files, Packages: t.Packages,
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("store: encode template file: %w", err)
	}
	return append(b, '\n'), nil
}

// DecodeTemplateFile reads a file written by EncodeTemplateFile. The result
// has no id and SourceCustom; it is not validated yet. Errors wrap ErrInvalid.
func DecodeTemplateFile(data []byte) (Template, error) {
	var f templateFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Template{}, fmt.Errorf("%w: not a Corral template file: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Template{}, fmt.Errorf("%w: not a Corral template file: trailing data", ErrInvalid)
	}
	switch {
	case f.Format == 0:
		return Template{}, fmt.Errorf("%w: not a Corral template file (no corral_template version)", ErrInvalid)
	case f.Format > TemplateFileFormat:
		return Template{}, fmt.Errorf("%w: template file format %d is newer than this Corral understands (%d); upgrade corral", ErrInvalid, f.Format, TemplateFileFormat)
	}
	return Template{
		Name: f.Name, Description: f.Description, Tags: f.Tags, Source: SourceCustom,
		OSTemplate: f.OSTemplate, Cores: f.Cores, Memory: f.Memory, Swap: f.Swap, Disk: f.Disk,
		Storage: f.Storage, Bridge: f.Bridge, Features: f.Features,
		Scripts: f.Scripts, Files: f.Files, Packages: f.Packages,
	}, nil
}

// ExportTemplate returns a suggested file name and the one-file export of
// template id, which the user must be able to read (see Template).
func (db *DB) ExportTemplate(ctx context.Context, userID, id string) (filename string, data []byte, err error) {
	var t Template
	err = db.bolt.View(func(tx *bolt.Tx) error {
		t, err = visibleTemplate(tx, userID, id)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("store: export template %s: %w", id, err)
	}
	data, err = EncodeTemplateFile(t)
	if err != nil {
		return "", nil, err
	}
	return fileSlug(t.Name) + ".corral-template.json", data, nil
}

// ImportTemplate creates one of the user's templates from a file written by
// ExportTemplate. A name the user already has fails like CreateTemplate
// does, so nothing is overwritten.
func (db *DB) ImportTemplate(ctx context.Context, userID string, data []byte) (Template, error) {
	t, err := DecodeTemplateFile(data)
	if err != nil {
		return Template{}, fmt.Errorf("store: import template: %w", err)
	}
	return db.CreateTemplate(ctx, userID, t)
}

// fileSlug turns a name into a safe file name stem.
func fileSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if s == "" {
		return "template"
	}
	return s
}
