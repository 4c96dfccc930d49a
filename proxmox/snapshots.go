package proxmox

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"sort"
)

// Snapshot is a row of GET /nodes/{node}/lxc/{vmid}/snapshot. The row
// named "current" is the container itself ("You are here!"): its Parent is
// the snapshot it descends from, and it has Running and Digest instead of
// a time.
type Snapshot struct {
	Name        string `json:"name"`
	Description string `json:"description"` // every line ends with a newline
	SnapTime    Int    `json:"snaptime"`    // Unix seconds
	Parent      string `json:"parent"`
	SnapState   string `json:"snapstate"` // prepare or delete while a task works on it
	Running     Bool   `json:"running"`   // "current" only
	Digest      string `json:"digest"`    // "current" only
}

// IsCurrent reports whether the row stands for the container itself.
func (s Snapshot) IsCurrent() bool { return s.Name == "current" }

// Snapshots lists a container's snapshots, "current" included.
func (c *Client) Snapshots(ctx context.Context, node string, vmid int) ([]Snapshot, error) {
	var out []Snapshot
	if err := c.get(ctx, lxcPath(node, vmid, "snapshot"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// SnapshotNode is a snapshot placed in its tree: Depth 0 for a root.
type SnapshotNode struct {
	Snapshot
	Depth int
}

// SnapshotTree orders snapshots as Proxmox draws them: each snapshot under
// its parent, siblings oldest first, "current" after its parent's other
// children.
func SnapshotTree(list []Snapshot) []SnapshotNode {
	byName := map[string]Snapshot{}
	for _, s := range list {
		byName[s.Name] = s
	}
	children := map[string][]Snapshot{}
	var roots []Snapshot
	for _, s := range list {
		if _, ok := byName[s.Parent]; ok && s.Parent != "" && s.Parent != s.Name {
			children[s.Parent] = append(children[s.Parent], s)
		} else {
			roots = append(roots, s)
		}
	}
	byTime := func(s []Snapshot) {
		sort.SliceStable(s, func(i, j int) bool {
			if s[i].IsCurrent() != s[j].IsCurrent() {
				return s[j].IsCurrent()
			}
			if s[i].SnapTime != s[j].SnapTime {
				return s[i].SnapTime < s[j].SnapTime
			}
			return s[i].Name < s[j].Name
		})
	}
	var out []SnapshotNode
	seen := map[string]bool{}
	var walk func(s Snapshot, depth int)
	walk = func(s Snapshot, depth int) {
		if seen[s.Name] {
			return
		}
		seen[s.Name] = true
		out = append(out, SnapshotNode{s, depth})
		kids := children[s.Name]
		byTime(kids)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	byTime(roots)
	for _, r := range roots {
		walk(r, 0)
	}
	return out
}

var snapshotNameRe = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]+$`)

// ErrSnapshotName explains what a snapshot name may be.
var ErrSnapshotName = errors.New("a snapshot name starts with a letter, has 2 to 40 letters, digits, '-' or '_', and is not \"current\" or \"vzdump\"")

// ValidSnapshotName checks a name the way Proxmox will (pve-configid,
// at most 40 characters, two reserved names).
func ValidSnapshotName(name string) error {
	if !snapshotNameRe.MatchString(name) || len(name) > 40 || name == "current" || name == "vzdump" {
		return ErrSnapshotName
	}
	return nil
}

// CreateSnapshot takes a snapshot and returns the task's UPID. A name in
// use or a locked container makes the task fail, not the call.
func (c *Client) CreateSnapshot(ctx context.Context, node string, vmid int, name, description string) (string, error) {
	f := url.Values{"snapname": {name}}
	setString(f, "description", description)
	return c.postUPID(ctx, lxcPath(node, vmid, "snapshot"), f)
}

// DeleteSnapshot deletes a snapshot and returns the task's UPID; force
// removes it from the config even if its volumes cannot be cleaned up.
func (c *Client) DeleteSnapshot(ctx context.Context, node string, vmid int, name string, force bool) (string, error) {
	var q url.Values
	if force {
		q = url.Values{"force": {"1"}}
	}
	var upid string
	if err := c.delete(ctx, lxcPath(node, vmid, "snapshot", name), q, &upid); err != nil {
		return "", err
	}
	return upid, nil
}

// RollbackSnapshot returns the container to a snapshot: Proxmox stops it
// first. With start it is started again afterwards, by a separate start
// task the rollback task does not wait for: use WaitLXCStatus after
// WaitTask to know it runs.
func (c *Client) RollbackSnapshot(ctx context.Context, node string, vmid int, name string, start bool) (string, error) {
	f := url.Values{}
	if start {
		f.Set("start", "1")
	}
	return c.postUPID(ctx, lxcPath(node, vmid, "snapshot", name, "rollback"), f)
}

// SnapshotConfig returns the configuration saved with a snapshot.
func (c *Client) SnapshotConfig(ctx context.Context, node string, vmid int, name string) (LXCConfig, error) {
	return c.lxcConfig(ctx, node, vmid, nil, "snapshot", name, "config")
}

// UpdateSnapshotDescription replaces a snapshot's description.
func (c *Client) UpdateSnapshotDescription(ctx context.Context, node string, vmid int, name, description string) error {
	return c.put(ctx, lxcPath(node, vmid, "snapshot", name, "config"), url.Values{"description": {description}}, nil)
}

// postUPID posts a form and returns the UPID Proxmox answers with.
func (c *Client) postUPID(ctx context.Context, path string, f url.Values) (string, error) {
	var upid string
	if err := c.post(ctx, path, f, &upid); err != nil {
		return "", err
	}
	return upid, nil
}
