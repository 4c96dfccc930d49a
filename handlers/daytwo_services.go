package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"corral/exec/inspect"
	"corral/store"
	"corral/views"
)

// ServiceController restarts, stops and starts a systemd unit in a
// container through pct exec on its node; access.Inspector is one.
type ServiceController interface {
	ControlService(ctx context.Context, n store.Node, vmid int, service, action string) error
}

// serviceTarget checks the route's unit and action and resolves the
// container; an action other than restart, stop or start is not found.
func (h *Handler) serviceTarget(c echo.Context) (store.User, store.Node, int, string, string, error) {
	action := c.Param("action")
	if !slices.Contains(inspect.ServiceActions, action) {
		return store.User{}, store.Node{}, 0, "", "", store.ErrNotFound
	}
	u, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return u, n, 0, "", "", err
	}
	svc := c.Param("service")
	if inspect.ValidServiceName(svc) != nil {
		return u, n, 0, "", "", &userError{status: http.StatusBadRequest, msg: "Invalid service name."}
	}
	return u, n, vmid, svc, action, nil
}

// serviceActionConfirm is GET …/services/{unit}/{restart,stop,start}: the
// question the page's dialog asks, as a page for browsers without JavaScript.
func (h *Handler) serviceActionConfirm(c echo.Context) error {
	_, n, vmid, svc, action, err := h.serviceTarget(c)
	if err != nil {
		return err
	}
	if _, err := h.liveStatus(c.Request().Context(), n, vmid); err != nil {
		return missingCT(err, n, vmid)
	}
	conf := views.ServiceConfirmation(action, svc, vmid)
	v := views.ConfirmView{Confirmation: conf, CSRF: csrfToken(c), Action: views.ServiceActionURL(n.ID, vmid, svc, action),
		Cancel: views.DetailURL(n.ID, vmid) + "?tab=services"}
	return h.render(c, http.StatusOK, h.page(c, conf.Title, "containers"), views.ConfirmPage(v))
}

// serviceAction restarts, stops or starts a unit, then discovers the
// services again so the tab shows their state as it is now.
func (h *Handler) serviceAction(c echo.Context) error {
	u, n, vmid, svc, action, err := h.serviceTarget(c)
	if err != nil {
		return err
	}
	ctl, ok := h.Services.(ServiceController)
	if !ok {
		return errDayTwoUnsupported
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 2*sshWait)
	defer cancel()
	st, err := h.liveStatus(ctx, n, vmid)
	if err != nil {
		return missingCT(err, n, vmid)
	}
	if st.Status != "running" {
		return &userError{status: http.StatusConflict, msg: fmt.Sprintf("CT %d is not running. Start it first.", vmid)}
	}
	unlock, err := h.lockAction(n, vmid, action+" "+svc)
	if err != nil {
		return err
	}
	defer unlock()
	h.auditCT(c, u, n, vmid, "container.service."+action, svc)
	ev := h.ctEvent(ctx, u, n, vmid, eventServiceAction)
	if err := ctl.ControlService(ctx, n, vmid, svc, action); err != nil {
		msg := sshErrorText(n, action+" "+svc, err)
		ev.Type, ev.Message = store.EventError, msg
		h.recordEvent(ctx, ev)
		return h.serviceFailed(c, u, n, vmid, msg, err)
	}
	done := views.ServiceDone(action, svc)
	ev.Message = done
	h.recordEvent(ctx, ev)

	found, derr := h.Services.Discover(ctx, n, vmid)
	if derr == nil {
		rec, _, _ := h.corralRecord(ctx, u.ID, n.ID, vmid)
		ip := ""
		if _, oldIP, ok := h.lastServices(ctx, u.ID, n.ID, vmid); ok {
			ip = oldIP
		}
		h.recordEvent(ctx, store.Event{UserID: u.ID, NodeID: n.ID, VMID: vmid, ContainerID: rec.ID, Type: store.EventServices,
			Message: views.Plural(len(found.Services), "service", "services") + " discovered",
			Data:    map[string]string{store.ServicesDataKey: store.EncodeServices(found.Services), store.ServicesIPKey: ip}})
	} else {
		h.Logger.Info("discovery after a service action failed", "node", n.Name, "vmid", vmid, "err", derr)
	}
	if !isHTMX(c) {
		setFlash(c, "ok", done)
		return seeOther(c, views.DetailURL(n.ID, vmid)+"?tab=services")
	}
	toast(c, "ok", done)
	svcs, ip, known := h.lastServices(ctx, u.ID, n.ID, vmid)
	v := h.servicesView(c, n, vmid, true, svcs, ip, known)
	v.Discovered = "just now"
	if derr != nil {
		v.Error = done + " The services could not be listed again: " + sshErrorText(n, "discover services", derr)
	}
	return h.render(c, http.StatusOK, views.Page{}, views.ServicesSwap(v))
}
