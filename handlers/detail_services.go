package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"corral/exec"
	"corral/exec/inspect"
	"corral/proxmox"
	"corral/store"
	"corral/views"
)

// sshWait bounds discovery, logs and reveals, connection included.
const sshWait = 60 * time.Second

// servicesView splits services into applications and system ones.
func (h *Handler) servicesView(c echo.Context, n store.Node, vmid int, running bool, svcs []store.Service, ip string, known bool) views.ServicesView {
	v := views.ServicesView{CSRF: csrfToken(c), NodeID: n.ID, VMID: vmid, Running: running, Known: known}
	if unregistered(n) {
		v.AddMember = &views.AddMember{CSRF: v.CSRF, ViaID: viaOf(n), Member: n.Name}
	}
	for _, s := range svcs {
		// Credentials that belong to no unit have no state to show.
		it := views.ServiceItem{Name: s.Name, Status: cmp.Or(s.Status, "credentials"), CredKeys: s.CredentialKeys}
		for _, p := range s.Ports {
			pl := views.PortLink{Port: p}
			pl.URL, pl.Text = portAccess(ip, s.Name, p)
			it.Ports = append(it.Ports, pl)
		}
		if s.System {
			v.System = append(v.System, it)
		} else {
			v.Apps = append(v.Apps, it)
		}
	}
	return v
}

// serviceRefresh runs discovery again and records it as the newest
// services event. An error is shown inside the panel (200), so htmx swaps it.
func (h *Handler) serviceRefresh(c echo.Context) error {
	u, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), sshWait)
	defer cancel()
	live := h.readLive(ctx, n, vmid)
	running := live.status != nil && live.status.Status == "running"
	old, oldIP, known := h.lastServices(ctx, u.ID, n.ID, vmid)
	render := func(v views.ServicesView) error {
		if !isHTMX(c) {
			if v.Error != "" {
				setFlash(c, "bad", v.Error)
			} else {
				setFlash(c, "ok", "Services refreshed.")
			}
			return seeOther(c, views.DetailURL(n.ID, vmid)+"?tab=services")
		}
		return h.render(c, http.StatusOK, views.Page{}, views.ServicesSwap(v))
	}
	fail := func(msg string) error {
		toast(c, "bad", msg)
		v := h.servicesView(c, n, vmid, running, old, oldIP, known)
		v.Error = msg
		return render(v)
	}
	switch {
	case errors.Is(live.statusErr, proxmox.ErrNotFound):
		return fail(fmt.Sprintf("CT %d no longer exists on %s.", vmid, n.Name))
	case live.statusErr != nil:
		return fail(fmt.Sprintf("Node %s did not answer: %s", n.Name, proxmox.Describe(live.statusErr)))
	case !running:
		return fail(fmt.Sprintf("CT %d is not running. Start it, then refresh.", vmid))
	}
	found, err := h.Services.Discover(ctx, n, vmid)
	svcs := found.Services
	if err != nil {
		h.Logger.Info("discovery failed", "node", n.Name, "vmid", vmid, "err", err)
		return fail(sshErrorText(n, "discover services", err))
	}
	ip := cmp.Or(live.ip, oldIP)
	rec, _, _ := h.corralRecord(ctx, u.ID, n.ID, vmid)
	h.recordEvent(ctx, store.Event{UserID: u.ID, NodeID: n.ID, VMID: vmid, ContainerID: rec.ID, Type: store.EventServices,
		Message: views.Plural(len(svcs), "service", "services") + " discovered",
		Data:    map[string]string{store.ServicesDataKey: store.EncodeServices(svcs), store.ServicesIPKey: ip}})
	toast(c, "ok", "Services refreshed.")
	v := h.servicesView(c, n, vmid, true, svcs, ip, true)
	v.Discovered = "just now"
	if found.Truncated {
		v.Truncated = "Discovery " + exec.TruncatedNote + "; some services may be missing."
	}
	return render(v)
}

// serviceLogs shows the last lines of a service's journal, on demand and
// never cached.
func (h *Handler) serviceLogs(c echo.Context) error {
	u, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return err
	}
	svc := c.Param("service")
	if inspect.ValidServiceName(svc) != nil {
		return &userError{status: http.StatusBadRequest, msg: "Invalid service name."}
	}
	q := parseLogsQuery(c)
	if q.hide {
		return h.hideLogs(c, n, vmid, svc)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), sshWait)
	defer cancel()
	out, err := h.Services.ServiceLogs(ctx, n, vmid, svc, q.lines)
	if err != nil {
		return h.serviceFailed(c, u, n, vmid, sshErrorText(n, "read the logs of "+svc, err), err)
	}
	cut := truncatedNote(out.Truncated)
	if !isHTMX(c) {
		return h.servicesPage(c, u, n, vmid, svc, func(it *views.ServiceItem) {
			it.ShowLogs = true
			it.Logs = views.LogsView{NodeID: n.ID, VMID: vmid, Service: svc, Lines: out.Lines, Count: q.lines, Static: true, Cut: cut}
		})
	}
	return h.renderLogs(c, n, vmid, svc, q, out.Lines, cut)
}

// serviceCredentials reveals a service's credentials, read live from the
// container (Corral keeps only their names) and audited each time.
func (h *Handler) serviceCredentials(c echo.Context) error {
	u, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return err
	}
	svc := c.Param("service")
	if inspect.ValidServiceName(svc) != nil {
		return &userError{status: http.StatusBadRequest, msg: "Invalid service name."}
	}
	h.audit(c, store.AuditEntry{Kind: "container.credentials.reveal", UserID: u.ID, Username: u.Username,
		Target: fmt.Sprintf("%s/%d", n.Name, vmid), Detail: svc})
	ctx, cancel := context.WithTimeout(c.Request().Context(), sshWait)
	defer cancel()
	creds, err := h.Services.Credentials(ctx, n, vmid, h.credentialFile(ctx, u.ID, n.ID, vmid, svc))
	if err != nil {
		return h.serviceFailed(c, u, n, vmid, sshErrorText(n, "read the credentials of "+svc, err), err)
	}
	facts := make([]views.Fact, 0, len(creds.Entries))
	for _, cr := range creds.Entries {
		facts = append(facts, views.Fact{Label: cr.Key, Value: cr.Value})
	}
	if !isHTMX(c) {
		return h.servicesPage(c, u, n, vmid, svc, func(it *views.ServiceItem) {
			it.ShowCreds, it.Creds, it.CredsCut = true, facts, truncatedNote(creds.Truncated)
		})
	}
	return h.render(c, http.StatusOK, views.Page{}, views.Credentials(views.CredentialsView{
		NodeID: n.ID, VMID: vmid, Service: svc, Creds: facts, Cut: truncatedNote(creds.Truncated)}))
}

// servicesPage answers Reveal or Show logs sent without JavaScript: the whole
// detail page on the Services tab, with open drawing svc's row open.
func (h *Handler) servicesPage(c echo.Context, u store.User, n store.Node, vmid int, svc string, open func(*views.ServiceItem)) error {
	v, err := h.detailView(c, u, n, vmid, "services")
	if err != nil {
		return err
	}
	it := v.Services.Item(svc)
	if it == nil {
		// Discovery has changed since the row was drawn (or never ran): the
		// unit asked for is still worth showing.
		v.Services.Apps = append([]views.ServiceItem{{Name: svc, Status: "not discovered"}}, v.Services.Apps...)
		it = &v.Services.Apps[0]
	}
	open(it)
	return h.render(c, http.StatusOK, h.page(c, v.Header.Name, "containers"), views.DetailPage(v))
}

// serviceFailed reports a failed Reveal or Show logs: a toast for htmx, and
// without JavaScript the Services tab with msg in its panel.
func (h *Handler) serviceFailed(c echo.Context, u store.User, n store.Node, vmid int, msg string, err error) error {
	if isHTMX(c) {
		return &userError{status: http.StatusBadGateway, msg: msg, err: err}
	}
	h.Logger.Info("service read failed", "node", n.Name, "vmid", vmid, "err", err)
	v, verr := h.detailView(c, u, n, vmid, "services")
	if verr != nil {
		return verr
	}
	v.Services.Error = msg
	return h.render(c, http.StatusBadGateway, h.page(c, v.Header.Name, "containers"), views.DetailPage(v))
}

// truncatedNote is the notice shown under output that was cut, or "".
func truncatedNote(cut bool) string {
	if !cut {
		return ""
	}
	return "The container's " + exec.TruncatedNote + "; the rest is not shown."
}

// credentialFile names the credential file of service svc as the last
// discovery placed it: a unit's credentials may be saved under another name
// (redis for redis-server).
func (h *Handler) credentialFile(ctx context.Context, userID, nodeID string, vmid int, svc string) string {
	svcs, _, _ := h.lastServices(ctx, userID, nodeID, vmid)
	for _, s := range svcs {
		if s.Name == svc && s.CredentialFile != "" {
			return s.CredentialFile
		}
	}
	return svc
}

// sshErrorText explains a failure of a pct exec on node n.
func sshErrorText(n store.Node, what string, err error) string {
	var ce *exec.CommandError
	switch {
	case unregistered(n):
		return fmt.Sprintf("Could not %s: Corral has no SSH login for %s. %s", what, n.Name, addMemberText(n.Name))
	case errors.As(err, &ce):
		return "Could not " + what + ": " + ce.Error() + "."
	case errors.Is(err, exec.ErrHostKeyChanged):
		return fmt.Sprintf("Could not %s: the SSH host key of %s changed. Check the node in Settings.", what, n.Name)
	case errors.Is(err, exec.ErrAuthFailed), errors.Is(err, exec.ErrUnreachable), errors.Is(err, exec.ErrNoHostKey):
		var msg string
		for _, e := range []error{exec.ErrAuthFailed, exec.ErrUnreachable, exec.ErrNoHostKey} {
			if errors.Is(err, e) {
				msg = e.Error()
			}
		}
		return fmt.Sprintf("Could not %s: %s (%s).", what, msg, n.Name)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("Could not %s: %s did not answer in time.", what, n.Name)
	}
	return fmt.Sprintf("Could not %s on %s.", what, n.Name)
}
