package proxmox

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// BackupMode is how vzdump keeps a running container consistent.
type BackupMode string

// The vzdump modes. A stopped container is always backed up in stop mode.
const (
	BackupSnapshot BackupMode = "snapshot" // storage snapshot, no downtime; falls back to suspend where volumes cannot snapshot
	BackupSuspend  BackupMode = "suspend"  // copy, suspend briefly, copy the rest
	BackupStop     BackupMode = "stop"     // stop, back up, start again
)

// BackupParams are the parameters of one container's POST /nodes/{node}/vzdump.
type BackupParams struct {
	VMID          int
	Storage       string     // a storage holding "backup" content
	Mode          BackupMode // default snapshot
	Compress      string     // default zstd; gzip, lzo, 0 for none
	NotesTemplate string     // e.g. "{{guestname}}"; also {{vmid}}, {{node}}, {{cluster}}
	Protected     bool       // keep it from pruning and deletion
}

// Params are the form parameters of the POST.
func (p BackupParams) Params() url.Values {
	f := url.Values{"vmid": {strconv.Itoa(p.VMID)}, "storage": {p.Storage}}
	mode := p.Mode
	if mode == "" {
		mode = BackupSnapshot
	}
	f.Set("mode", string(mode))
	compress := p.Compress
	if compress == "" {
		compress = "zstd"
	}
	f.Set("compress", compress)
	setString(f, "notes-template", p.NotesTemplate)
	if p.Protected {
		f.Set("protected", "1")
	}
	return f
}

// Backup starts a backup and returns the vzdump task's UPID. Its log is
// vzdump's "INFO:" lines; a guest that fails (for instance because it is
// locked) ends the task with "job errors", which WaitTask replaces with the
// guest's own error line.
func (c *Client) Backup(ctx context.Context, node string, p BackupParams) (string, error) {
	path := apiPath("nodes", node, "vzdump")
	var upid string
	if err := c.post(ctx, path, p.Params(), &upid); err != nil {
		return "", err
	}
	if upid == "OK" {
		// Proxmox's silent exit: the guest is on another node.
		return "", &Error{Kind: KindNotFound, Host: c.addr, Method: http.MethodPost, Path: path,
			Message: "CT " + strconv.Itoa(p.VMID) + " is not on node " + node}
	}
	return upid, nil
}

// Time returns when a backup was made.
func (v Volume) Time() time.Time { return time.Unix(int64(v.CTime), 0) }

// Backups lists the backups of vmid on a storage, oldest first as Proxmox
// sorts them by name.
func (c *Client) Backups(ctx context.Context, node, storage string, vmid int) ([]Volume, error) {
	q := url.Values{"content": {"backup"}, "vmid": {strconv.Itoa(vmid)}}
	var out []Volume
	if err := c.get(ctx, apiPath("nodes", node, "storage", storage, "content"), q, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// RestoreParams restore a backup (POST /nodes/{node}/lxc with restore=1).
type RestoreParams struct {
	VMID    int    // a free VMID, or the backed-up container's own with Force
	Archive string // the backup's volume id, local:backup/vzdump-lxc-…
	Storage string // where the disks go (needs rootdir content); Proxmox's default "local" usually has none
	Force   bool   // overwrite the existing container VMID, which must be stopped
	Start   bool   // start it afterwards, in a separate task
	Unique  bool   // new MAC addresses (for a copy next to the original)
}

// Params are the form parameters of the POST.
func (p RestoreParams) Params() url.Values {
	f := url.Values{"vmid": {strconv.Itoa(p.VMID)}, "ostemplate": {p.Archive}, "restore": {"1"}}
	setString(f, "storage", p.Storage)
	for k, on := range map[string]bool{"force": p.Force, "start": p.Start, "unique": p.Unique} {
		if on {
			f.Set(k, "1")
		}
	}
	return f
}

// RestoreLXC restores a backup and returns the vzrestore task's UPID.
// Over an existing container the old disks are replaced, its snapshots lost.
func (c *Client) RestoreLXC(ctx context.Context, node string, p RestoreParams) (string, error) {
	return c.postUPID(ctx, apiPath("nodes", node, "lxc"), p.Params())
}
