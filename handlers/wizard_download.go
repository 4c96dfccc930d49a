package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/store"
	"corral/views"
)

// wizardStartDownload asks the node to download a catalogue template and
// keeps the task in the form; it returns a message for the user on failure.
func (h *Handler) wizardStartDownload(ctx context.Context, r *wizardReq, pick string) string {
	nd := r.nodeData(ctx, h)
	if !nd.loaded() {
		return "The node could not be read, so nothing can be downloaded now."
	}
	if !slices.ContainsFunc(nd.Catalogue, func(a proxmox.Appliance) bool { return a.Template == pick }) {
		return "Choose a template from the catalogue list."
	}
	storage := nd.downloadStorage()
	if storage == "" {
		return "No storage on this node takes OS templates (content type vztmpl)."
	}
	api, err := h.Proxmox(r.node)
	if err != nil {
		return errorText(err)
	}
	upid, err := api.DownloadAppliance(ctx, r.node.PVENodeName, storage, pick)
	if err != nil {
		return errorText(err)
	}
	h.Logger.Info("wizard: template download started", "node", r.node.Name, "template", pick, "upid", upid)
	r.s.DownloadUPID, r.s.DownloadFile = upid, pick
	return ""
}

// wizardDownloadProgress reads the state of the download the form carries.
// A finished download is dropped from the form and its template chosen.
func (h *Handler) wizardDownloadProgress(ctx context.Context, r *wizardReq) (*views.WizardDownload, string) {
	if r.s.DownloadUPID == "" {
		return nil, ""
	}
	d := h.downloadState(ctx, r.node, r.s.DownloadUPID, r.s.DownloadFile)
	if d.Running {
		return &d, ""
	}
	r.s.DownloadUPID = ""
	if d.Failed != "" {
		return &d, ""
	}
	// Read the node's templates again (they may have been read before the
	// download ended) and pick the new one by file name.
	r.nd = nil
	nd := r.nodeData(ctx, h)
	for _, v := range nd.Volumes {
		if strings.HasSuffix(v.VolID, "/"+d.File) {
			r.s.OSTemplate = v.VolID
		}
	}
	return nil, d.File + " is downloaded and chosen as the OS template."
}

// downloadState reads one download task of the user's node n.
func (h *Handler) downloadState(ctx context.Context, n store.Node, upid, file string) views.WizardDownload {
	d := views.WizardDownload{NodeID: n.ID, UPID: upid, File: file}
	if pu, err := proxmox.ParseUPID(upid); err != nil || pu.Type != "download" {
		d.Failed = "Corral lost track of this download; start it again."
		return d
	}
	api, err := h.Proxmox(n)
	if err != nil {
		d.Failed = errorText(err)
		return d
	}
	return readTask(ctx, api, n.PVENodeName, d)
}

// wizardDownloadStatus is the polled fragment of a running download.
func (h *Handler) wizardDownloadStatus(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	n, err := h.Nodes.Node(ctx, u.ID, c.QueryParam("node_id"))
	if err != nil {
		return err
	}
	d := h.downloadState(ctx, n, c.QueryParam("upid"), c.QueryParam("file"))
	return h.render(c, http.StatusOK, h.page(c, "Template download", "containers"), views.WizardDownloadStatus(d))
}

// taskAPI is what following a task takes of a node's API.
type taskAPI interface {
	TaskStatus(ctx context.Context, node, upid string) (*proxmox.TaskStatus, error)
	TaskLog(ctx context.Context, node, upid string, start, limit int) ([]proxmox.LogLine, int, error)
}

// readTask fills in whether the task still runs, how it ended, and its
// latest log line.
func readTask(ctx context.Context, api taskAPI, pveNode string, d views.WizardDownload) views.WizardDownload {
	st, err := api.TaskStatus(ctx, pveNode, d.UPID)
	if err != nil {
		var pe *proxmox.Error
		if errors.As(err, &pe) {
			d.Failed = pe.UserMessage()
		} else {
			d.Failed = err.Error()
		}
		return d
	}
	d.Running = st.Running()
	if !d.Running && !st.Succeeded() {
		d.Failed = st.ExitStatus
	}
	if lines, _, err := api.TaskLog(ctx, pveNode, d.UPID, 0, 500); err == nil && len(lines) > 0 {
		d.LastLine = lines[len(lines)-1].T
	}
	return d
}
