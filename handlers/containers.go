package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"corral/store"
)

// ContainerStore keeps the containers Corral created, per user.
// (The dashboard feature extends this file.)
type ContainerStore interface {
	Containers(ctx context.Context, userID string) ([]store.Container, error)
	CreateContainer(ctx context.Context, c store.Container) (store.Container, error)
	UpdateContainer(ctx context.Context, userID string, c store.Container) error
	DeleteContainer(ctx context.Context, userID, id string) error
	CountContainersOnNode(ctx context.Context, userID, nodeID string) (int, error)
}

func (h *Handler) registerContainerRoutes(g *echo.Group) {
	g.GET("/containers", h.placeholder("Containers", "containers",
		"The containers dashboard will list every container on all your Proxmox nodes."))
}
