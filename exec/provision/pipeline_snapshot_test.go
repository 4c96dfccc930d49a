package provision

import (
	"slices"
	"testing"

	"corral/store"
)

// TestPlanCleanSnapshotStep: the clean snapshot comes once the container is
// up, before anything is put into it.
func TestPlanCleanSnapshotStep(t *testing.T) {
	p := store.Plan{VMID: 120, Hostname: "web", PVENode: "pve1", CleanSnapshot: true,
		Create:  store.CreateSpec{Features: store.Features{Unprivileged: true, Keyctl: true}},
		Files:   []store.File{{Name: "a"}},
		Scripts: []store.Script{{Name: "10-a.sh"}},
	}
	var keys []string
	for _, s := range Steps(p) {
		keys = append(keys, s.Key)
	}
	want := []string{"create", "features", "start", "wait", "snapshot", "files", "script:0", "discover"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	if got := StepLabels(p)[4]; got != "Snapshot the clean system as corral-clean" {
		t.Errorf("label %q", got)
	}
	p.CleanSnapshot = false
	if slices.ContainsFunc(Steps(p), func(s Step) bool { return s.Key == StepSnapshot }) {
		t.Error("a plan without the flag takes a snapshot")
	}
}
