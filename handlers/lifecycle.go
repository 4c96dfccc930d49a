package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// lifecycleActions are the POST /containers/{node}/{vmid}/{action} routes.
var lifecycleActions = []string{"start", "stop", "shutdown", "reboot", "delete"}

// How long each action waits for its Proxmox task. The task keeps running
// on the node when Corral stops waiting.
const (
	startWait         = 60 * time.Second
	stopWait          = 60 * time.Second
	shutdownGrace     = 30 * time.Second // what the container is given to stop cleanly
	shutdownWait      = 45 * time.Second
	rebootWait        = 90 * time.Second
	deleteWait        = 120 * time.Second
	statusCheckWait   = 8 * time.Second
	actionOverallWait = 5 * time.Minute
)

// ContainerLocks lets one lifecycle action at a time run per container.
type ContainerLocks struct {
	mu   sync.Mutex
	busy map[string]string // node id + vmid → action
}

// NewContainerLocks returns an empty lock table.
func NewContainerLocks() *ContainerLocks { return &ContainerLocks{busy: map[string]string{}} }

// TryLock takes the container's lock, or reports the running action.
func (l *ContainerLocks) TryLock(nodeID string, vmid int, action string) (unlock func(), running string, ok bool) {
	k := nodeID + "/" + strconv.Itoa(vmid)
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, busy := l.busy[k]; busy {
		return nil, a, false
	}
	l.busy[k] = action
	return func() { l.mu.Lock(); delete(l.busy, k); l.mu.Unlock() }, "", true
}

// actionResult is what an action did, for the event and the toast.
type actionResult struct {
	eventType string
	message   string // "CT 105 started."
	status    string // the container's state afterwards
	gone      bool   // deleted (or already absent)
}

func (h *Handler) lifecycle(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, n, vmid, err := h.containerTarget(c)
		if err != nil {
			return err
		}
		if action == "delete" && strings.TrimSpace(c.FormValue("confirm_vmid")) != strconv.Itoa(vmid) {
			msg := fmt.Sprintf("Type %d to confirm the deletion of CT %d.", vmid, vmid)
			if !isHTMX(c) {
				return h.confirmPage(c, n, vmid, action, http.StatusUnprocessableEntity, msg)
			}
			return &userError{status: http.StatusUnprocessableEntity, msg: msg}
		}
		unlock, running, ok := h.Locks.TryLock(n.ID, vmid, action)
		if !ok {
			return &userError{status: http.StatusConflict,
				msg: fmt.Sprintf("Another action (%s) is running on CT %d. Wait for it to finish.", running, vmid)}
		}
		defer unlock()
		// The action outlives a closed tab: Proxmox runs it anyway, and its
		// outcome must still be recorded.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), actionOverallWait)
		defer cancel()
		rec, hasRec, err := h.corralRecord(ctx, u.ID, n.ID, vmid)
		if err != nil {
			return err
		}
		if hasRec && rec.Lifecycle == store.LifecycleCreating {
			return &userError{status: http.StatusConflict, msg: fmt.Sprintf("CT %d is still being created. Wait for its job to finish.", vmid)}
		}
		res, err := h.runAction(ctx, n, vmid, action)
		if h.Clusters != nil {
			h.Clusters.Forget(n) // the next dashboard shows what the action did
		}
		ev := store.Event{UserID: u.ID, NodeID: n.ID, VMID: vmid, ContainerID: rec.ID}
		if err != nil {
			ev.Type, ev.Message = store.EventError, fmt.Sprintf("%s failed: %s", action, actionErrorText(err))
			h.recordEvent(ctx, ev)
			return err
		}
		ev.Type, ev.Message = res.eventType, res.message
		h.recordEvent(ctx, ev)
		if res.gone {
			if hasRec {
				if err := h.Containers.DeleteContainer(ctx, u.ID, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			if h.VMIDs != nil {
				h.VMIDs.NoteDeleted(ctx, n, vmid)
			}
			h.audit(c, store.AuditEntry{Kind: "container.delete", UserID: u.ID, Username: u.Username,
				Target: fmt.Sprintf("%s/%d", n.Name, vmid), Detail: res.message})
		}
		return h.actionAnswer(c, u, n, vmid, rec, hasRec, res)
	}
}

// powerAPI is what the lifecycle actions use of a node's API.
type powerAPI interface {
	LXCStatus(ctx context.Context, node string, vmid int) (*proxmox.ContainerStatus, error)
	Start(ctx context.Context, node string, vmid int) (string, error)
	Stop(ctx context.Context, node string, vmid int) (string, error)
	Shutdown(ctx context.Context, node string, vmid int, timeout time.Duration, forceStop bool) (string, error)
	Reboot(ctx context.Context, node string, vmid int) (string, error)
	Delete(ctx context.Context, node string, vmid int, o proxmox.DeleteOptions) (string, error)
	WaitTask(ctx context.Context, node, upid string, onLog func(line string)) error
}

// powerRun is one lifecycle action under way on one container.
type powerRun struct {
	ctx    context.Context
	api    powerAPI
	node   string // the node's name inside Proxmox
	vmid   int
	ct     string // "web (CT 105)", for messages
	status string // the container's state before the action
	log    *slog.Logger
}

// wait waits up to d for the task that an API call started.
func (r powerRun) wait(d time.Duration, upid string, err error) error {
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.ctx, d)
	defer cancel()
	return r.api.WaitTask(ctx, r.node, upid, nil)
}

// powerAction is one lifecycle action: the states in which it makes no
// sense (refused, saying why) and what it does.
type powerAction struct {
	refused func(status string) bool
	refusal string // %s is the container
	run     func(r powerRun) (actionResult, error)
}

var powerActions = map[string]powerAction{
	"start":    {refused: is("running"), refusal: "%s is already running.", run: startCT},
	"stop":     {refused: is("stopped"), refusal: "%s is already stopped.", run: stopCT},
	"shutdown": {refused: is("stopped"), refusal: "%s is already stopped.", run: shutdownCT},
	"reboot":   {refused: func(st string) bool { return st != "running" }, refusal: "%s is not running; start it instead.", run: rebootCT},
	"delete":   {run: deleteCT},
}

func is(state string) func(string) bool { return func(st string) bool { return st == state } }

// runAction checks the container's state, then starts the action and
// waits for its task.
func (h *Handler) runAction(ctx context.Context, n store.Node, vmid int, action string) (actionResult, error) {
	act, ok := powerActions[action]
	if !ok {
		return actionResult{}, store.ErrNotFound
	}
	api, err := h.Proxmox(n)
	if err != nil {
		return actionResult{}, err
	}
	r := powerRun{ctx: ctx, api: api, node: clusters.PVEName(n), vmid: vmid, ct: fmt.Sprintf("CT %d", vmid), log: h.Logger}
	sctx, cancel := context.WithTimeout(ctx, statusCheckWait)
	st, err := api.LXCStatus(sctx, r.node, vmid)
	cancel()
	if err == nil && st.Name != "" {
		r.ct = fmt.Sprintf("%s (CT %d)", st.Name, vmid)
	}
	switch {
	case err != nil && action == "delete" && errors.Is(err, proxmox.ErrNotFound):
		return actionResult{eventType: store.EventDeleted, message: r.ct + " was already gone from Proxmox; Corral forgot it.", gone: true}, nil
	case err != nil:
		return actionResult{}, err
	case act.refused != nil && act.refused(st.Status):
		return actionResult{}, &userError{status: http.StatusConflict, msg: fmt.Sprintf(act.refusal, r.ct)}
	}
	r.status = st.Status
	return act.run(r)
}

func startCT(r powerRun) (actionResult, error) {
	upid, err := r.api.Start(r.ctx, r.node, r.vmid)
	if err := r.wait(startWait, upid, err); err != nil {
		return actionResult{}, err
	}
	return actionResult{eventType: store.EventStarted, message: r.ct + " started.", status: "running"}, nil
}

func stopCT(r powerRun) (actionResult, error) {
	upid, err := r.api.Stop(r.ctx, r.node, r.vmid)
	if err := r.wait(stopWait, upid, err); err != nil {
		return actionResult{}, err
	}
	return actionResult{eventType: store.EventStopped, message: r.ct + " stopped.", status: "stopped"}, nil
}

// shutdownCT asks the container to shut down, and stops it when it does
// not within shutdownGrace.
func shutdownCT(r powerRun) (actionResult, error) {
	upid, err := r.api.Shutdown(r.ctx, r.node, r.vmid, shutdownGrace, false)
	err = r.wait(shutdownWait, upid, err)
	if err == nil {
		return actionResult{eventType: store.EventShutdown, message: r.ct + " shut down cleanly.", status: "stopped"}, nil
	}
	r.log.Info("graceful shutdown failed, stopping", "node", r.node, "vmid", r.vmid, "err", err)
	res, err := stopCT(r)
	if err != nil {
		return actionResult{}, err
	}
	res.eventType, res.message = store.EventShutdown, r.ct+" did not shut down within 30 seconds and was stopped (forced)."
	return res, nil
}

func rebootCT(r powerRun) (actionResult, error) {
	upid, err := r.api.Reboot(r.ctx, r.node, r.vmid)
	if err := r.wait(rebootWait, upid, err); err != nil {
		return actionResult{}, err
	}
	return actionResult{eventType: store.EventRebooted, message: r.ct + " rebooted.", status: "running"}, nil
}

// deleteCT stops a running container, then destroys it with its disks; a
// container already gone meanwhile counts as deleted.
func deleteCT(r powerRun) (actionResult, error) {
	if r.status == "running" {
		upid, err := r.api.Stop(r.ctx, r.node, r.vmid)
		if err := r.wait(stopWait, upid, err); err != nil && !errors.Is(err, proxmox.ErrNotFound) {
			return actionResult{}, err
		}
	}
	upid, err := r.api.Delete(r.ctx, r.node, r.vmid, proxmox.DeleteOptions{Purge: true, DestroyUnreferencedDisks: true})
	if err := r.wait(deleteWait, upid, err); err != nil && !errors.Is(err, proxmox.ErrNotFound) {
		return actionResult{}, err
	}
	return actionResult{eventType: store.EventDeleted, message: r.ct + " deleted with its disks.", gone: true}, nil
}

// actionAnswer swaps the card or the detail page's body (htmx) or
// redirects (plain form), with the outcome as a toast or flash. Without
// JavaScript a card's or row's action goes back to the list state it was
// started from.
func (h *Handler) actionAnswer(c echo.Context, u store.User, n store.Node, vmid int, rec store.Container, hasRec bool, res actionResult) error {
	from := c.FormValue("from")
	if !isHTMX(c) {
		setFlash(c, "ok", res.message)
		switch {
		case onDashboard(from):
			return seeOther(c, listReturn(c.FormValue("return")))
		case res.gone:
			return seeOther(c, "/containers")
		}
		return seeOther(c, views.DetailURL(n.ID, vmid)+tabQuery(c.FormValue("tab")))
	}
	toast(c, "ok", res.message)
	if res.gone {
		if from == "detail" {
			setFlash(c, "ok", res.message)
			return seeOther(c, "/containers")
		}
		return c.HTML(http.StatusOK, "") // the card disappears
	}
	if from == "detail" {
		v, err := h.detailView(c, u, n, vmid, c.FormValue("tab"))
		if err != nil {
			return err
		}
		v.Header.Note = res.message
		return h.render(c, http.StatusOK, views.Page{}, views.DetailBody(v))
	}
	ctx := c.Request().Context()
	card := h.actionCard(ctx, n, vmid, rec, hasRec, res.status)
	h.showCard(ctx, u.ID, &card, csrfToken(c), listReturn(c.FormValue("return")))
	if from == "row" {
		return h.render(c, http.StatusOK, views.Page{}, views.ContainerRowView(card))
	}
	return h.render(c, http.StatusOK, views.Page{}, views.ContainerCardView(card))
}

// onDashboard is an action sent from a dashboard card or table row.
func onDashboard(from string) bool { return from == "card" || from == "row" }

// tabQuery keeps a detail page's tab in a URL.
func tabQuery(tab string) string {
	if tab == "services" || tab == "events" || tab == "console" || dayTwoTabs[tab] {
		return "?tab=" + tab
	}
	return ""
}

// actionCard is the card an action swaps back in. It is built by the
// dashboard's own liveCard, from the container's status read right now
// (what /cluster/resources says may lag behind the action), so it shows
// what the list shows: tags, template, lock, member to add.
func (h *Handler) actionCard(ctx context.Context, n store.Node, vmid int, rec store.Container, hasRec bool, status string) views.ContainerCard {
	st, err := h.liveStatus(ctx, n, vmid)
	if err != nil {
		card := views.ContainerCard{NodeID: n.ID, NodeName: n.Name, VMID: vmid, Status: status,
			Name: containerName("", "", rec.Hostname, vmid)}
		if hasRec {
			card.Template, card.JobURL = rec.TemplateName, jobURL(rec)
		}
		return card
	}
	member := clusters.PVEName(n)
	row := clusters.Guest{Node: &n, Member: member, Registered: !unregistered(n), Res: &proxmox.Resource{
		ID: "lxc/" + strconv.Itoa(vmid), VMID: proxmox.Int(vmid), Node: member, Type: "lxc", Status: st.Status, Name: st.Name,
		CPU: st.CPU, Mem: st.Mem, MaxMem: st.MaxMem, Uptime: st.Uptime, Tags: st.Tags, Lock: st.Lock}}
	card := liveCard(&row, &n, rec, hasRec)
	if unregistered(n) {
		card.AddMember = &views.AddMember{ViaID: viaOf(n), Member: n.Name}
	}
	return card
}

// liveStatus asks Proxmox for one container's state, briefly.
func (h *Handler) liveStatus(ctx context.Context, n store.Node, vmid int) (*proxmox.ContainerStatus, error) {
	api, err := h.Proxmox(n)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, statusCheckWait)
	defer cancel()
	return api.LXCStatus(ctx, clusters.PVEName(n), vmid)
}

// confirmAction is GET /containers/{node}/{vmid}/{action}: the question the
// shared dialog asks, as a page, for browsers without JavaScript.
func (h *Handler) confirmAction(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, n, vmid, err := h.containerTarget(c)
		if err != nil {
			return err
		}
		return h.confirmPage(c, n, vmid, action, http.StatusOK, "")
	}
}

func (h *Handler) confirmPage(c echo.Context, n store.Node, vmid int, action string, status int, problem string) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	rec, _, err := h.corralRecord(ctx, u.ID, n.ID, vmid)
	if err != nil {
		return err
	}
	name := containerName("", "", rec.Hostname, vmid)
	if st, err := h.liveStatus(ctx, n, vmid); err == nil {
		name = containerName(st.Name, "", rec.Hostname, vmid)
	}
	conf, ok := views.ConfirmationFor(action, name, vmid)
	if !ok {
		return store.ErrNotFound
	}
	from, tab, back := c.FormValue("from"), c.FormValue("tab"), ""
	cancelURL := views.DetailURL(n.ID, vmid) + tabQuery(tab)
	if onDashboard(from) {
		cancelURL = listReturn(c.FormValue("return"))
		if cancelURL != "/containers" {
			back = cancelURL
		}
	}
	v := views.ConfirmView{Confirmation: conf, CSRF: csrfToken(c), Action: views.ActionURL(n.ID, vmid, action),
		From: from, Tab: tab, Return: back, Cancel: cancelURL, Error: problem}
	return h.render(c, status, h.page(c, conf.Title, "containers"), views.ConfirmPage(v))
}

// actionErrorText is an error in words for the timeline.
func actionErrorText(err error) string {
	_, msg := classify(err)
	return msg
}
