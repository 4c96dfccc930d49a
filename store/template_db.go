package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Templates belong to one account, like nodes: each user's templates live in
// a bucket of their own under "templates", keyed by id, and every method
// takes the user. A user reads their own templates, the built-ins and the
// templates other accounts share; a user changes only their own. Another
// account's unshared template is ErrNotFound, exactly like a missing one.
// Names are unique per account in any letter case; with a handful of
// templates a scan inside the write transaction is simpler than an index and
// just as atomic.

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

// Template returns a template the user may read: their own, a built-in, or
// one another account shares.
func (db *DB) Template(ctx context.Context, userID, id string) (Template, error) {
	var t Template
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		t, err = visibleTemplate(tx, userID, id)
		return err
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: template %s: %w", id, err)
	}
	return t, nil
}

// Templates returns the templates the user may read that pass f, ordered by
// name; of equal names the user's own come first, then shared ones, then
// built-ins.
func (db *DB) Templates(ctx context.Context, userID string, f TemplateFilter) ([]Template, error) {
	var out []Template
	err := db.bolt.View(func(tx *bolt.Tx) error {
		all, err := visibleTemplates(ctx, tx, userID)
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

// TemplateTags returns every tag of the templates the user may read, sorted.
func (db *DB) TemplateTags(ctx context.Context, userID string) ([]string, error) {
	var tags []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		all, err := visibleTemplates(ctx, tx, userID)
		for _, t := range all {
			tags = append(tags, t.Tags...)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: template tags: %w", err)
	}
	slices.Sort(tags)
	return slices.Compact(tags), nil
}

// CreateTemplate validates t and stores it as the user's under a new id. It
// fails with a *ValidationError (which wraps ErrInvalid, and ErrConflict when
// the user already has a template of that name). An empty Source, or
// SourceBuiltin, becomes SourceCustom: only code makes built-ins.
func (db *DB) CreateTemplate(ctx context.Context, userID string, t Template) (Template, error) {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, owner, err := ownTemplateBucket(tx, userID)
		if err != nil {
			return err
		}
		t, err = db.createTemplate(b, owner, t)
		return err
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: create template: %w", err)
	}
	return t, nil
}

// UpdateTemplate replaces the user's template t.ID with t, keeping its id,
// creation time, source, import path and shared flag. Only the owner may:
// a built-in or another account's template is ErrNotFound. Containers and
// jobs made from it are not touched: they copied what they needed.
func (db *DB) UpdateTemplate(ctx context.Context, userID string, t Template) (Template, error) {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		old, err := ownTemplate(tx, userID, t.ID)
		if err != nil {
			return err
		}
		t.Source, t.Path, t.Created, t.Shared = old.Source, old.Path, old.Created, old.Shared
		t.Owner, t.OwnerName, t.CopiedFrom = old.Owner, old.OwnerName, old.CopiedFrom
		return db.saveTemplate(userBucket(tx, bucketTemplates, userID), &t)
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: update template %s: %w", t.ID, err)
	}
	return t, nil
}

// UpsertTemplateByName creates t as the user's, or replaces the user's
// template of the same name (any letter case) keeping its id, creation time
// and shared flag. Filesystem import uses it so that importing a directory
// twice yields the same state. created reports whether a new template was
// made.
func (db *DB) UpsertTemplateByName(ctx context.Context, userID string, t Template) (out Template, created bool, err error) {
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b, owner, err := ownTemplateBucket(tx, userID)
		if err != nil {
			return err
		}
		id, err := templateIDByName(b, strings.TrimSpace(t.Name), "")
		if err != nil {
			return err
		}
		if id == "" {
			created = true
			out, err = db.createTemplate(b, owner, t)
			return err
		}
		old, err := ownTemplate(tx, userID, id)
		if err != nil {
			return err
		}
		t.ID, t.Created, t.Shared, t.Owner, t.OwnerName = old.ID, old.Created, old.Shared, old.Owner, old.OwnerName
		t.CopiedFrom = old.CopiedFrom
		if err := db.saveTemplate(b, &t); err != nil {
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

// DeleteTemplate removes one of the user's templates; anything else is
// ErrNotFound. Containers and jobs made from it keep working.
func (db *DB) DeleteTemplate(ctx context.Context, userID, id string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := ownTemplate(tx, userID, id); err != nil {
			return err
		}
		return userBucket(tx, bucketTemplates, userID).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: delete template %s: %w", id, err)
	}
	return nil
}

// ShareTemplate marks one of the user's templates shared (every account may
// read and copy it) or private again; anything but the user's own is
// ErrNotFound.
func (db *DB) ShareTemplate(ctx context.Context, userID, id string, shared bool) (Template, error) {
	var t Template
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		if t, err = ownTemplate(tx, userID, id); err != nil {
			return err
		}
		t.Shared = shared
		return db.saveTemplate(userBucket(tx, bucketTemplates, userID), &t)
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: share template %s: %w", id, err)
	}
	return t, nil
}

// CopyTemplate stores, as the user's own, a copy of a template the user may
// read (a built-in, a shared one, or their own). The copy is private and
// custom, and named like the original unless the user already has that
// name; then "NAME (copy)", "NAME (copy 2)", ... A copy of a built-in
// remembers it (CopiedFrom), so that it can be reset to it.
func (db *DB) CopyTemplate(ctx context.Context, userID, id string) (Template, error) {
	var t Template
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		src, err := visibleTemplate(tx, userID, id)
		if err != nil {
			return err
		}
		b, owner, err := ownTemplateBucket(tx, userID)
		if err != nil {
			return err
		}
		src.Name, err = freeName(b, src.Name, "copy")
		if err != nil {
			return err
		}
		if src.Owner == "" {
			src.CopiedFrom = src.ID
		}
		src.Source, src.Path, src.Shared = SourceCustom, "", false
		t, err = db.createTemplate(b, owner, src)
		return err
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: copy template %s: %w", id, err)
	}
	return t, nil
}

// ResetTemplate replaces the recipe of one of the user's copies of a
// built-in with the built-in's current one, keeping the copy's id, name,
// creation time and shared flag. A template that is not such a copy fails
// with ErrInvalid; one whose built-in Corral no longer ships, ErrNotFound.
func (db *DB) ResetTemplate(ctx context.Context, userID, id string) (Template, error) {
	var t Template
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		old, err := ownTemplate(tx, userID, id)
		if err != nil {
			return err
		}
		if old.CopiedFrom == "" {
			return fmt.Errorf("%w: %q is not a copy of a built-in", ErrInvalid, old.Name)
		}
		b, ok := builtinTemplate(old.CopiedFrom)
		if !ok {
			return fmt.Errorf("built-in %s: %w", old.CopiedFrom, ErrNotFound)
		}
		t = b
		t.ID, t.Name, t.Created, t.Shared = old.ID, old.Name, old.Created, old.Shared
		t.Owner, t.OwnerName, t.CopiedFrom = old.Owner, old.OwnerName, old.CopiedFrom
		t.Source, t.Path = SourceCustom, ""
		return db.saveTemplate(userBucket(tx, bucketTemplates, userID), &t)
	})
	if err != nil {
		return Template{}, fmt.Errorf("store: reset template %s: %w", id, err)
	}
	return t, nil
}

// SameRecipe reports whether a and b describe the same container: the same
// exported file, whatever their ids, owners, sources and times.
func SameRecipe(a, b Template) bool {
	ea, err1 := EncodeTemplateFile(a)
	eb, err2 := EncodeTemplateFile(b)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

// FreeTemplateName returns name if the user has no template of that name,
// else the first of "name (word)", "name (word 2)", ... that is free, e.g.
// for an import that should not replace a template of the same name.
func (db *DB) FreeTemplateName(ctx context.Context, userID, name, word string) (string, error) {
	var free string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := userBucket(tx, bucketTemplates, userID)
		if b == nil {
			free = name
			return nil
		}
		var err error
		free, err = freeName(b, name, word)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: free template name: %w", err)
	}
	return free, nil
}

// freeName is name, or the first of "name (word)", "name (word 2)", ...
// that the user's bucket b does not hold yet, cut to fit MaxTemplateName.
func freeName(b *bolt.Bucket, name, word string) (string, error) {
	for i := 1; ; i++ {
		candidate := name
		if i > 1 {
			suffix := " (" + word + ")"
			if i > 2 {
				suffix = fmt.Sprintf(" (%s %d)", word, i-1)
			}
			candidate = truncateRunes(name, MaxTemplateName-utf8.RuneCountInString(suffix)) + suffix
		}
		id, err := templateIDByName(b, candidate, "")
		if err != nil || id == "" {
			return candidate, err
		}
	}
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// createTemplate stores t in the owner's bucket b under a new id.
func (db *DB) createTemplate(b *bolt.Bucket, owner userRecord, t Template) (Template, error) {
	t.ID = newID()
	t.Owner, t.OwnerName = owner.ID, owner.Username
	t.Created = db.now().UTC()
	if t.Source == "" || t.Source == SourceBuiltin {
		t.Source = SourceCustom
	}
	if err := db.saveTemplate(b, &t); err != nil {
		return Template{}, err
	}
	return t, nil
}

// saveTemplate normalizes, validates, checks the name is free in the user's
// bucket b and writes t there.
func (db *DB) saveTemplate(b *bolt.Bucket, t *Template) error {
	t.Normalize()
	if err := t.Validate(); err != nil {
		return err
	}
	other, err := templateIDByName(b, t.Name, t.ID)
	if err != nil {
		return err
	}
	if other != "" {
		return conflictError("name", "A template named %q already exists", t.Name)
	}
	t.Updated = db.now().UTC()
	return put(b, []byte(t.ID), templateRecord{V: recordVersion, Template: *t})
}

// ownTemplateBucket returns the user's template bucket, creating it, and
// the user, who must exist.
func ownTemplateBucket(tx *bolt.Tx, userID string) (*bolt.Bucket, userRecord, error) {
	u, err := userByID(tx, userID)
	if err != nil {
		return nil, u, fmt.Errorf("user %q: %w", userID, err)
	}
	b, err := createUserBucket(tx, bucketTemplates, userID)
	return b, u, err
}

// ownTemplate reads one of the user's own templates.
func ownTemplate(tx *bolt.Tx, userID, id string) (Template, error) {
	rec, err := ownedRecord[templateRecord](tx, bucketTemplates, userID, id)
	if err != nil {
		return Template{}, err
	}
	t := rec.Template
	t.Owner = userID
	t.OwnerName = usernameOf(tx, userID)
	return t, nil
}

// visibleTemplate reads a template the user may read: a built-in, their
// own, or another account's shared one.
func visibleTemplate(tx *bolt.Tx, userID, id string) (Template, error) {
	if t, ok := builtinTemplate(id); ok {
		return t, nil
	}
	if userID == "" || id == "" {
		return Template{}, ErrNotFound
	}
	if t, err := ownTemplate(tx, userID, id); !errors.Is(err, ErrNotFound) {
		return t, err
	}
	var found *Template
	err := forEachTemplateOwner(tx, func(owner string, b *bolt.Bucket) error {
		v := b.Get([]byte(id))
		if found != nil || owner == userID || v == nil {
			return nil
		}
		var rec templateRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		if rec.Shared {
			t := rec.Template
			t.Owner, t.OwnerName = owner, usernameOf(tx, owner)
			found = &t
		}
		return nil
	})
	if err != nil {
		return Template{}, err
	}
	if found == nil {
		return Template{}, ErrNotFound
	}
	return *found, nil
}

// visibleTemplates decodes every template the user may read, sorted by
// name in any letter case, then own before shared before built-in.
func visibleTemplates(ctx context.Context, tx *bolt.Tx, userID string) ([]Template, error) {
	out := BuiltinTemplates()
	err := forEachTemplateOwner(tx, func(owner string, b *bolt.Bucket) error {
		mine := owner == userID
		name := usernameOf(tx, owner)
		return b.ForEach(func(_, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var rec templateRecord
			if err := decode(v, &rec); err != nil {
				return err
			}
			if mine || rec.Shared {
				t := rec.Template
				t.Owner, t.OwnerName = owner, name
				out = append(out, t)
			}
			return nil
		})
	})
	rank := func(t Template) int {
		switch {
		case t.Owner == userID && userID != "":
			return 0
		case t.Owner != "":
			return 1
		}
		return 2
	}
	slices.SortFunc(out, func(a, b Template) int {
		return cmp.Or(
			strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)),
			cmp.Compare(rank(a), rank(b)),
			strings.Compare(a.ID, b.ID),
		)
	})
	return out, err
}

// forEachTemplateOwner calls fn with each account's template bucket.
// Templates the migration could not give to anyone yet are skipped.
func forEachTemplateOwner(tx *bolt.Tx, fn func(owner string, b *bolt.Bucket) error) error {
	top := tx.Bucket([]byte(bucketTemplates))
	return top.ForEachBucket(func(k []byte) error {
		if string(k) == unclaimedOwner {
			return nil
		}
		return fn(string(k), top.Bucket(k))
	})
}

// usernameOf is the username of account id, or "" when it is gone.
func usernameOf(tx *bolt.Tx, id string) string {
	rec, err := userByID(tx, id)
	if err != nil {
		return ""
	}
	return rec.Username
}

// templateIDByName returns the id of the template in the user's bucket b
// named name in any letter case, other than except, or "".
func templateIDByName(b *bolt.Bucket, name, except string) (string, error) {
	var found string
	err := b.ForEach(func(k, v []byte) error {
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
