package proxmox

import (
	"context"
	"sort"
	"strconv"
	"strings"
)

// LXCConfig is a container's configuration as key → value text. Numbers are
// kept as Proxmox sent them, so numeric strings (cpulimit) and numbers read
// the same; the raw "lxc" lines stay JSON. Helpers parse the common keys.
type LXCConfig map[string]string

// LXCConfig returns a container's configuration as it will be after its
// next start: changes waiting for it are included (LXCConfigCurrent leaves
// them out).
func (c *Client) LXCConfig(ctx context.Context, node string, vmid int) (LXCConfig, error) {
	return c.lxcConfig(ctx, node, vmid, nil, "config")
}

// Int returns key as an integer, 0 when absent or not numeric.
func (c LXCConfig) Int(key string) int {
	f, err := strconv.ParseFloat(c[key], 64)
	if err != nil {
		return 0
	}
	return int(f)
}

// Bool returns key as a boolean (0/1), false when absent.
func (c LXCConfig) Bool(key string) bool {
	b, _ := parseBool(c[key])
	return b
}

// Hostname returns the container's hostname.
func (c LXCConfig) Hostname() string { return c["hostname"] }

// Cores returns the core limit, 0 meaning all host cores.
func (c LXCConfig) Cores() int { return c.Int("cores") }

// Memory returns the memory limit in MiB.
func (c LXCConfig) Memory() int { return c.Int("memory") }

// Swap returns the swap limit in MiB.
func (c LXCConfig) Swap() int { return c.Int("swap") }

// Unprivileged reports whether the container is unprivileged (absent = privileged).
func (c LXCConfig) Unprivileged() bool { return c.Bool("unprivileged") }

// OnBoot reports whether the container starts with the node.
func (c LXCConfig) OnBoot() bool { return c.Bool("onboot") }

// Lock returns the lock (create, destroyed, backup, ...) or "".
func (c LXCConfig) Lock() string { return c["lock"] }

// Tags returns the tag list.
func (c LXCConfig) Tags() []string { return splitTags(c["tags"]) }

// RootFS parses the rootfs key.
func (c LXCConfig) RootFS() RootFS { return ParseRootFS(c["rootfs"]) }

// Features parses the features key.
func (c LXCConfig) Features() Features { return ParseFeatures(c["features"]) }

// Net parses netN; ok is false when the device is not configured.
func (c LXCConfig) Net(n int) (cfg NetConfig, ok bool) {
	v, ok := c["net"+strconv.Itoa(n)]
	if !ok {
		return NetConfig{}, false
	}
	return ParseNetConfig(v), true
}

// NetIndexes returns the configured network device numbers in order.
func (c LXCConfig) NetIndexes() []int {
	var out []int
	for k := range c {
		if rest, ok := strings.CutPrefix(k, "net"); ok {
			if n, err := strconv.Atoi(rest); err == nil {
				out = append(out, n)
			}
		}
	}
	sort.Ints(out)
	return out
}
