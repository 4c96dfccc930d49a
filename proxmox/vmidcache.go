package proxmox

import (
	"context"
	"errors"
	"time"
)

// VMIDTTL is how long a cluster's VMID list is trusted. The refresher rewrites
// entries every minute, so an entry this old means its cluster stopped answering.
const VMIDTTL = 5 * time.Minute

// ErrVMIDMiss means the cache holds no fresh entry for the cluster.
var ErrVMIDMiss = errors.New("proxmox: vmid cache: no fresh entry")

// VMIDHolder is the guest that holds a VMID.
type VMIDHolder struct {
	Kind string `json:"k"` // lxc or qemu
	Name string `json:"n"`
	Node string `json:"p"` // the Proxmox node it runs on
}

// Label is the short kind users see: CT for containers, VM for the rest.
func (h VMIDHolder) Label() string {
	if h.Kind == "lxc" {
		return "CT"
	}
	return "VM"
}

// VMIDLookup is the answer for one VMID from a fresh entry.
type VMIDLookup struct {
	Taken  bool
	Holder VMIDHolder
}

// VMIDKey is the cache key of one account's view of one cluster (cluster is
// a ClusterKey). A cluster key is built from what a server says about
// itself, so anyone can set up a server that says the same as someone
// else's; the account part keeps each account's view apart, so such a twin
// can neither read another account's guests nor change what it sees.
func VMIDKey(account, cluster string) string { return "user:" + account + ":" + cluster }

// VMIDStore caches, per cache key (see VMIDKey), every guest id of a
// cluster with its holder, as one account's nodes report them. Lookup and Age return ErrVMIDMiss when the cluster
// has no fresh entry. Note* leave a missing entry missing, because a partial
// list would make every other id look free; the next read refreshes it.
type VMIDStore interface {
	// Put replaces the cluster's whole list, stamped now.
	Put(ctx context.Context, key string, guests map[int]VMIDHolder) error
	// Lookup answers for one vmid from a fresh entry.
	Lookup(ctx context.Context, key string, vmid int) (VMIDLookup, error)
	// Age is how old the cluster's entry is; ErrVMIDMiss when there is none.
	Age(ctx context.Context, key string) (time.Duration, error)
	// NoteCreated / NoteDeleted patch a fresh entry in place.
	NoteCreated(ctx context.Context, key string, vmid int, h VMIDHolder) error
	NoteDeleted(ctx context.Context, key string, vmid int) error
}

// GuestsFromResources turns /cluster/resources?type=vm rows into a VMID map.
func GuestsFromResources(rows []Resource) map[int]VMIDHolder {
	out := make(map[int]VMIDHolder, len(rows))
	for _, r := range rows {
		out[int(r.VMID)] = VMIDHolder{Kind: r.Type, Name: r.Name, Node: r.Node}
	}
	return out
}
