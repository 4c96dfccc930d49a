package handlers

import (
	"context"
	"strconv"

	"github.com/labstack/echo/v4"

	"corral/exec/access"
	"corral/exec/inspect"
	"corral/store"
	"corral/views"
)

// ContainerStore keeps the containers Corral created, per user.
type ContainerStore interface {
	Containers(ctx context.Context, userID string) ([]store.Container, error)
	CreateContainer(ctx context.Context, c store.Container) (store.Container, error)
	UpdateContainer(ctx context.Context, userID string, c store.Container) error
	DeleteContainer(ctx context.Context, userID, id string) error
	CountContainersOnNode(ctx context.Context, userID, nodeID string) (int, error)
}

// EventStore keeps the typed timeline of each container; *store.DB is one.
type EventStore interface {
	AppendEvent(ctx context.Context, e store.Event) (store.Event, error)
	ContainerEvents(ctx context.Context, userID, nodeID string, vmid int, types []string, limit int) ([]store.Event, error)
}

// ServiceInspector looks inside a container through pct exec on its node.
type ServiceInspector interface {
	Discover(ctx context.Context, n store.Node, vmid int) (inspect.Discovery, error)
	ServiceLogs(ctx context.Context, n store.Node, vmid int, service string, lines int) (inspect.Logs, error)
	Credentials(ctx context.Context, n store.Node, vmid int, service string) (inspect.CredentialFile, error)
}

// NewSSHInspector is the ServiceInspector main uses: one SSH connection per
// call to the node's pinned host.
func NewSSHInspector() ServiceInspector { return access.Inspector{} }

func (h *Handler) registerContainerRoutes(g *echo.Group) {
	g.GET("/containers", h.containerList)
	g.GET("/containers/:node/:vmid", h.containerDetail)
	g.POST("/containers/:node/:vmid/services/refresh", h.serviceRefresh)
	g.GET("/containers/:node/:vmid/services/:service/logs", h.serviceLogs)
	g.POST("/containers/:node/:vmid/services/:service/credentials", h.serviceCredentials)
	for _, a := range lifecycleActions {
		g.POST("/containers/:node/:vmid/"+a, h.lifecycle(a))
	}
	for _, a := range views.ConfirmableActions {
		g.GET("/containers/:node/:vmid/"+a, h.confirmAction(a))
	}
}

// containerTarget resolves :node and :vmid to one of the signed-in user's
// nodes, or a member of one's cluster (MemberRef); anything else is the
// same 404, so ids of others leak nothing.
func (h *Handler) containerTarget(c echo.Context) (store.User, store.Node, int, error) {
	u, _ := currentUser(c)
	vmid, err := strconv.Atoi(c.Param("vmid"))
	if err != nil || vmid < store.MinVMID || vmid > store.MaxVMID {
		return u, store.Node{}, 0, store.ErrNotFound
	}
	n, err := h.resolveNode(c.Request().Context(), u.ID, c.Param("node"))
	if err != nil {
		return u, store.Node{}, 0, err
	}
	return u, n, vmid, nil
}

// corralRecord finds the store record of a container, if Corral made it.
func (h *Handler) corralRecord(ctx context.Context, userID, nodeID string, vmid int) (store.Container, bool, error) {
	list, err := h.Containers.Containers(ctx, userID)
	if err != nil {
		return store.Container{}, false, err
	}
	for _, ct := range list {
		if ct.NodeID == nodeID && ct.VMID == vmid {
			return ct, true, nil
		}
	}
	return store.Container{}, false, nil
}

// lastServices returns the last discovery recorded for a container.
func (h *Handler) lastServices(ctx context.Context, userID, nodeID string, vmid int) (svcs []store.Service, ip string, found bool) {
	if h.Events == nil {
		return nil, "", false
	}
	evs, err := h.Events.ContainerEvents(ctx, userID, nodeID, vmid, []string{store.EventServices}, 1)
	if err != nil || len(evs) == 0 {
		return nil, "", false
	}
	svcs, err = store.DecodeServices(evs[0].Data[store.ServicesDataKey])
	if err != nil {
		h.Logger.Warn("stored services unreadable", "node", nodeID, "vmid", vmid, "err", err)
		return nil, "", false
	}
	return svcs, evs[0].Data[store.ServicesIPKey], true
}

// recordEvent appends a container event; a failure is logged, not shown:
// the action itself already happened.
func (h *Handler) recordEvent(ctx context.Context, e store.Event) {
	if h.Events == nil {
		return
	}
	if _, err := h.Events.AppendEvent(ctx, e); err != nil {
		h.Logger.Error("record event", "type", e.Type, "node", e.NodeID, "vmid", e.VMID, "err", err)
	}
}
