package proxmox

import (
	"context"
	"net/url"
	"slices"
	"strings"
)

// Storage is a row of GET /nodes/{node}/storage (sizes in bytes; absent while inactive).
type Storage struct {
	Storage      string `json:"storage"`
	Type         string `json:"type"`    // dir, lvmthin, zfspool, nfs, ...
	Content      string `json:"content"` // comma list in no stable order
	Active       Bool   `json:"active"`
	Enabled      Bool   `json:"enabled"`
	Shared       Bool   `json:"shared"`
	Total        Int    `json:"total"`
	Used         Int    `json:"used"`
	Avail        Int    `json:"avail"`
	UsedFraction Float  `json:"used_fraction"`
}

// Contents returns the content types the storage accepts.
func (s Storage) Contents() []string { return strings.Split(s.Content, ",") }

// Holds reports whether the storage accepts content type ct (rootdir, vztmpl, ...).
func (s Storage) Holds(ct string) bool { return slices.Contains(s.Contents(), ct) }

// Storages lists a node's storages, only those accepting content when it is
// non-empty (rootdir for container disks, vztmpl for templates).
func (c *Client) Storages(ctx context.Context, node, content string) ([]Storage, error) {
	var q url.Values
	if content != "" {
		q = url.Values{"content": {content}}
	}
	var out []Storage
	if err := c.get(ctx, apiPath("nodes", node, "storage"), q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Volume is an item of GET /nodes/{node}/storage/{storage}/content.
type Volume struct {
	VolID   string `json:"volid"` // local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
	Content string `json:"content"`
	Format  string `json:"format"` // tzst, tgz, ... for templates
	Size    Int    `json:"size"`
	CTime   Int    `json:"ctime"`
	VMID    Int    `json:"vmid"`
	Notes   string `json:"notes"` // backups: the first line of their notes
	// Backups only: the guest type (lxc, qemu) and whether pruning and
	// deletion are blocked.
	Subtype   string `json:"subtype"`
	Protected Bool   `json:"protected"`
}

// StorageContent lists the volumes of one content type (e.g. vztmpl) on a storage.
func (c *Client) StorageContent(ctx context.Context, node, storage, content string) ([]Volume, error) {
	var q url.Values
	if content != "" {
		q = url.Values{"content": {content}}
	}
	var out []Volume
	if err := c.get(ctx, apiPath("nodes", node, "storage", storage, "content"), q, &out); err != nil {
		return nil, err
	}
	return out, nil
}
