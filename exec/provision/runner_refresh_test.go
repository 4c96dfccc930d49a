package provision

import (
	"reflect"
	"testing"

	"corral/store"
)

func TestPendingScriptChanges(t *testing.T) {
	j := store.Job{
		Plan: store.Plan{Scripts: []store.Script{
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
	want := []ScriptChange{{Index: 1, Name: "20-b.sh", Planned: "b1", Current: "b2"}}
	if got := PendingScriptChanges(j, current); !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %+v", got)
	}
	if got := PendingScriptChanges(j, nil); got != nil {
		t.Errorf("changes without a template = %v", got)
	}
}

func TestChangesDigest(t *testing.T) {
	a := []ScriptChange{{Index: 1, Name: "20-b.sh", Planned: "b1", Current: "b2"}}
	// Any difference in what would run, or where, gives another digest;
	// the field boundaries cannot be shifted to fake one.
	for _, b := range [][]ScriptChange{
		nil,
		{{Index: 2, Name: "20-b.sh", Planned: "b1", Current: "b2"}},
		{{Index: 1, Name: "20-b.sh", Planned: "b1", Current: "b3"}},
		{{Index: 1, Name: "20-b.sh", Planned: "b", Current: "1b2"}},
		append(a, ScriptChange{Index: 2, Name: "30-c.sh", Planned: "c1", Current: "c2"}),
	} {
		if ChangesDigest(a) == ChangesDigest(b) {
			t.Errorf("digest of %+v equals that of %+v", a, b)
		}
	}
	if ChangesDigest(a) != ChangesDigest([]ScriptChange{{Index: 1, Name: "20-b.sh", Planned: "b1", Current: "b2"}}) {
		t.Error("digest is not stable")
	}
}
