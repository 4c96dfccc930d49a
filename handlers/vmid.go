package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/store"
)

// VMIDCache answers whether a VMID is free in a node's cluster.
type VMIDCache interface {
	// Check says whether vmid is free in n's cluster, reading the cache (refreshing it if stale or missing).
	Check(ctx context.Context, n store.Node, vmid int) (VMIDCheck, error)
	// RefreshIfStale re-reads n's cluster when its entry is missing or older than the refresh interval (the wizard calls it when opened).
	RefreshIfStale(ctx context.Context, n store.Node)
	// NoteCreated / NoteDeleted update n's cluster entry at once after Corral creates or deletes a guest.
	NoteCreated(ctx context.Context, n store.Node, vmid int, name string)
	NoteDeleted(ctx context.Context, n store.Node, vmid int)
}

// VMIDCheck is the answer about one VMID.
type VMIDCheck struct {
	Free   bool
	Known  bool               // false: the cluster could not be read, Free means nothing
	Holder proxmox.VMIDHolder // who holds it when !Free
}

func (h *Handler) registerVMIDRoutes(g *echo.Group) {}
