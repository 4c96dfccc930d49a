package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Templates are shared by every user of one Corral (a home lab), so they
// live in one top-level bucket, keyed by id. Names are unique regardless of
// letter case; with a handful of templates a scan inside the write
// transaction is simpler than an index and just as atomic.

type templateRecord struct {
	V int `json:"v"`
	Template
}

// TemplateFilter selects templates. Query matches a substring of the name
// in any letter case; every tag in Tags must be present (AND).
type TemplateFilter struct {
	Query string
	Tags  []string
}

// match reports whether t passes the filter.
func (f TemplateFilter) match(t Template) bool {
	if q := strings.TrimSpace(f.Query); q != "" && !strings.Contains(strings.ToLower(t.Name), strings.ToLower(q)) {
		return false
	}
	for _, tag := range NormalizeTags(f.Tags) {
		if !t.HasTag(tag) {
			return false
		}
	}
	return true
}

// Template returns one template.
func (db *DB) Template(ctx context.Context, id string) (Template, error) {
	var t Template
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		t, err = getTemplate(tx, id)
		return err
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: template %s: %w", id, err)
	}
	return t, nil
}

// Templates returns the templates passing f, ordered by name.
func (db *DB) Templates(ctx context.Context, f TemplateFilter) ([]Template, error) {
	var out []Template
	err := db.bolt.View(func(tx *bolt.Tx) error {
		all, err := allTemplates(ctx, tx)
		for _, t := range all {
			if f.match(t) {
				out = append(out, t)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list templates: %w", err)
	}
	return out, nil
}

// TemplateTags returns every tag used by any template, sorted.
func (db *DB) TemplateTags(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		all, err := allTemplates(ctx, tx)
		for _, t := range all {
			for _, tag := range t.Tags {
				seen[tag] = true
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: template tags: %w", err)
	}
	tags := make([]string, 0, len(seen))
	for tag := range seen {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	return tags, nil
}

// CreateTemplate validates t and stores it under a new id. It fails with a
// *ValidationError (which wraps ErrInvalid, and ErrConflict when the name
// is taken). An empty Source becomes SourceCustom.
func (db *DB) CreateTemplate(ctx context.Context, t Template) (Template, error) {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		t, err = db.createTemplate(tx, t)
		return err
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: create template: %w", err)
	}
	return t, nil
}

// UpdateTemplate replaces the template t.ID with t, keeping its id,
// creation time, source and import path. Containers made from it are not
// touched: they copied what they needed when they were created.
func (db *DB) UpdateTemplate(ctx context.Context, t Template) (Template, error) {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		old, err := getTemplate(tx, t.ID)
		if err != nil {
			return err
		}
		t.Source, t.Path, t.Created = old.Source, old.Path, old.Created
		return db.saveTemplate(tx, &t)
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: update template %s: %w", t.ID, err)
	}
	return t, nil
}

// UpsertTemplateByName creates t, or replaces the template of the same name
// (any letter case) keeping its id and creation time. Filesystem import uses
// it so that importing a directory twice yields the same state. created
// reports whether a new template was made.
func (db *DB) UpsertTemplateByName(ctx context.Context, t Template) (out Template, created bool, err error) {
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		id, err := templateIDByName(tx, strings.TrimSpace(t.Name), "")
		if err != nil {
			return err
		}
		if id == "" {
			created = true
			out, err = db.createTemplate(tx, t)
			return err
		}
		old, err := getTemplate(tx, id)
		if err != nil {
			return err
		}
		t.ID, t.Created = old.ID, old.Created
		if err := db.saveTemplate(tx, &t); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		return Template{}, false, fmt.Errorf("store: upsert template %q: %w", t.Name, err)
	}
	return out, created, nil
}

// DeleteTemplate removes a template. Containers made from it keep working.
func (db *DB) DeleteTemplate(ctx context.Context, id string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketTemplates))
		if b.Get([]byte(id)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: delete template %s: %w", id, err)
	}
	return nil
}

// createTemplate stores t under a new id inside tx.
func (db *DB) createTemplate(tx *bolt.Tx, t Template) (Template, error) {
	t.ID = newID()
	t.Created = db.now().UTC()
	if t.Source == "" {
		t.Source = SourceCustom
	}
	if err := db.saveTemplate(tx, &t); err != nil {
		return Template{}, err
	}
	return t, nil
}

// saveTemplate normalizes, validates, checks the name is free and writes t.
func (db *DB) saveTemplate(tx *bolt.Tx, t *Template) error {
	t.Normalize()
	if err := t.Validate(); err != nil {
		return err
	}
	other, err := templateIDByName(tx, t.Name, t.ID)
	if err != nil {
		return err
	}
	if other != "" {
		return conflictError("name", "A template named %q already exists", t.Name)
	}
	t.Updated = db.now().UTC()
	return put(tx.Bucket([]byte(bucketTemplates)), []byte(t.ID), templateRecord{V: recordVersion, Template: *t})
}

func getTemplate(tx *bolt.Tx, id string) (Template, error) {
	data := tx.Bucket([]byte(bucketTemplates)).Get([]byte(id))
	if data == nil {
		return Template{}, ErrNotFound
	}
	var rec templateRecord
	if err := decode(data, &rec); err != nil {
		return Template{}, err
	}
	return rec.Template, nil
}

// allTemplates decodes every template, ordered by name in any letter case.
func allTemplates(ctx context.Context, tx *bolt.Tx) ([]Template, error) {
	var out []Template
	err := tx.Bucket([]byte(bucketTemplates)).ForEach(func(_, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec templateRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		out = append(out, rec.Template)
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)
		if a != b {
			return a < b
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// templateIDByName returns the id of the template named name in any letter
// case, other than except, or "".
func templateIDByName(tx *bolt.Tx, name, except string) (string, error) {
	var found string
	err := tx.Bucket([]byte(bucketTemplates)).ForEach(func(k, v []byte) error {
		var rec templateRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		if string(k) != except && strings.EqualFold(rec.Name, name) {
			found = string(k)
		}
		return nil
	})
	return found, err
}
