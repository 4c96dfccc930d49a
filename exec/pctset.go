package exec

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// FeatureFlags are the LXC feature flags Corral sets as root with pct set:
// an API token may set only nesting, so keyctl and fuse need the host.
var FeatureFlags = []string{"nesting", "keyctl", "fuse"}

// SetFeatures runs `pct set VMID --features FEATURES` and returns its exit
// code. features turns flags of FeatureFlags on, as in "nesting=1,keyctl=1";
// anything else is refused before a command is sent. Running it again with
// the same flags changes nothing.
func (h *Host) SetFeatures(ctx context.Context, vmid int, features string, stdout, stderr io.Writer) (int, error) {
	cmd, err := PctSetFeaturesCommand(vmid, features)
	if err != nil {
		return -1, fmt.Errorf("exec: pct set: %w", err)
	}
	return h.run(ctx, cmd, runIO{stdout: stdout, stderr: stderr})
}

// PctSetFeaturesCommand is the only pct set --features command ever sent:
// an int VMID and known flag names, so nothing needs quoting.
func PctSetFeaturesCommand(vmid int, features string) (string, error) {
	if vmid < minVMID || vmid > maxVMID {
		return "", fmt.Errorf("%w: VMID %d out of range", ErrBadArgument, vmid)
	}
	if features == "" {
		return "", fmt.Errorf("%w: no feature flags to set", ErrBadArgument)
	}
	var seen []string
	for part := range strings.SplitSeq(features, ",") {
		name, ok := strings.CutSuffix(part, "=1")
		if !ok || !slices.Contains(FeatureFlags, name) || slices.Contains(seen, name) {
			return "", fmt.Errorf("%w: feature flags %q", ErrBadArgument, features)
		}
		seen = append(seen, name)
	}
	return "pct set " + strconv.Itoa(vmid) + " --features " + features, nil
}
