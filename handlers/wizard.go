package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

// The creation wizard: GET /containers/new shows the first step; every step
// button posts the whole form to /containers/new, which answers with the
// step it asks for (htmx swaps only the form); POST /containers creates.

func (h *Handler) registerWizardRoutes(g *echo.Group) {
	g.GET("/containers/new", h.wizardShow)
	g.POST("/containers/new", h.wizardStep)
	g.GET("/containers/new/download", h.wizardDownloadStatus)
	g.POST("/containers", h.wizardCreate)
}

// wizardReq is one wizard request, resolved: the user's chosen node and
// template, and the state as posted.
type wizardReq struct {
	userID  string
	nodes   []store.Node
	members []store.Node // online members of the user's clusters not added (asMember)
	node    store.Node
	tmpl    *store.Template // nil: from scratch, or nothing chosen yet
	s       wizardState
	changed bool      // the node differs from the one the fields were settled for
	nd      *nodeData // loaded on demand
}

func (h *Handler) wizardShow(c echo.Context) error {
	q := c.QueryParams()
	r, err := h.wizardResolve(c, wizardState{Template: q.Get("template"), NodeID: q.Get("node")})
	if err != nil || r == nil {
		return err
	}
	if h.VMIDs != nil {
		h.VMIDs.RefreshIfStale(c.Request().Context(), r.node)
	}
	return h.wizardRender(c, http.StatusOK, r, stepTemplate, nil, "")
}

// wizardResolve loads the user's nodes and the chosen node and template.
// A node that is not the user's is ErrNotFound (404). With no node at all
// it renders the no-nodes page itself and returns a nil request.
func (h *Handler) wizardResolve(c echo.Context, s wizardState) (*wizardReq, error) {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		w := views.Wizard{NoNodes: true}
		return nil, h.render(c, http.StatusOK, h.page(c, "Create a container", "containers"), views.WizardPage(w))
	}
	r := &wizardReq{userID: u.ID, nodes: nodes}
	if s.NodeID == "" {
		r.node = nodes[0]
		for _, n := range nodes {
			if n.IsDefault {
				r.node = n
			}
		}
	} else if r.node, err = h.resolveNode(ctx, u.ID, s.NodeID); err != nil {
		return nil, err
	}
	r.members = h.onlineMembers(ctx, nodes)
	s.NodeID = r.node.ID
	if s.Template != "" && s.Template != scratchTemplate {
		t, err := h.Templates.Template(ctx, u.ID, s.Template)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.Template, s.Filled = "", ""
		case err != nil:
			return nil, err
		default:
			r.tmpl = &t
		}
	}
	if s.Template != "" {
		s.fill(r.tmpl)
	}
	if s.SettledNode != r.node.ID {
		r.changed = s.SettledNode != ""
		if r.changed {
			h.resetVMIDForCluster(ctx, u.ID, &s, r.node)
		}
	}
	r.s = s
	return r, nil
}

// resetVMIDForCluster clears the VMID when the node moved to another
// cluster, so the new cluster's next free id is offered.
func (h *Handler) resetVMIDForCluster(ctx context.Context, userID string, s *wizardState, to store.Node) {
	from, err := h.resolveNode(ctx, userID, s.SettledNode) // a member not added keeps its cluster
	if err != nil || from.ClusterKey != to.ClusterKey {
		s.VMID = ""
	}
}

func (r *wizardReq) nodeData(ctx context.Context, h *Handler) *nodeData {
	if r.nd == nil {
		r.nd = h.loadNodeData(ctx, r.node)
	}
	return r.nd
}

func (h *Handler) wizardStep(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return &userError{status: http.StatusBadRequest, msg: "The form could not be read", err: err}
	}
	r, err := h.wizardResolve(c, readWizardState(form))
	if err != nil || r == nil {
		return err
	}
	at, target, action := form.Get("at"), form.Get("step"), form.Get("action")
	if stepIndex(at) < 0 {
		at = stepTemplate
	}
	if stepIndex(target) < 0 {
		target = at
	}
	errs := map[string]string{}
	notice := ""
	switch {
	case action == "":
	case action == "change-node" || action == "download-check":
		target = stepConfigure
	case action == "download":
		target = stepConfigure
		if msg := h.wizardStartDownload(ctx, r, form.Get("dl_pick")); msg != "" {
			errs["dl_pick"] = msg
		}
	case strings.HasPrefix(action, "script-"):
		target = stepScripts
		r.s.moveScript(r.tmpl, action)
	default:
		return &userError{status: http.StatusBadRequest, msg: "Unknown wizard action " + action}
	}
	status := http.StatusOK
	if r.changed && at == stepConfigure && target != stepConfigure && action == "" {
		// Another node was picked and the form sent without JavaScript
		// (which applies the choice at once): show the new node's storages,
		// bridges and templates before going on.
		target = stepConfigure
		notice = "Switched to " + r.node.Name + ": its storages, bridges and OS templates are now listed. Check the fields, then press Next."
	}
	if stepIndex(target) > stepIndex(at) {
		// Moving on: the steps being left must be right first.
		if target == stepConfigure && r.s.Template == "" {
			errs["template"] = "Choose a template, or start from scratch."
		} else if target != stepConfigure {
			_, perrs := h.buildPlan(ctx, r.userID, r.s, r.tmpl, r.nodeData(ctx, h))
			for k, v := range perrs {
				if stepIndex(errorStep(k)) < stepIndex(target) {
					errs[k] = v
				}
			}
		}
		if len(errs) > 0 {
			target = earliestErrorStep(errs)
			status = formStatus(c)
		}
	}
	return h.wizardRender(c, status, r, target, errs, notice)
}

// errorStep is the step that shows a field.
func errorStep(field string) string {
	for _, st := range wizardSteps {
		if slices.Contains(stepFields[st], field) {
			return st
		}
	}
	return stepConfigure // dl_pick and friends live there
}

func earliestErrorStep(errs map[string]string) string {
	best := stepReview
	for k := range errs {
		if st := errorStep(k); stepIndex(st) < stepIndex(best) {
			best = st
		}
	}
	return best
}

// wizardCreate checks everything again, refuses a plan that differs from
// the one the Review showed, and hands the plan to the Provisioner.
func (h *Handler) wizardCreate(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return &userError{status: http.StatusBadRequest, msg: "The form could not be read", err: err}
	}
	r, err := h.wizardResolve(c, readWizardState(form))
	if err != nil || r == nil {
		return err
	}
	plan, errs := h.buildPlan(ctx, r.userID, r.s, r.tmpl, r.nodeData(ctx, h))
	if len(errs) > 0 {
		return h.wizardRender(c, formStatus(c), r, earliestErrorStep(errs), errs, "")
	}
	if unregistered(r.node) {
		// Provisioning needs SSH on the member: the Review says so and
		// offers to add it.
		return h.wizardRender(c, formStatus(c), r, stepReview, nil, "")
	}
	if planDigest(plan) != form.Get("plan_digest") {
		return h.wizardRender(c, formStatus(c), r, stepReview, nil,
			"Something changed since this review was shown (the template, or the node's templates). Please check it again, then create.")
	}
	if h.Provisioner == nil {
		return errors.New("wizard: no provisioner is configured")
	}
	jobID, err := h.Provisioner.Start(ctx, plan)
	if err != nil {
		return fmt.Errorf("start creation of %d on %s: %w", plan.VMID, r.node.Name, err)
	}
	if h.VMIDs != nil {
		h.VMIDs.NoteCreated(ctx, r.node, plan.VMID, plan.Hostname)
	}
	u, _ := currentUser(c)
	h.audit(c, store.AuditEntry{Kind: "container.create", UserID: u.ID, Username: u.Username,
		Target: fmt.Sprintf("%s/%d", r.node.Name, plan.VMID),
		Detail: fmt.Sprintf("hostname %s, template %s, job %s", plan.Hostname, templateLabel(plan.TemplateName), jobID)})
	h.Logger.Info("container creation started", "node", r.node.Name, "vmid", plan.VMID, "job", jobID)
	return seeOther(c, "/jobs/"+url.PathEscape(jobID))
}

func templateLabel(name string) string {
	if name == "" {
		return "From scratch"
	}
	return name
}
