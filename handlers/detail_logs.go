package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

// logsQuery is what the Show logs panel asks for.
type logsQuery struct {
	lines  int  // 1-200, default 100
	follow bool // the panel reloads its lines every few seconds
	view   bool // only the lines: a followed panel reloading itself
	hide   bool // close the panel
}

func parseLogsQuery(c echo.Context) logsQuery {
	q := logsQuery{lines: 100, follow: c.QueryParam("follow") == "1", view: c.QueryParam("view") == "1", hide: c.QueryParam("hide") == "1"}
	if k, err := strconv.Atoi(c.QueryParam("lines")); err == nil {
		q.lines = min(max(k, 1), views.LogLineChoices[len(views.LogLineChoices)-1])
	}
	return q
}

// hideLogs empties the panel and turns Hide back into Show; the Hide link
// itself leads back to the services tab when there is no htmx.
func (h *Handler) hideLogs(c echo.Context, n store.Node, vmid int, svc string) error {
	if !isHTMX(c) {
		return seeOther(c, views.DetailURL(n.ID, vmid)+"?tab=services")
	}
	return h.render(c, http.StatusOK, views.Page{}, views.LogsToggle(n.ID, vmid, svc, false, true))
}

// renderLogs answers htmx with the panel and a Hide toggle, or only the
// lines (a followed panel reloading). Without JavaScript the whole detail
// page answers instead (serviceLogs).
func (h *Handler) renderLogs(c echo.Context, n store.Node, vmid int, svc string, q logsQuery, lines []string, cut string) error {
	v := views.LogsView{NodeID: n.ID, VMID: vmid, Service: svc, Lines: lines, Count: q.lines, Follow: q.follow, Cut: cut}
	if q.view {
		return h.render(c, http.StatusOK, views.Page{}, views.LogLines(v))
	}
	return h.render(c, http.StatusOK, views.Page{}, views.ServiceLogsWithToggle(v))
}
