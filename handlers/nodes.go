package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"corral/store"
)

// NodeStore is what the pages need of the user's Proxmox nodes. Every
// method is scoped to one user: another user's node id is ErrNotFound.
// (The node settings feature extends this file.)
type NodeStore interface {
	Nodes(ctx context.Context, userID string) ([]store.Node, error)
	Node(ctx context.Context, userID, nodeID string) (store.Node, error)
}

func (h *Handler) registerNodeRoutes(g *echo.Group) {
	g.GET("/settings/nodes", h.placeholder("Proxmox nodes", "settings",
		"Here you will add your Proxmox nodes (API token and SSH access)."))
}
