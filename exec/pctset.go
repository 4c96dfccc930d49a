package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// FeatureSetter sets a container's feature flags as root on its host, with
// `pct set VMID --features …`; *Host is one. API tokens may set only
// nesting, so keyctl and fuse need this.
type FeatureSetter interface {
	SetFeatures(ctx context.Context, vmid int, f Features, stdout, stderr io.Writer) (int, error)
}

// ErrNoFeatureSetter reports a Shell that cannot run pct set.
var ErrNoFeatureSetter = errors.New("this connection to the host cannot set container features")

// SetFeatures runs `pct set VMID --features …` and returns its exit code.
// The command is built from the int VMID and fixed flag names only.
// Running it again with the same flags changes nothing.
func (h *Host) SetFeatures(ctx context.Context, vmid int, f Features, stdout, stderr io.Writer) (int, error) {
	cmd, err := pctSetFeaturesCommand(vmid, f)
	if err != nil {
		return -1, fmt.Errorf("exec: pct set: %w", err)
	}
	return h.run(ctx, cmd, runIO{stdout: stdout, stderr: stderr})
}

// pctSetFeaturesCommand is the only pct set command ever sent.
func pctSetFeaturesCommand(vmid int, f Features) (string, error) {
	if vmid < minVMID || vmid > maxVMID {
		return "", fmt.Errorf("%w: VMID %d out of range", ErrBadArgument, vmid)
	}
	flags := f.String()
	if flags == "" {
		return "", fmt.Errorf("%w: no feature flags to set", ErrBadArgument)
	}
	return "pct set " + strconv.Itoa(vmid) + " --features " + flags, nil
}
