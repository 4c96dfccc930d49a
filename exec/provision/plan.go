package provision

import (
	"fmt"

	"corral/exec"
	"corral/store"
)

// Step is one step of a plan: a stable key the pipeline records as done,
// and the label the user sees.
type Step struct {
	Key    string // "create", "features", "start", "wait", "files", "pkg:apt", "script:0", "discover", ...
	Label  string
	Script string // the script's name, for script steps
}

// Step keys of the fixed steps; package steps are "pkg:"+manager and script
// steps "script:"+index.
const (
	StepCreate   = "create"
	StepFeatures = "features"
	StepStart    = "start"
	StepWait     = "wait"
	StepSnapshot = "snapshot" // the clean snapshot (pipeline_snapshot.go)
	StepFiles    = "files"
	StepDiscover = "discover"
)

// Steps lists, in order, what the pipeline will do for p; the Review page
// shows this list and the progress page tracks it.
func Steps(p store.Plan) []Step {
	s := []Step{
		{Key: StepCreate, Label: fmt.Sprintf("Create container %d (%s) on %s", p.VMID, p.Hostname, p.PVENode)},
	}
	if cmd := FeaturesCommand(p); cmd != "" {
		s = append(s, Step{Key: StepFeatures, Label: "Set feature flags as root: " + cmd})
	}
	s = append(s,
		Step{Key: StepStart, Label: "Start the container"},
		Step{Key: StepWait, Label: "Wait until the container is up"},
	)
	if p.CleanSnapshot {
		s = append(s, Step{Key: StepSnapshot, Label: "Snapshot the clean system as " + CleanSnapshotName})
	}
	if len(p.Files) > 0 {
		s = append(s, Step{Key: StepFiles, Label: fmt.Sprintf("Deploy %d file(s)", len(p.Files))})
	}
	for _, m := range store.PackageManagers {
		if n := len(p.PackagesBy(m)); n > 0 {
			s = append(s, Step{Key: "pkg:" + string(m), Label: fmt.Sprintf("Install %d %s package(s)", n, m)})
		}
	}
	for i, sc := range p.Scripts {
		s = append(s, Step{Key: scriptKey(i), Label: "Run script " + sc.Name, Script: sc.Name})
	}
	return append(s, Step{Key: StepDiscover, Label: "Discover services"})
}

// StepLabels are the labels of Steps(p), as the Review page lists them.
func StepLabels(p store.Plan) []string {
	var out []string
	for _, st := range Steps(p) {
		out = append(out, st.Label)
	}
	return out
}

// APIFeatures are the flags the create request itself may carry: an API
// token may set only nesting, and only on an unprivileged container
// (Proxmox answers 403 to anything else from anyone but root@pam).
func APIFeatures(c store.CreateSpec) store.Features {
	return store.Features{Nesting: c.Nesting && c.Unprivileged}
}

// RootFeatures are the flags the features step sets as root with `pct set`
// before the first start, or the zero value when the create request sets
// every wanted flag. pct set replaces the whole property, so nesting is
// repeated there.
func RootFeatures(c store.CreateSpec) store.Features {
	want := store.Features{Nesting: c.Nesting, Keyctl: c.Keyctl, Fuse: c.Fuse}
	if want == APIFeatures(c) {
		return store.Features{}
	}
	return want
}

// FeaturesCommand is the host command of the features step as the user
// reads it, e.g. "pct set 120 --features nesting=1,keyctl=1"; "" when the
// plan has no such step.
func FeaturesCommand(p store.Plan) string {
	cmd, err := exec.PctSetFeaturesCommand(p.VMID, RootFeatures(p.Create).String())
	if err != nil {
		return ""
	}
	return cmd
}
