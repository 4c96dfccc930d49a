package proxmox

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Digest is the SHA-1 of the config file when it was read. Sending it back
// with a change makes Proxmox refuse the change (ErrConfigChanged) if
// anything in the file changed meanwhile, so two edits never overwrite
// each other silently.
func (c LXCConfig) Digest() string { return c["digest"] }

// Description returns the notes; Proxmox ends every line with a newline.
func (c LXCConfig) Description() string { return c["description"] }

// Startup returns the start order settings ("order=2,up=30"), "" when unset.
func (c LXCConfig) Startup() string { return c["startup"] }

// Parent returns the snapshot the current state descends from, "" for none.
func (c LXCConfig) Parent() string { return c["parent"] }

// MountPoints returns the mount points by number (mp0 → 0).
func (c LXCConfig) MountPoints() map[int]MountPoint {
	out := map[int]MountPoint{}
	for k, v := range c {
		if rest, ok := strings.CutPrefix(k, "mp"); ok {
			if n, err := strconv.Atoi(rest); err == nil {
				out[n] = ParseMountPoint(v)
			}
		}
	}
	return out
}

// Unused returns the unused volumes by key (unused0, …): volumes of removed
// mount points that still take space until they are deleted.
func (c LXCConfig) Unused() map[string]string {
	out := map[string]string{}
	for k, v := range c {
		if strings.HasPrefix(k, "unused") {
			out[k] = v
		}
	}
	return out
}

// LXCConfigCurrent returns the configuration the container runs with,
// without changes that wait for its next start (LXCConfig includes them).
func (c *Client) LXCConfigCurrent(ctx context.Context, node string, vmid int) (LXCConfig, error) {
	return c.lxcConfig(ctx, node, vmid, url.Values{"current": {"1"}}, "config")
}

func (c *Client) lxcConfig(ctx context.Context, node string, vmid int, q url.Values, rest ...string) (LXCConfig, error) {
	var raw map[string]json.RawMessage
	if err := c.get(ctx, lxcPath(node, vmid, rest...), q, &raw); err != nil {
		return nil, err
	}
	cfg := make(LXCConfig, len(raw))
	for k, v := range raw {
		cfg[k] = rawString(v)
	}
	return cfg, nil
}

// ConfigChange is one PUT /nodes/{node}/lxc/{vmid}/config: options to set,
// options to delete, and the digest of the config the change was made
// from. Params is exactly what is sent, so it can be shown first.
type ConfigChange struct {
	Set    map[string]string // option → value as Proxmox takes it ("memory" → "1024")
	Delete []string
	Digest string
}

// NewConfigChange starts a change against cfg's digest.
func NewConfigChange(cfg LXCConfig) *ConfigChange {
	return &ConfigChange{Set: map[string]string{}, Digest: cfg.Digest()}
}

// Update records value for key if it differs from cur; an empty value
// deletes a key that is set. Descriptions compare without the newline
// Proxmox adds to their last line.
func (ch *ConfigChange) Update(cur LXCConfig, key, value string) {
	old, set := cur[key]
	if key == "description" {
		old, value = strings.TrimRight(old, "\n"), strings.TrimRight(value, "\n")
	}
	switch {
	case value == "" && set:
		ch.Delete = append(ch.Delete, key)
	case value != "" && value != old:
		if ch.Set == nil {
			ch.Set = map[string]string{}
		}
		ch.Set[key] = value
	}
}

// Empty reports whether there is nothing to send.
func (ch *ConfigChange) Empty() bool { return len(ch.Set) == 0 && len(ch.Delete) == 0 }

// Keys lists the changed options, sorted.
func (ch *ConfigChange) Keys() []string {
	keys := append([]string(nil), ch.Delete...)
	for k := range ch.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Params are the form parameters of the PUT.
func (ch *ConfigChange) Params() url.Values {
	f := url.Values{}
	for k, v := range ch.Set {
		f.Set(k, v)
	}
	if len(ch.Delete) > 0 {
		d := append([]string(nil), ch.Delete...)
		sort.Strings(d)
		f.Set("delete", strings.Join(d, ","))
	}
	if ch.Digest != "" {
		f.Set("digest", ch.Digest)
	}
	return f
}

// fastplug are the options a running container takes at once; hotplugged
// also those Proxmox applies live (pve-container's
// vmconfig_hotplug_pending). Everything else waits for a restart.
var (
	fastplug  = map[string]bool{"description": true, "onboot": true, "startup": true, "protection": true, "hostname": true, "hookscript": true, "cores": true, "tags": true, "lock": true}
	hotSet    = map[string]bool{"cpulimit": true, "cpuunits": true, "memory": true, "swap": true}
	hotDelete = map[string]bool{"swap": true, "cpulimit": true, "cpuunits": true}
	netKey    = regexp.MustCompile(`^net\d+$`)
	netKeyLow = regexp.MustCompile(`^net\d$`) // Proxmox unplugs net0-net9 live only
	mpKey     = regexp.MustCompile(`^mp\d+$`)
	unusedKey = regexp.MustCompile(`^unused\d+$`)
)

// NeedsRestart lists the options of the change that a running container
// applies only at its next start; cur is its config (for mount points: a
// new one is plugged in live, a changed one waits).
func (ch *ConfigChange) NeedsRestart(cur LXCConfig) []string {
	var out []string
	for _, k := range ch.Delete {
		if !fastplug[k] && !hotDelete[k] && !netKeyLow.MatchString(k) && !unusedKey.MatchString(k) {
			out = append(out, k)
		}
	}
	for k := range ch.Set {
		_, exists := cur[k]
		switch {
		case fastplug[k], hotSet[k], netKey.MatchString(k):
		case mpKey.MatchString(k) && !exists:
		default:
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// UpdateLXCConfig applies a change. On a running container what it cannot
// take live stays pending (see LXCPending) until the next start. A stale
// digest fails with ErrConfigChanged, a lock with ErrLocked.
func (c *Client) UpdateLXCConfig(ctx context.Context, node string, vmid int, ch *ConfigChange) error {
	return c.put(ctx, lxcPath(node, vmid, "config"), ch.Params(), nil)
}

// PendingItem is a row of GET .../pending: an option with its current
// value, the value waiting for the next start, or its pending deletion.
type PendingItem struct {
	Key        string
	Value      string
	HasValue   bool
	Pending    string
	HasPending bool
	Delete     bool
}

// Waiting reports whether the option changes at the next start.
func (p PendingItem) Waiting() bool { return p.HasPending || p.Delete }

// LXCPending lists the options with their current and pending values. The
// "digest" row is left out.
func (c *Client) LXCPending(ctx context.Context, node string, vmid int) ([]PendingItem, error) {
	var raw []struct {
		Key     string          `json:"key"`
		Value   json.RawMessage `json:"value"`
		Pending json.RawMessage `json:"pending"`
		Delete  Int             `json:"delete"`
	}
	if err := c.get(ctx, lxcPath(node, vmid, "pending"), nil, &raw); err != nil {
		return nil, err
	}
	out := make([]PendingItem, 0, len(raw))
	for _, r := range raw {
		if r.Key == "digest" {
			continue
		}
		it := PendingItem{Key: r.Key, Delete: r.Delete > 0}
		if r.Value != nil {
			it.Value, it.HasValue = rawString(r.Value), true
		}
		if r.Pending != nil {
			it.Pending, it.HasPending = rawString(r.Pending), true
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// ResizeLXCDisk grows a disk (rootfs, mp0, …) and returns the task's UPID.
// size is "+2G" to add 2 GiB or "10G" for an absolute size (see
// FormatDiskSize); Proxmox never shrinks. digest may be "".
func (c *Client) ResizeLXCDisk(ctx context.Context, node string, vmid int, disk, size, digest string) (string, error) {
	f := url.Values{"disk": {disk}, "size": {size}}
	setString(f, "digest", digest)
	var upid string
	if err := c.put(ctx, lxcPath(node, vmid, "resize"), f, &upid); err != nil {
		return "", err
	}
	return upid, nil
}
