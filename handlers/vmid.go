package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// VMIDCache answers whether a VMID is free in a node's cluster.
type VMIDCache interface {
	// Check says whether vmid is free in n's cluster, reading the cache (refreshing it if stale or missing).
	Check(ctx context.Context, n store.Node, vmid int) (clusters.VMIDCheck, error)
	// RefreshIfStale re-reads n's cluster when its entry is missing or older than the refresh interval (the wizard calls it when opened).
	RefreshIfStale(ctx context.Context, n store.Node)
	// NoteCreated / NoteDeleted update n's cluster entry at once after Corral creates or deletes a guest.
	NoteCreated(ctx context.Context, n store.Node, vmid int, name string)
	NoteDeleted(ctx context.Context, n store.Node, vmid int)
}

func (h *Handler) registerVMIDRoutes(g *echo.Group) {
	g.POST("/containers/vmid", h.vmidStatus)
}

// vmidStatus answers the wizard's VMID field with the status fragment only,
// always 200 so htmx swaps it; the node must be the user's own.
func (h *Handler) vmidStatus(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	n, err := h.resolveNode(ctx, u.ID, c.FormValue("node_id")) // or a member of one's cluster
	if err != nil {
		return err
	}
	_, status, err := h.vmidVerdict(ctx, n, c.FormValue("vmid"))
	if err != nil {
		return err
	}
	return vmidFragment(c, http.StatusOK, views.VMIDStatus(status))
}

// vmidVerdict judges what the user typed as a VMID for node n: the parsed id
// (0 when invalid) and the status to show. The wizard may reuse it to show a
// status after a plain post (views.VMIDInputModel.Status).
func (h *Handler) vmidVerdict(ctx context.Context, n store.Node, raw string) (int, views.VMIDStatusModel, error) {
	vmid, problem := readVMID(raw)
	if problem != "" {
		return 0, views.VMIDStatusModel{State: views.VMIDInvalid, Message: problem}, nil
	}
	var chk clusters.VMIDCheck
	if h.VMIDs != nil {
		var err error
		if chk, err = h.VMIDs.Check(ctx, n, vmid); err != nil {
			return 0, views.VMIDStatusModel{}, err
		}
	}
	return vmid, vmidStatusModel(vmid, chk), nil
}

// readVMID reads a VMID as typed; problem names the rule it breaks.
func readVMID(raw string) (vmid int, problem string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return 0, fmt.Sprintf("Enter a VMID from %d to %d", store.MinVMID, store.MaxVMID)
	}
	v, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange) && strings.HasPrefix(s, "-"):
		return 0, fmt.Sprintf("VMID must be at least %d", store.MinVMID)
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("VMID must be at most %d", store.MaxVMID)
	case err != nil:
		return 0, "VMID must be a whole number"
	case v < store.MinVMID:
		return 0, fmt.Sprintf("VMID must be at least %d", store.MinVMID)
	case v > store.MaxVMID:
		return 0, fmt.Sprintf("VMID must be at most %d", store.MaxVMID)
	}
	return v, ""
}

func vmidStatusModel(vmid int, chk clusters.VMIDCheck) views.VMIDStatusModel {
	id := "VMID " + strconv.Itoa(vmid)
	switch {
	case !chk.Known:
		return views.VMIDStatusModel{State: views.VMIDUnknown,
			Message: id + ": could not check; Proxmox will refuse a taken id when you create"}
	case chk.Free:
		return views.VMIDStatusModel{State: views.VMIDFree, Message: id + " is free"}
	}
	by := chk.Holder.Label()
	if chk.Holder.Name != "" {
		by += " " + chk.Holder.Name
	}
	if chk.Holder.Node != "" {
		by += " on " + chk.Holder.Node
	}
	return views.VMIDStatusModel{State: views.VMIDTaken, Message: id + " is taken by " + by}
}

// fragment writes a component alone, never inside the layout, whatever the
// request: the caller swaps it into a page.
func vmidFragment(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}
