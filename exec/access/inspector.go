package access

import (
	"context"
	"strconv"
	"strings"

	"corral/exec"
	"corral/exec/inspect"
	"corral/store"
)

// Inspector looks inside a container through pct exec, over one SSH
// connection per call to the pinned host of the node that holds it.
type Inspector struct{}

func (Inspector) with(ctx context.Context, n store.Node, fn func(*exec.Host) error) error {
	host, err := exec.Dial(ctx, HostTarget(n))
	if err != nil {
		return err
	}
	defer host.Close()
	return fn(host)
}

// Discover lists the services running in the container.
func (s Inspector) Discover(ctx context.Context, n store.Node, vmid int) (found inspect.Discovery, err error) {
	err = s.with(ctx, n, func(h *exec.Host) error { found, err = inspect.Discover(ctx, h, vmid); return err })
	return found, err
}

// ServiceLogs reads the last lines of a service's journal.
func (s Inspector) ServiceLogs(ctx context.Context, n store.Node, vmid int, service string, lines int) (out inspect.Logs, err error) {
	err = s.with(ctx, n, func(h *exec.Host) error { out, err = inspect.ServiceLogs(ctx, h, vmid, service, lines); return err })
	return out, err
}

// Credentials reads the credential file a service keeps.
func (s Inspector) Credentials(ctx context.Context, n store.Node, vmid int, service string) (out inspect.CredentialFile, err error) {
	err = s.with(ctx, n, func(h *exec.Host) error { out, err = inspect.Credentials(ctx, h, vmid, service); return err })
	return out, err
}

// ControlService runs systemctl ACTION on the unit (see
// inspect.ControlService).
func (s Inspector) ControlService(ctx context.Context, n store.Node, vmid int, service, action string) error {
	return s.with(ctx, n, func(h *exec.Host) error { return inspect.ControlService(ctx, h, vmid, service, action) })
}

// SetBindMount runs `pct set` for b over one SSH connection to the node's
// pinned host; a refusal by pct comes back with its own words.
func (s Inspector) SetBindMount(ctx context.Context, n store.Node, vmid int, b exec.BindMount) error {
	return s.with(ctx, n, func(h *exec.Host) error {
		var out strings.Builder
		code, err := h.SetBindMount(ctx, vmid, b, &out, &out)
		if err != nil {
			return err
		}
		if code != 0 {
			msg := strings.TrimSpace(out.String())
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			return &exec.CommandError{VMID: vmid, What: "set mount point mp" + strconv.Itoa(b.Index), Code: code, Stderr: msg}
		}
		return nil
	})
}
