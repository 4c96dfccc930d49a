package provision

import (
	"context"
	"errors"
	"slices"

	"corral/proxmox"
)

// provisionSnapshots are the calls of the pipeline's clean snapshot.
type provisionSnapshots interface {
	Snapshots(ctx context.Context, node string, vmid int) ([]proxmox.Snapshot, error)
	CreateSnapshot(ctx context.Context, node string, vmid int, name, description string) (string, error)
	RollbackSnapshot(ctx context.Context, node string, vmid int, name string, start bool) (string, error)
}

var _ SnapshotOps = proxmoxOps{}

// errNoSnapshots reports an API client without the snapshot calls.
var errNoSnapshots = errors.New("this connection to Proxmox cannot take snapshots")

func (o proxmoxOps) snapshots() (provisionSnapshots, error) {
	s, ok := o.api.(provisionSnapshots)
	if !ok {
		return nil, errNoSnapshots
	}
	return s, nil
}

// HasSnapshot reports whether the container has a snapshot called name.
func (o proxmoxOps) HasSnapshot(ctx context.Context, node string, vmid int, name string) (bool, error) {
	s, err := o.snapshots()
	if err != nil {
		return false, err
	}
	list, err := s.Snapshots(ctx, node, vmid)
	if err != nil {
		return false, mapProxmoxErr(err)
	}
	return slices.ContainsFunc(list, func(sn proxmox.Snapshot) bool { return sn.Name == name }), nil
}

// CreateSnapshot takes a snapshot and returns its task's UPID.
func (o proxmoxOps) CreateSnapshot(ctx context.Context, node string, vmid int, name, description string) (string, error) {
	s, err := o.snapshots()
	if err != nil {
		return "", err
	}
	upid, err := s.CreateSnapshot(ctx, node, vmid, name, description)
	return upid, mapProxmoxErr(err)
}

// RollbackSnapshot rolls back to the snapshot and has Proxmox start the
// container again afterwards.
func (o proxmoxOps) RollbackSnapshot(ctx context.Context, node string, vmid int, name string) (string, error) {
	s, err := o.snapshots()
	if err != nil {
		return "", err
	}
	upid, err := s.RollbackSnapshot(ctx, node, vmid, name, true)
	return upid, mapProxmoxErr(err)
}
