package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"corral/store"
)

// A job runs what the user reviewed: its plan is a snapshot of the files,
// packages and scripts (with their contents) taken when it was created, and
// Retry runs that snapshot. Only the owner of the job's template may choose
// to retry with the template's current scripts instead, and only after
// seeing what changed (TemplateChanges) and confirming exactly that
// (RetryWithTemplate with the changes' digest).

// ErrChangesStale reports a retry with the template's current version whose
// reviewed changes no longer match the template.
var ErrChangesStale = errors.New("the template changed again since you reviewed its changes")

// ScriptChange is a script of a job's plan that has not completed yet and
// whose content in the job's template now differs from the plan's.
type ScriptChange struct {
	Index   int    // position in store.Plan.Scripts
	Name    string // script name
	Planned string // content in the job's plan: what was reviewed and would run
	Current string // content in the template now
}

// PendingScriptChanges lists, in run order, the scripts of job j that have not
// completed yet and whose content in current (a template's scripts by
// name) differs from the plan's. Completed steps never count: what already
// ran in the container stays as it ran. Scripts not in the plan do not
// count either: the wizard chose the set and the order.
func PendingScriptChanges(j store.Job, current map[string]string) []ScriptChange {
	var out []ScriptChange
	for i, sc := range j.Plan.Scripts {
		if j.IsDone(scriptKey(i)) {
			continue
		}
		if c, ok := current[sc.Name]; ok && c != sc.Content {
			out = append(out, ScriptChange{Index: i, Name: sc.Name, Planned: sc.Content, Current: c})
		}
	}
	return out
}

// ChangesDigest identifies a set of script changes, so that a retry with
// the template's current version runs exactly what the user reviewed.
func ChangesDigest(changes []ScriptChange) string {
	h := sha256.New()
	for _, c := range changes {
		fmt.Fprintf(h, "%d\x00%s\x00%d\x00%s\x00%d\x00%s\x00", c.Index, c.Name, len(c.Planned), c.Planned, len(c.Current), c.Current)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TemplateChanges lists what a retry of the user's failed or interrupted
// job with its template's current version would change. It is empty when
// the job has no template, the template is gone or is not the user's own,
// or nothing still to run differs.
func (r *Runner) TemplateChanges(ctx context.Context, userID, jobID string) ([]ScriptChange, error) {
	j, err := r.stoppedJob(ctx, userID, jobID)
	if err != nil {
		return nil, err
	}
	return r.templateChanges(ctx, j)
}

func (r *Runner) templateChanges(ctx context.Context, j store.Job) ([]ScriptChange, error) {
	if j.Plan.TemplateID == "" {
		return nil, nil
	}
	current, err := r.templateScripts(ctx, j.UserID, j.Plan.TemplateID)
	if err != nil {
		return nil, fmt.Errorf("provision: read template %s of job %s: %w", j.Plan.TemplateID, j.ID, err)
	}
	return PendingScriptChanges(j, current), nil
}

// RetryWithTemplate retries the user's failed or interrupted job with the
// current content of its template's scripts for the steps not yet done. It
// runs only when reviewed is the ChangesDigest of the changes as they are
// now (ErrChangesStale otherwise, and nothing changes); the refreshed plan
// is saved, so a restart runs the same.
func (r *Runner) RetryWithTemplate(ctx context.Context, userID, jobID, reviewed string) error {
	j, err := r.stoppedJob(ctx, userID, jobID)
	if err != nil {
		return err
	}
	changes, err := r.templateChanges(ctx, j)
	if err != nil {
		return err
	}
	if len(changes) == 0 || ChangesDigest(changes) != reviewed {
		return fmt.Errorf("provision: retry job %s with its template: %w", jobID, ErrChangesStale)
	}
	if err := r.stillOwned(ctx, j); err != nil {
		return err
	}
	// The slice may be shared with the caller's copy of the job.
	j.Plan.Scripts = slices.Clone(j.Plan.Scripts)
	var names []string
	for _, c := range changes {
		j.Plan.Scripts[c.Index].Content = c.Current
		names = append(names, c.Name)
	}
	// Saved while the job is still stopped: the store refuses to change the
	// plan of a job that runs or has finished.
	if err := r.cfg.Store.SaveJobPlan(ctx, j.UserID, j.ID, j.Plan); err != nil {
		return err
	}
	return r.requeue(ctx, j, changes, "; using the template's current version of "+strings.Join(names, ", "))
}

// noteRefreshed logs, under each refreshed script, that the retry uses the
// template's current version.
func (r *Runner) noteRefreshed(j store.Job, changes []ScriptChange) {
	for _, c := range changes {
		r.emit(j, store.LogEntry{Kind: store.EntryLog, Step: scriptKey(c.Index), Script: c.Name, Text: "Using the template's current version of " + c.Name})
	}
}

func scriptKey(i int) string { return fmt.Sprintf("script:%d", i) }

// templateScripts returns the scripts of template templateID, content by
// name, when userID owns it; nil (and no error) when the template is gone
// or is not userID's own (a built-in, or another account's, shared or
// not): a job never takes content from someone else's template. Disabled
// scripts count too: the job keeps the enabled set the wizard chose.
func (r *Runner) templateScripts(ctx context.Context, userID, templateID string) (map[string]string, error) {
	t, err := r.cfg.Store.Template(ctx, userID, templateID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !t.EditableBy(userID)) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(t.Scripts))
	for _, sc := range t.Scripts {
		if _, dup := m[sc.Name]; !dup {
			m[sc.Name] = sc.Content
		}
	}
	return m, nil
}
