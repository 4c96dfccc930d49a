package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"corral/exec"
)

// ServiceActions are the systemctl verbs Corral sends to a unit, in the
// order its buttons show them.
var ServiceActions = []string{"restart", "stop", "start"}

// ErrBadServiceAction reports a verb other than ServiceActions.
var ErrBadServiceAction = errors.New("invalid service action")

// ControlService runs `systemctl ACTION UNIT` in the container. The unit
// name is checked (ValidServiceName) and the verb is one of a fixed list,
// so nothing the user typed reaches a shell. A unit that fails to start
// is an *exec.CommandError carrying systemctl's own words.
func ControlService(ctx context.Context, h exec.Pcter, vmid int, service, action string) error {
	if err := ValidServiceName(service); err != nil {
		return err
	}
	if !slices.Contains(ServiceActions, action) {
		return fmt.Errorf("%w: %q", ErrBadServiceAction, action)
	}
	unit := service
	if !strings.HasSuffix(unit, ".service") {
		unit += ".service"
	}
	_, _, err := exec.PctOutput(ctx, h, vmid, action+" "+service, []string{"systemctl", action, unit})
	return err
}
