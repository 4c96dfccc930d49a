package proxmox

import (
	"context"
	"errors"
	"time"
)

// Check answers for vmid in the cluster of targets from the cache, reading
// the cluster first when the cache has no fresh entry or cannot answer. An
// error means the cluster could not be read.
func (r *VMIDRefresher) Check(ctx context.Context, vmid int, targets ...VMIDTarget) (VMIDLookup, error) {
	if len(targets) > 0 {
		l, err := r.store.Lookup(ctx, targets[0].Key, vmid)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, ErrVMIDMiss) {
			r.log.Debug("vmid cache: lookup failed, reading the cluster", "cluster", targets[0].Key, "err", err)
		}
	}
	guests, err := r.Refresh(ctx, targets...)
	if err != nil {
		return VMIDLookup{}, err
	}
	h, taken := guests[vmid]
	return VMIDLookup{Taken: taken, Holder: h}, nil
}

// RefreshIfOlder refreshes the cluster of targets when its entry is missing
// or at least maxAge old.
func (r *VMIDRefresher) RefreshIfOlder(ctx context.Context, maxAge time.Duration, targets ...VMIDTarget) error {
	if len(targets) == 0 {
		return errors.New("proxmox: vmid refresh: no target")
	}
	if age, err := r.store.Age(ctx, targets[0].Key); err == nil && age < maxAge {
		return nil
	}
	_, err := r.Refresh(ctx, targets...)
	return err
}

// NoteCreated records at once that vmid now exists in the cluster key.
func (r *VMIDRefresher) NoteCreated(ctx context.Context, key string, vmid int, h VMIDHolder) error {
	return r.store.NoteCreated(ctx, key, vmid, h)
}

// NoteDeleted records at once that vmid is gone from the cluster key.
func (r *VMIDRefresher) NoteDeleted(ctx context.Context, key string, vmid int) error {
	return r.store.NoteDeleted(ctx, key, vmid)
}
