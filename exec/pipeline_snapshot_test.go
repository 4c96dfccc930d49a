package exec

import (
	"slices"
	"testing"
)

// TestPlanCleanSnapshotStep: the clean snapshot comes once the container is
// up, before anything is put into it.
func TestPlanCleanSnapshotStep(t *testing.T) {
	p := Plan{VMID: 120, Hostname: "web", PVENode: "pve1", CleanSnapshot: true,
		Create:  CreateSpec{Unprivileged: true, Keyctl: true},
		Files:   []File{{Name: "a"}},
		Scripts: []Script{{Name: "10-a.sh"}},
	}
	var keys []string
	for _, s := range p.StepList() {
		keys = append(keys, s.Key)
	}
	want := []string{"create", "features", "start", "wait", "snapshot", "files", "script:0", "discover"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	if got := p.Steps()[4]; got != "Snapshot the clean system as corral-clean" {
		t.Errorf("label %q", got)
	}
	p.CleanSnapshot = false
	if slices.ContainsFunc(p.StepList(), func(s Step) bool { return s.Key == StepSnapshot }) {
		t.Error("a plan without the flag takes a snapshot")
	}
}
