package exec

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ScriptSource reads the current scripts of the template a plan was made
// from, so that a retry runs the script the user has since fixed. The
// templates live on the web side; its wiring adapts the store.
type ScriptSource interface {
	// TemplateScripts returns the template's scripts, content by name, or
	// nil (and no error) when the template no longer exists.
	TemplateScripts(ctx context.Context, templateID string) (map[string]string, error)
}

// PendingScriptChanges names, in run order, the scripts of j that have not
// completed yet and whose content in current (a template's scripts by
// name) differs from the plan's. Completed steps never count: what already
// ran in the container stays as it ran.
func (j Job) PendingScriptChanges(current map[string]string) []string {
	var names []string
	for i, sc := range j.Plan.Scripts {
		if j.IsDone(scriptKey(i)) {
			continue
		}
		if c, ok := current[sc.Name]; ok && c != sc.Content {
			names = append(names, sc.Name)
		}
	}
	return names
}

// refreshScripts gives the not-yet-completed scripts of j the content of
// the template's script of the same name, keeping the plan's order and
// enabled set (they came from the wizard). Files and packages stay as
// planned: those steps either completed already or must match what the
// user reviewed. It returns the names it refreshed.
func (r *Runner) refreshScripts(ctx context.Context, j *Job) ([]string, error) {
	if r.cfg.Scripts == nil || j.Plan.TemplateID == "" {
		return nil, nil
	}
	current, err := r.cfg.Scripts.TemplateScripts(ctx, j.Plan.TemplateID)
	if err != nil {
		return nil, fmt.Errorf("exec: read template %s for the retry: %w", j.Plan.TemplateID, err)
	}
	changed := j.PendingScriptChanges(current)
	if len(changed) == 0 {
		return nil, nil
	}
	// The slice may be shared with the caller's copy of the job.
	j.Plan.Scripts = slices.Clone(j.Plan.Scripts)
	for i, sc := range j.Plan.Scripts {
		if !j.IsDone(scriptKey(i)) && slices.Contains(changed, sc.Name) {
			j.Plan.Scripts[i].Content = current[sc.Name]
		}
	}
	return changed, nil
}

// noteRefreshed logs, under each refreshed script, that the retry uses the
// template's current version.
func (r *Runner) noteRefreshed(j Job, names []string) {
	for i, sc := range j.Plan.Scripts {
		if !j.IsDone(scriptKey(i)) && slices.Contains(names, sc.Name) {
			r.emit(j, LogEntry{Kind: EntryLog, Step: scriptKey(i), Script: sc.Name, Text: "Using the template's current version of " + sc.Name})
		}
	}
}

// refreshedNote is the retry event's mention of refreshed scripts.
func refreshedNote(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "; using the template's current version of " + strings.Join(names, ", ")
}

func scriptKey(i int) string { return fmt.Sprintf("script:%d", i) }
