package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"corral/exec/nodeprobe"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// NodeStore is what the pages need of the user's Proxmox nodes; *store.DB
// satisfies it. Every method is scoped to one user: another user's node id
// is ErrNotFound.
type NodeStore interface {
	Nodes(ctx context.Context, userID string) ([]store.Node, error)
	Node(ctx context.Context, userID, nodeID string) (store.Node, error)
	CreateNode(ctx context.Context, n store.Node) (store.Node, error)
	UpdateNode(ctx context.Context, userID string, n store.Node) (store.Node, error)
	SetDefaultNode(ctx context.Context, userID, nodeID string) error
	DeleteNode(ctx context.Context, userID, nodeID string) error
}

func (h *Handler) registerNodeRoutes(g *echo.Group) {
	g.GET("/settings/nodes", h.nodeList)
	g.POST("/settings/nodes", h.nodeAdd)
	g.POST("/settings/nodes/confirm", h.nodeConfirm)
	g.GET("/settings/nodes/:id", h.nodeEdit)
	g.POST("/settings/nodes/:id", h.nodeEditSubmit)
	g.GET("/settings/nodes/:id/status", h.nodeStatus)
	g.POST("/settings/nodes/:id/test", h.nodeTest)
	g.POST("/settings/nodes/:id/retrust", h.nodeRetrust)
	g.GET("/settings/nodes/:id/containers", h.nodeContainerCount)
	g.POST("/settings/nodes/:id/default", h.nodeMakeDefault)
	g.POST("/settings/nodes/:id/delete", h.nodeDelete)
	g.POST("/settings/nodes/:id/members", h.nodeMembers)
}

func (h *Handler) nodeList(c echo.Context) error {
	return h.nodeListPage(c, http.StatusOK, h.newNodeForm(c), nil)
}

// nodeListPage renders the list with the given add form and problem.
func (h *Handler) nodeListPage(c echo.Context, status int, form views.NodeForm, problem *views.NodeProblem) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	v := views.NodeList{CSRF: csrfToken(c), Form: form, Problem: problem}
	rows := map[string]views.NodeRow{}
	for _, n := range nodes {
		count, err := h.Containers.CountContainersOnNode(ctx, u.ID, n.ID)
		if err != nil {
			return err
		}
		row := views.NodeRow{
			ID: n.ID, Name: n.Name, Addr: nodeprobe.APIAddr(n), Cluster: clusterLabel(n, nodes),
			Version: n.PVEVersion, IsDefault: n.IsDefault, Containers: count,
		}
		v.Rows = append(v.Rows, row)
		rows[n.ID] = row
	}
	v.Groups = h.nodeGroups(ctx, v.CSRF, nodes, rows)
	return h.render(c, status, h.page(c, "Proxmox nodes", "settings"), views.NodesPage(v))
}

// clusterLabel says which cluster n is in and how many of the user's nodes
// share it: nodes of one cluster share their VMIDs.
func clusterLabel(n store.Node, all []store.Node) string {
	if n.ClusterName == "" {
		return "standalone"
	}
	same := 0
	for _, o := range all {
		if o.ClusterKey != "" && o.ClusterKey == n.ClusterKey {
			same++
		}
	}
	if same <= 1 {
		return n.ClusterName
	}
	return fmt.Sprintf("%s (%d of your nodes)", n.ClusterName, same)
}

// nodeStatus answers the lazy status cell of the list.
func (h *Handler) nodeStatus(c echo.Context) error {
	n, s, err := h.checkNode(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, h.page(c, "Status of "+n.Name, "settings"), views.NodeStatusCell(s))
}

// nodeTest is "Test again": htmx swaps the fresh status cell in, stamped
// with the time so a result like the last one is still visibly new; a plain
// form post gets the result as a flash on the list.
func (h *Handler) nodeTest(c echo.Context) error {
	n, s, err := h.checkNode(c)
	if err != nil {
		return err
	}
	s.Tested = "tested at " + h.Now().Format("15:04:05")
	if isHTMX(c) {
		return h.render(c, http.StatusOK, h.page(c, "Status of "+n.Name, "settings"), views.NodeStatusCell(s))
	}
	level := "ok"
	if s.Level != "ok" {
		level = "warn"
	}
	msg := fmt.Sprintf("%s: %s.", n.Name, s.Label)
	if s.Message != "" {
		msg += " " + s.Message
	}
	setFlash(c, level, msg)
	return seeOther(c, "/settings/nodes")
}

// checkNode checks a stored node's live status over its pins.
func (h *Handler) checkNode(c echo.Context) (store.Node, views.NodeStatus, error) {
	u, _ := currentUser(c)
	n, err := h.Nodes.Node(c.Request().Context(), u.ID, c.Param("id"))
	if err != nil {
		return n, views.NodeStatus{}, err
	}
	p, err := h.prober()
	if err != nil {
		return n, views.NodeStatus{}, err
	}
	hl := p.Check(c.Request().Context(), n)
	s := views.NodeStatus{CSRF: csrfToken(c), ID: n.ID, Label: hl.State, Message: hl.Message, Version: hl.Version, Level: "bad"}
	switch hl.State {
	case nodeprobe.HealthOK:
		s.Level = "ok"
	case nodeprobe.HealthTLSChanged, nodeprobe.HealthHostKeyChanged:
		s.Level, s.Retrust = "warn", true
	case nodeprobe.HealthForbidden, nodeprobe.HealthPctMissing:
		s.Level = "warn"
	}
	return n, s, nil
}

// nodeContainerCount answers the lazy Containers cell: every LXC container
// Proxmox lists on the node, not only those Corral made.
func (h *Handler) nodeContainerCount(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	n, err := h.Nodes.Node(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	count := views.NodeCount{ID: n.ID}
	if count.Corral, err = h.Containers.CountContainersOnNode(ctx, u.ID, n.ID); err != nil {
		return err
	}
	cl := h.Clusters.ReadCluster(ctx, []store.Node{n})
	if len(cl.Failed) > 0 {
		count.Problem = cl.Failed[0].Message
	}
	for _, r := range cl.Resources {
		if r.Type == "lxc" && !bool(r.Template) && r.Node == clusters.PVEName(n) {
			count.Total++
		}
	}
	return h.render(c, http.StatusOK, h.page(c, "Containers on "+n.Name, "settings"), views.NodeCountCell(count))
}

func (h *Handler) nodeMakeDefault(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	n, err := h.Nodes.Node(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.Nodes.SetDefaultNode(ctx, u.ID, n.ID); err != nil {
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "node.default", UserID: u.ID, Username: u.Username, Target: n.Name, Detail: "node " + n.ID})
	setFlash(c, "ok", fmt.Sprintf("%s is now your default node.", n.Name))
	return seeOther(c, "/settings/nodes")
}

func (h *Handler) nodeDelete(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	n, err := h.Nodes.Node(ctx, u.ID, c.Param("id"))
	if err != nil {
		return err
	}
	err = h.Nodes.DeleteNode(ctx, u.ID, n.ID)
	if errors.Is(err, store.ErrNodeInUse) {
		count, cerr := h.Containers.CountContainersOnNode(ctx, u.ID, n.ID)
		if cerr != nil {
			return cerr
		}
		status := http.StatusConflict
		if isHTMX(c) {
			status = http.StatusOK
		}
		return h.nodeListPage(c, status, h.newNodeForm(c), &views.NodeProblem{
			Title:   n.Name + " was not deleted",
			Message: fmt.Sprintf("%s still holds %s created by Corral.", n.Name, containersWord(count)),
			Hint:    "Delete those containers first (or move them away in Proxmox and delete them in Corral); then delete the node.",
		})
	}
	if err != nil {
		return err
	}
	h.audit(c, store.AuditEntry{Kind: "node.delete", UserID: u.ID, Username: u.Username, Target: n.Name, Detail: "node " + n.ID + " at " + nodeprobe.APIAddr(n)})
	setFlash(c, "ok", fmt.Sprintf("Node %s deleted.", n.Name))
	return seeOther(c, "/settings/nodes")
}

func containersWord(n int) string {
	if n == 1 {
		return "1 container"
	}
	return strconv.Itoa(n) + " containers"
}

// prober is the configured NodeProber; main always sets one.
func (h *Handler) prober() (NodeProber, error) {
	if h.Prober == nil {
		return nil, errors.New("handlers: no NodeProber configured")
	}
	return h.Prober, nil
}
