package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// tasksAPI is what the task page reads of a node.
type tasksAPI interface {
	TaskStatus(ctx context.Context, node, upid string) (*proxmox.TaskStatus, error)
	TaskLog(ctx context.Context, node, upid string, start, limit int) ([]proxmox.LogLine, int, error)
	WaitTask(ctx context.Context, node, upid string, onLog func(line string)) error
}

const (
	// taskPageLines is how much of a task log the page shows at first; the
	// stream goes on from there.
	taskPageLines = 2000
	// taskPoll is how often the stream asks Proxmox for new lines.
	taskPoll = time.Second
)

// taskTarget resolves the route's container and its task: the UPID must
// name the user's node and that container, else it is not found, without
// asking Proxmox about someone else's task.
func (h *Handler) taskTarget(c echo.Context) (store.Node, int, proxmox.UPID, tasksAPI, error) {
	_, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return n, 0, proxmox.UPID{}, nil, err
	}
	raw, err := url.PathUnescape(c.Param("upid"))
	if err != nil {
		return n, 0, proxmox.UPID{}, nil, store.ErrNotFound
	}
	u, err := proxmox.ParseUPID(raw)
	if err != nil || u.Node != clusters.PVEName(n) || u.ID != strconv.Itoa(vmid) {
		return n, 0, proxmox.UPID{}, nil, store.ErrNotFound
	}
	api, err := dayTwoAPI[tasksAPI](h, n)
	return n, vmid, u, api, err
}

// taskShow is the task page: its state and the log so far.
func (h *Handler) taskShow(c echo.Context) error {
	n, vmid, upid, api, err := h.taskTarget(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), dayTwoRead)
	defer cancel()
	st, err := api.TaskStatus(ctx, upid.Node, upid.Raw)
	if err != nil {
		if errors.Is(err, proxmox.ErrNotFound) {
			return store.ErrNotFound
		}
		return err
	}
	lines, total, err := api.TaskLog(ctx, upid.Node, upid.Raw, 0, taskPageLines)
	if err != nil {
		return err
	}
	v := h.taskView(ctx, n, vmid, upid, st, api)
	if cs, err := h.liveStatus(ctx, n, vmid); err == nil && cs.Name != "" {
		v.Title = fmt.Sprintf("%s of %s (CT %d)", taskKindName(upid.Type), cs.Name, vmid)
	}
	for _, l := range lines {
		if !(l.N == 1 && l.T == "no content" && total <= 1) {
			v.Lines = append(v.Lines, views.TaskLine{N: int(l.N), Text: l.T})
		}
	}
	if total > taskPageLines && st.Running() {
		// The stream picks up after the last line shown; the rest waits for
		// the finished page.
		v.Cut = fmt.Sprintf("Only the first %d of %d lines are shown.", taskPageLines, total)
	}
	return h.render(c, http.StatusOK, h.page(c, v.Title, "containers"), views.TaskPage(v))
}

// taskView describes a task on the container for its page.
func (h *Handler) taskView(ctx context.Context, n store.Node, vmid int, upid proxmox.UPID, st *proxmox.TaskStatus, api tasksAPI) views.TaskView {
	kind, tab := taskKind(upid.Type)
	v := views.TaskView{NodeID: n.ID, NodeName: n.Name, VMID: vmid, UPID: upid.Raw, Kind: upid.Type,
		Title: fmt.Sprintf("%s of CT %d", kind, vmid), State: "running",
		Started: upid.StartTime.Local().Format("2006-01-02 15:04:05"),
		Back:    views.DetailURL(n.ID, vmid) + "/" + tab, BackText: "Back to the " + tab}
	if tab == "" {
		v.Back, v.BackText = views.DetailURL(n.ID, vmid), "Back to the container"
	}
	switch upid.Type {
	case "vzrollback":
		v.Note = "If the container was running, Proxmox starts it again in a task of its own once the rollback is done."
	case "vzrestore":
		v.Next, v.NextText = views.DetailURL(n.ID, vmid), "Open the restored container"
	}
	if st.Running() {
		return v
	}
	v.State, v.Message = "ok", kind+" finished."
	if st.Succeeded() {
		if st.ExitStatus != "OK" {
			v.Message = kind + " finished with " + st.ExitStatus + "; the log says what to look at."
		}
		return v
	}
	v.State = "failed"
	// WaitTask on a stopped task returns at once, with the failure typed
	// (a lock named, vzdump's reason instead of "job errors").
	err := api.WaitTask(ctx, upid.Node, upid.Raw, nil)
	var pe *proxmox.Error
	if errors.As(err, &pe) {
		v.Message, v.Hint = pe.UserMessage(), pe.Hint()
	} else {
		v.Message = kind + " failed: " + st.ExitStatus
	}
	return v
}

// taskKindName names a task type.
func taskKindName(typ string) string {
	kind, _ := taskKind(typ)
	return kind
}

// taskKind names a task type and the tab it belongs to.
func taskKind(typ string) (kind, tab string) {
	switch typ {
	case "vzdump":
		return "Backup", "backups"
	case "vzrestore":
		return "Restore", "backups"
	case "vzsnapshot":
		return "Snapshot", "snapshots"
	case "vzdelsnapshot":
		return "Snapshot deletion", "snapshots"
	case "vzrollback":
		return "Rollback", "snapshots"
	case "resize":
		return "Disk resize", "settings"
	}
	return "Task " + typ, ""
}

// taskEvents streams the task's new log lines ("log" events, id = the line
// number, so a reconnect resumes after Last-Event-ID), then its final
// state ("status") and "done".
func (h *Handler) taskEvents(c echo.Context) error {
	n, vmid, upid, api, err := h.taskTarget(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// A task Proxmox does not know is not found, before the stream opens.
	sctx, cancel := context.WithTimeout(ctx, dayTwoRead)
	_, err = api.TaskStatus(sctx, upid.Node, upid.Raw)
	cancel()
	if errors.Is(err, proxmox.ErrNotFound) {
		return store.ErrNotFound
	}
	seen := int(lastEventID(c.Request()))
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/event-stream")
	hd.Set("Cache-Control", "no-cache, no-transform")
	hd.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	s := &sseStream{ctx: ctx, w: c.Response(), flush: c.Response().Flush}

	poll := time.NewTicker(taskPoll)
	defer poll.Stop()
	hb := time.NewTicker(sseHeartbeat)
	defer hb.Stop()
	for s.err == nil {
		rctx, cancel := context.WithTimeout(ctx, dayTwoRead)
		st, err := api.TaskStatus(rctx, upid.Node, upid.Raw)
		if err == nil {
			seen, err = h.streamTaskLog(rctx, s, api, upid, seen)
		}
		if err == nil && !st.Running() {
			v := h.taskView(rctx, n, vmid, upid, st, api)
			cancel()
			s.component("status", views.TaskStatus(v))
			s.event("done", "", "end")
			return s.err
		}
		cancel()
		if errors.Is(err, proxmox.ErrNotFound) {
			s.event("done", "", "end") // the node forgot the task
			return s.err
		}
		if err != nil && ctx.Err() == nil {
			h.Logger.Info("task stream: proxmox read failed", "node", n.Name, "upid", upid.Raw, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-hb.C:
			s.write(": heartbeat\n\n")
		case <-poll.C:
		}
	}
	return nil
}

// streamTaskLog sends the lines numbered above seen and returns the new count.
func (h *Handler) streamTaskLog(ctx context.Context, s *sseStream, api tasksAPI, upid proxmox.UPID, seen int) (int, error) {
	return proxmox.ReadNewLog(ctx, api, upid.Node, upid.Raw, seen, func(n int, text string) error {
		var buf bytes.Buffer
		if err := views.TaskLogLine(views.TaskLine{N: n, Text: text}).Render(ctx, &buf); err != nil {
			return err
		}
		s.event("log", strconv.Itoa(n), buf.String())
		return s.err
	})
}

// toTask answers an action that started a Proxmox task with the task's
// page: a redirect (303, or HX-Redirect for htmx).
func toTask(c echo.Context, n store.Node, vmid int, upid string) error {
	return seeOther(c, views.TaskURL(n.ID, vmid, upid))
}
