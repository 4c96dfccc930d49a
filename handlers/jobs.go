package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"corral/exec/provision"
	"corral/store"
	"corral/views"
)

// Provisioner starts and follows container creation jobs; *provision.Runner
// is one. Every method taking a userID answers
// store.ErrNotFound for another user's job.
type Provisioner interface {
	// Start stores the job (and a container record in lifecycle
	// "creating") before anything is sent to Proxmox, then queues it.
	Start(ctx context.Context, plan store.Plan) (jobID string, err error)
	Job(ctx context.Context, userID, jobID string) (store.Job, error)
	// Log returns the job's log entries with Seq > after, oldest first.
	Log(ctx context.Context, userID, jobID string, after uint64) ([]store.LogEntry, error)
	// Subscribe streams entries saved from now on; cancel ends it. The
	// channel closes early when the reader lags.
	Subscribe(jobID string) (entries <-chan []store.LogEntry, cancel func())
	// Retry re-queues a failed or interrupted job at its failed step. It
	// runs the plan as it was reviewed, whatever its template became.
	Retry(ctx context.Context, userID, jobID string) error
	// TemplateChanges lists the scripts still to run whose content in the
	// job's template differs from the plan's; empty unless userID owns the
	// template.
	TemplateChanges(ctx context.Context, userID, jobID string) ([]provision.ScriptChange, error)
	// RetryWithTemplate retries with those scripts' current content, only
	// when reviewed is provision.ChangesDigest of the changes as they are now
	// (provision.ErrChangesStale otherwise).
	RetryWithTemplate(ctx context.Context, userID, jobID, reviewed string) error
	// Delete destroys a failed or interrupted job's container, once it has
	// checked the guest is the one the job created.
	Delete(ctx context.Context, userID, jobID string) error
	// CheckGuest answers a *provision.GuestGoneError when a stopped job's
	// container is gone or its VMID holds another; Retry and Delete then
	// refuse with the same error.
	CheckGuest(ctx context.Context, userID, jobID string) error
}

func (h *Handler) registerJobRoutes(g *echo.Group) {
	g.GET("/jobs/:id", h.jobShow)
	g.GET("/jobs/:id/events", h.jobEvents)
	g.POST("/jobs/:id/retry", h.jobRetry)
	g.GET("/jobs/:id/retry-template", h.jobTemplateChanges)
	g.POST("/jobs/:id/retry-template", h.jobRetryTemplate)
	g.POST("/jobs/:id/delete", h.jobDelete)
}

// userJob loads the signed-in user's job and its node; anyone else's job,
// or a job whose node is no longer the user's, is not found.
func (h *Handler) userJob(c echo.Context) (store.User, store.Job, store.Node, error) {
	u, _ := currentUser(c)
	if h.Provisioner == nil {
		return u, store.Job{}, store.Node{}, store.ErrNotFound
	}
	ctx := c.Request().Context()
	j, err := h.Provisioner.Job(ctx, u.ID, c.Param("id"))
	if err != nil {
		return u, store.Job{}, store.Node{}, err
	}
	n, err := h.Nodes.Node(ctx, u.ID, j.Plan.NodeID)
	if err != nil {
		return u, store.Job{}, store.Node{}, err
	}
	return u, j, n, nil
}

func (h *Handler) jobShow(c echo.Context) error {
	u, j, n, err := h.userJob(c)
	if err != nil {
		return err
	}
	filter := c.QueryParam("script")
	entries, err := h.Provisioner.Log(c.Request().Context(), u.ID, j.ID, 0)
	if err != nil {
		return err
	}
	v := jobView(j, n, csrfToken(c), filter)
	if v.Gone == "" {
		v.Gone = h.guestGone(c.Request().Context(), j, n)
	}
	if v.Gone == "" {
		v.TemplateChanges = h.templateChanges(c.Request().Context(), j)
	}
	h.fillReady(c.Request().Context(), j, n, &v)
	h.fillCleanSnapshot(c.Request().Context(), j, &v)
	for _, e := range entries {
		v.LastSeq = e.Seq
		if matchesFilter(e, filter) {
			v.Log = append(v.Log, logLineView(e))
		}
	}
	v.Live = j.State.Active() || !endsRun(entries)
	title := fmt.Sprintf("Creating %s", j.Plan.Hostname)
	return h.render(c, http.StatusOK, h.page(c, title, "containers"), jobPage(v))
}

// guestCheckWait bounds asking Proxmox whether a stopped job's container
// is still there; a node that does not answer only costs the notice.
const guestCheckWait = 5 * time.Second

// guestGone says why a stopped job's container is no longer there, or "".
func (h *Handler) guestGone(ctx context.Context, j store.Job, n store.Node) string {
	if !j.State.Stopped() {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, guestCheckWait)
	defer cancel()
	err := h.Provisioner.CheckGuest(ctx, j.UserID, j.ID)
	var gone *provision.GuestGoneError
	if !errors.As(err, &gone) {
		return ""
	}
	return guestGoneText(gone, n)
}

// guestGoneText explains a *provision.GuestGoneError on node n.
func guestGoneText(g *provision.GuestGoneError, n store.Node) string {
	if g.Now != "" {
		return fmt.Sprintf("CT %d on %s is now another container (%s), not the one this job created.", g.VMID, n.Name, g.Now)
	}
	return fmt.Sprintf("The container CT %d no longer exists on %s.", g.VMID, n.Name)
}

// refusal turns what Retry or Delete refused into a notice on the job's
// page (a redirect back to it), or returns the error as it is.
func (h *Handler) refusal(c echo.Context, j store.Job, n store.Node, err error) error {
	var gone *provision.GuestGoneError
	switch {
	case errors.As(err, &gone):
		setFlash(c, "bad", guestGoneText(gone, n)+" Nothing was done.")
	case errors.Is(err, provision.ErrGuestBusy):
		setFlash(c, "warn", fmt.Sprintf("CT %d is still being created. Try again once its create task has ended.", j.Plan.VMID))
	case errors.Is(err, provision.ErrJobState) && j.State == store.JobDeleted:
		setFlash(c, "warn", fmt.Sprintf("Container %d no longer exists, so this job has nothing left to do.", j.Plan.VMID))
	case errors.Is(err, provision.ErrJobState):
		setFlash(c, "warn", "This job is not stopped, so there is nothing to retry or delete.")
	default:
		return err
	}
	return seeOther(c, "/jobs/"+j.ID)
}

// templateChanges names the scripts a retry of the stopped job j with its
// template's current version would change (only ever for the template's
// owner), for the note that offers that retry.
func (h *Handler) templateChanges(ctx context.Context, j store.Job) []string {
	var names []string
	for _, ch := range h.scriptChanges(ctx, j) {
		names = append(names, ch.Name)
	}
	return names
}

// scriptChanges lists what a retry of the stopped job j with its
// template's current version would change. A template that cannot be read
// only costs the offer.
func (h *Handler) scriptChanges(ctx context.Context, j store.Job) []provision.ScriptChange {
	if !j.State.Stopped() || j.Plan.TemplateID == "" {
		return nil
	}
	changes, err := h.Provisioner.TemplateChanges(ctx, j.UserID, j.ID)
	if err != nil {
		h.Logger.Warn("template of a stopped job not read", "job", j.ID, "template", j.Plan.TemplateID, "err", err)
		return nil
	}
	return changes
}

// jobTemplateChanges shows, script by script, what a retry with the
// template's current version would run instead of what was reviewed, and
// asks to confirm exactly that.
func (h *Handler) jobTemplateChanges(c echo.Context) error {
	_, j, _, err := h.userJob(c)
	if err != nil {
		return err
	}
	return h.showTemplateChanges(c, http.StatusOK, j, "")
}

func (h *Handler) showTemplateChanges(c echo.Context, status int, j store.Job, notice string) error {
	if !j.State.Stopped() {
		setFlash(c, "warn", "This job is not stopped, so there is nothing to retry.")
		return seeOther(c, "/jobs/"+j.ID)
	}
	v := templateRetryView(j, h.scriptChanges(c.Request().Context(), j), csrfToken(c))
	v.Notice = notice
	return h.render(c, status, h.page(c, "Retry "+j.Plan.Hostname+" with the template's current version", "containers"), views.JobTemplateRetryPage(v))
}

// jobRetryTemplate retries with the template's current scripts, if they
// are still exactly the ones the user reviewed.
func (h *Handler) jobRetryTemplate(c echo.Context) error {
	u, j, n, err := h.userJob(c)
	if err != nil {
		return err
	}
	err = h.Provisioner.RetryWithTemplate(c.Request().Context(), u.ID, j.ID, c.FormValue("changes"))
	switch {
	case errors.Is(err, provision.ErrChangesStale):
		return h.showTemplateChanges(c, http.StatusConflict, j,
			"The template changed since you reviewed it, so nothing ran. Below is what would run now; review it again.")
	case err != nil:
		return h.refusal(c, j, n, err)
	}
	setFlash(c, "info", "Retrying from the step that failed, with the template's current version of the scripts you reviewed.")
	return seeOther(c, "/jobs/"+j.ID)
}

func (h *Handler) jobRetry(c echo.Context) error {
	u, j, n, err := h.userJob(c)
	if err != nil {
		return err
	}
	if err := h.Provisioner.Retry(c.Request().Context(), u.ID, j.ID); err != nil {
		return h.refusal(c, j, n, err)
	}
	setFlash(c, "info", "Retrying from the step that failed.")
	return seeOther(c, "/jobs/"+j.ID)
}

func (h *Handler) jobDelete(c echo.Context) error {
	u, j, n, err := h.userJob(c)
	if err != nil {
		return err
	}
	if err := h.Provisioner.Delete(c.Request().Context(), u.ID, j.ID); err != nil {
		return h.refusal(c, j, n, err)
	}
	h.audit(c, store.AuditEntry{Kind: "container.delete", UserID: u.ID, Username: u.Username,
		Target: fmt.Sprintf("%s/%d", n.Name, j.Plan.VMID), Detail: "deleted after a failed creation"})
	setFlash(c, "ok", fmt.Sprintf("Container %d (%s) was deleted.", j.Plan.VMID, j.Plan.Hostname))
	return seeOther(c, "/containers")
}
