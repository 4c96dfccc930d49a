package access

import (
	"context"

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
