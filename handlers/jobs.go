package handlers

import (
	"context"

	"corral/exec"

	"github.com/labstack/echo/v4"
)

// Provisioner starts and follows container creation jobs.
type Provisioner interface {
	// Start stores the job (and a container record in lifecycle
	// "creating") before anything is sent to Proxmox, then queues it.
	Start(ctx context.Context, plan exec.Plan) (jobID string, err error)
}

func (h *Handler) registerJobRoutes(g *echo.Group) {}
