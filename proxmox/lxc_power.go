package proxmox

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Each of these returns the UPID of the task that does the work; a 200 only
// means the task started.

// Start starts a container.
func (c *Client) Start(ctx context.Context, node string, vmid int) (string, error) {
	return c.power(ctx, node, vmid, "start", nil)
}

// Stop stops a container immediately.
func (c *Client) Stop(ctx context.Context, node string, vmid int) (string, error) {
	return c.power(ctx, node, vmid, "stop", nil)
}

// Shutdown asks the container to shut down within timeout (0 = Proxmox's 60 s
// default); with forceStop it is killed afterwards, otherwise the task fails.
func (c *Client) Shutdown(ctx context.Context, node string, vmid int, timeout time.Duration, forceStop bool) (string, error) {
	f := url.Values{"forceStop": {boolForm(forceStop)}}
	if timeout > 0 {
		f.Set("timeout", strconv.Itoa(int(timeout.Seconds())))
	}
	return c.power(ctx, node, vmid, "shutdown", f)
}

// Reboot reboots a running container.
func (c *Client) Reboot(ctx context.Context, node string, vmid int) (string, error) {
	return c.power(ctx, node, vmid, "reboot", nil)
}

func (c *Client) power(ctx context.Context, node string, vmid int, action string, f url.Values) (string, error) {
	if f == nil {
		f = url.Values{}
	}
	var upid string
	if err := c.post(ctx, lxcPath(node, vmid, "status", action), f, &upid); err != nil {
		return "", err
	}
	return upid, nil
}

// DeleteOptions are the query parameters of a container deletion.
type DeleteOptions struct {
	Purge                    bool // also remove from backup jobs, replication and HA
	DestroyUnreferencedDisks bool // also delete disks named for the vmid but not in its config
	Force                    bool // stop a running container first
}

// Delete destroys a stopped container and returns the task's UPID.
func (c *Client) Delete(ctx context.Context, node string, vmid int, o DeleteOptions) (string, error) {
	q := url.Values{}
	if o.Purge {
		q.Set("purge", "1")
	}
	if o.DestroyUnreferencedDisks {
		q.Set("destroy-unreferenced-disks", "1")
	}
	if o.Force {
		q.Set("force", "1")
	}
	var upid string
	if err := c.delete(ctx, lxcPath(node, vmid), q, &upid); err != nil {
		return "", err
	}
	return upid, nil
}
