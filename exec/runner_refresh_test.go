package exec

import (
	"slices"
	"testing"
)

func TestPendingScriptChanges(t *testing.T) {
	j := Job{
		Plan: Plan{Scripts: []Script{
			{Name: "10-a.sh", Content: "a1"},
			{Name: "20-b.sh", Content: "b1"},
			{Name: "30-c.sh", Content: "c1"},
			{Name: "40-d.sh", Content: "d1"},
		}},
		Done: []string{StepCreate, "script:0"},
	}
	current := map[string]string{
		"10-a.sh": "a2", // completed: never counts
		"20-b.sh": "b2",
		"30-c.sh": "c1", // unchanged
		// 40-d.sh is gone from the template: the plan's version stays
		"50-e.sh": "e1", // not in the plan: the wizard's set stays
	}
	if got := j.PendingScriptChanges(current); !slices.Equal(got, []string{"20-b.sh"}) {
		t.Errorf("changes = %v", got)
	}
	if got := j.PendingScriptChanges(nil); got != nil {
		t.Errorf("changes without a template = %v", got)
	}
}
