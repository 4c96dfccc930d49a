package handlers

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// maxCardServices is how many application services a card lists.
const maxCardServices = 3

// dashboardPageSize is how many containers one dashboard page shows: at
// 5,000 containers the first page stays well under 300 KB of HTML.
const dashboardPageSize = 100

// viewCookie remembers the dashboard's layout (cards or table).
const viewCookie = "corral_view"

func (h *Handler) containerList(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := currentUser(c)
	nodes, err := h.Nodes.Nodes(ctx, u.ID)
	if err != nil {
		return err
	}
	v := views.ContainersView{CSRF: csrfToken(c), NoNodes: len(nodes) == 0,
		List: h.listQuery(c), RefreshEvery: h.DashboardRefresh}
	if !v.NoNodes {
		if v, err = h.dashboard(ctx, u, nodes, v); err != nil {
			return err
		}
	}
	if isHTMX(c) && c.Request().Header.Get(hxTarget) == views.ContainersGridID {
		return h.render(c, http.StatusOK, views.Page{}, views.ContainersGrid(v))
	}
	return h.render(c, http.StatusOK, h.page(c, "Containers", "containers"), views.ContainersPage(v))
}

// listQuery reads the dashboard's query. The layout comes from ?view= and
// is remembered in a cookie for the next visit.
func (h *Handler) listQuery(c echo.Context) views.ListQuery {
	q := views.ParseListQuery(c.QueryParams())
	saved := ""
	if ck, err := c.Cookie(viewCookie); err == nil {
		saved = ck.Value
	}
	switch {
	case q.View != "":
		if q.View != saved {
			c.SetCookie(&http.Cookie{Name: viewCookie, Value: q.View, Path: "/containers", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: c.Scheme() == "https", SameSite: http.SameSiteLaxMode})
		}
	case saved == views.ViewTable:
		q.View = views.ViewTable
	default:
		q.View = views.ViewCards
	}
	return q
}

// listReturn is where an action started on the dashboard goes back to
// without JavaScript: the list state it came from, rebuilt from its parts
// as a same-site /containers URL. Anything else (another path, a host, a
// scheme, a backslash) is plain /containers, so the value can never send
// the browser elsewhere.
func listReturn(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Opaque != "" || u.User != nil || u.Host != "" ||
		u.Path != "/containers" || u.RawPath != "" || u.Fragment != "" || strings.ContainsAny(raw, "\\\x00\r\n") {
		return "/containers"
	}
	return views.ParseListQuery(u.Query()).URL()
}

// dashboard reads every cluster once and merges what Proxmox reports with
// what Corral recorded, then filters, searches, sorts and cuts out the
// requested page. It opens no SSH connection: services come from the last
// recorded discovery, looked up for the shown page only.
func (h *Handler) dashboard(ctx context.Context, u store.User, nodes []store.Node, v views.ContainersView) (views.ContainersView, error) {
	records, err := h.Containers.Containers(ctx, u.ID)
	if err != nil {
		return v, err
	}
	est := h.Clusters.Read(ctx, nodes)
	for _, p := range est.Problems {
		un := views.UnreadNode{Node: p.Node.Name, Message: p.Message, Via: p.AnsweredVia}
		if p.Member != "" {
			un.Node = p.Member
		}
		v.Problems = append(v.Problems, un)
	}
	for _, n := range nodes {
		v.Nodes = append(v.Nodes, views.NodeFilter{ID: n.ID, Name: n.Name, Selected: n.ID == v.List.Node})
	}
	cards := containerCards(est, records, nodes)
	// Members the user did not add get a filter of their own too.
	members := map[string]bool{}
	added := len(v.Nodes)
	for _, card := range cards {
		if card.AddMember != nil && !members[card.NodeID] {
			members[card.NodeID] = true
			v.Nodes = append(v.Nodes, views.NodeFilter{ID: card.NodeID, Name: card.NodeName, Selected: card.NodeID == v.List.Node})
		}
	}
	slices.SortFunc(v.Nodes[added:], func(a, b views.NodeFilter) int { return cmp.Compare(a.Name, b.Name) })
	summarize(&v, cards)
	q := v.List
	if q.Q != "" && looksLikeAddress(q.Q) {
		h.addCardIPs(ctx, u.ID, cards)
	}
	// Filter and sort pointers: a card is a few hundred bytes, and there
	// may be thousands.
	matched := make([]*views.ContainerCard, 0, len(cards))
	for i := range cards {
		card := &cards[i]
		if q.Node != "" && card.NodeID != q.Node || q.Status != "" && card.Status != q.Status || !cardMatches(card, q.Q) {
			continue
		}
		matched = append(matched, card)
	}
	sortCards(matched, q.Sort, q.Desc)
	v.Pager = pageOf(len(matched), q.Page, dashboardPageSize)
	for _, ref := range matched[max(v.Pager.First-1, 0):v.Pager.Last] {
		card := *ref
		h.showCard(ctx, u.ID, &card, v.CSRF, v.List.URL())
		v.Cards = append(v.Cards, card)
	}
	return v, nil
}

// showCard completes a card that is shown, on the page or swapped in after
// an action: usage in words, the form token, the list to return to, and
// the services of the last discovery.
func (h *Handler) showCard(ctx context.Context, userID string, card *views.ContainerCard, csrf, list string) {
	card.CPU, card.Mem = usageText(card.Live, card.CPUShare, card.MemBytes, card.MemMax)
	card.CSRF, card.Return = csrf, list
	if card.AddMember != nil {
		card.AddMember.CSRF = csrf
	}
	h.addCardServices(ctx, userID, card)
}

// pageOf is the slice of matched containers page shows; a page past the
// end shows the last one.
func pageOf(matched, page, size int) views.Pager {
	p := views.Pager{Matched: matched, Pages: max((matched+size-1)/size, 1)}
	p.Page = min(max(page, 1), p.Pages)
	if matched > 0 {
		p.First = (p.Page-1)*size + 1
		p.Last = min(p.Page*size, matched)
	}
	return p
}

// cardMatches is the dashboard's search: a case-insensitive part of the
// name, the VMID, a tag or the last known address.
func cardMatches(c *views.ContainerCard, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	if strings.Contains(strings.ToLower(c.Name), q) || strings.HasPrefix(strconv.Itoa(c.VMID), q) ||
		c.IP != "" && strings.HasPrefix(c.IP, q) {
		return true
	}
	for _, t := range c.Tags {
		if strings.Contains(strings.ToLower(t), q) {
			return true
		}
	}
	return false
}

// looksLikeAddress is a search that may be part of an IP address: only
// then are the addresses of every container looked up.
func looksLikeAddress(q string) bool {
	return strings.ContainsAny(q, ".:") && strings.Trim(q, "0123456789abcdefABCDEF.:") == ""
}

// addCardIPs fills in the address of every container's last discovery.
func (h *Handler) addCardIPs(ctx context.Context, userID string, cards []views.ContainerCard) {
	for i := range cards {
		if _, ip, ok := h.lastServices(ctx, userID, cards[i].NodeID, cards[i].VMID); ok {
			cards[i].IP = ip
		}
	}
}

// statusOrder sorts by status the way a person scans: trouble first.
var statusOrder = map[string]int{"error": 0, "unknown": 1, "creating": 2, "running": 3, "stopped": 4}

// sortCards orders the dashboard by key ("" keeps node, then VMID); ties
// fall back to node and VMID (and the node's id, for two nodes of one
// name), a total order, so pages never shuffle between refreshes.
func sortCards(cards []*views.ContainerCard, key string, desc bool) {
	by := func(a, b *views.ContainerCard) int {
		switch key {
		case "name":
			return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		case "vmid":
			return cmp.Compare(a.VMID, b.VMID)
		case "node":
			return cmp.Compare(a.NodeName, b.NodeName)
		case "status":
			return cmp.Compare(statusOrder[a.Status], statusOrder[b.Status])
		case "cpu":
			return cmp.Compare(a.CPUShare, b.CPUShare)
		case "mem":
			return cmp.Compare(a.MemBytes, b.MemBytes)
		}
		return 0
	}
	slices.SortFunc(cards, func(a, b *views.ContainerCard) int {
		c := by(a, b)
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.NodeName, b.NodeName), cmp.Compare(a.VMID, b.VMID), cmp.Compare(a.NodeID, b.NodeID))
	})
}

// cardKey names a container across the user's nodes.
type cardKey struct {
	node string
	vmid int
}

// containerCards merges what Proxmox listed with Corral's own records, by
// node name and VMID.
func containerCards(est clusters.Estate, records []store.Container, nodes []store.Node) []views.ContainerCard {
	rec := make(map[cardKey]store.Container, len(records))
	for _, r := range records {
		rec[cardKey{r.NodeID, r.VMID}] = r
	}
	cards := make([]views.ContainerCard, 0, len(est.Guests)+len(records))
	seen := make(map[cardKey]bool, len(records)) // records Proxmox listed
	members := map[string]*store.Node{}          // unregistered members, one record each
	for i := range est.Guests {
		row := &est.Guests[i]
		n := row.Node
		if !row.Registered {
			// On a member the user did not add: reached through the
			// member that answered; shells need it added.
			key := MemberRef(row.Node.ID, row.Member)
			if members[key] == nil {
				m := asMember(*row.Node, row.Member)
				members[key] = &m
			}
			n = members[key]
		}
		k := cardKey{n.ID, int(row.Res.VMID)}
		r, ok := rec[k]
		if ok {
			seen[k] = true
		}
		card := liveCard(row, n, r, ok)
		if !row.Registered {
			card.AddMember = &views.AddMember{ViaID: row.Node.ID, Member: row.Member}
		}
		cards = append(cards, card)
	}
	// Corral's own records that Proxmox did not list: stale when their node
	// could not be read, otherwise missing (or still being created).
	byID := map[string]store.Node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	for _, r := range records {
		n, ok := byID[r.NodeID]
		if seen[cardKey{r.NodeID, r.VMID}] || !ok {
			continue
		}
		card := views.ContainerCard{NodeID: n.ID, NodeName: n.Name, VMID: r.VMID,
			Name: containerName("", "", r.Hostname, r.VMID), Template: r.TemplateName, JobURL: jobURL(r)}
		card.Status = mergedStatus(r.Lifecycle, true, "")
		switch {
		case !est.Answered[n.ID]:
			card.Stale = true
			card.Note = "Node " + n.Name + " did not answer: this is what Corral last knew."
		case r.Lifecycle != store.LifecycleCreating:
			card.Note = "Not found on Proxmox: it may have been deleted outside Corral."
		}
		cards = append(cards, card)
	}
	return cards // unordered: sortCards orders what is shown
}

// liveCard is a container Proxmox listed on n, with Corral's record r if
// hasRec.
func liveCard(row *clusters.Guest, n *store.Node, r store.Container, hasRec bool) views.ContainerCard {
	vmid := int(row.Res.VMID)
	card := views.ContainerCard{NodeID: n.ID, NodeName: n.Name, VMID: vmid,
		Name: containerName(row.Res.Name, "", r.Hostname, vmid)}
	card.Status = mergedStatus(r.Lifecycle, hasRec, row.Res.Status)
	if row.Res.Status == "running" || row.Res.Status == "stopped" {
		card.Live = row.Res.Status
	}
	if hasRec {
		card.Template = r.TemplateName
		card.JobURL = jobURL(r)
	}
	if row.Res.Lock != "" {
		card.Note = "Locked by Proxmox (" + row.Res.Lock + ")."
	}
	card.Tags = row.Res.TagList()
	if row.Res.Status == "running" {
		card.CPUShare, card.MemBytes, card.MemMax = float64(row.Res.CPU), int64(row.Res.Mem), int64(row.Res.MaxMem)
	}
	return card
}

// usageText words a running container's CPU and memory; the dashboard
// does it for the shown page only.
func usageText(live string, cpu float64, mem, maxMem int64) (cpuText, memText string) {
	if live != "running" {
		return "", ""
	}
	return fmt.Sprintf("%.0f%%", cpu*100), bytesText(mem) + " / " + bytesText(maxMem)
}

// summarize counts the cards by status. The summary is also the status
// filter: it counts what the node filter lets through, whatever the status
// filter.
func summarize(v *views.ContainersView, cards []views.ContainerCard) {
	for _, card := range cards {
		if v.List.Node != "" && card.NodeID != v.List.Node {
			continue
		}
		v.Summary.Total++
		switch card.Status {
		case "running":
			v.Summary.Running++
		case "stopped":
			v.Summary.Stopped++
		case "error":
			v.Summary.Error++
		case "creating":
			v.Summary.Creating++
		}
	}
	v.Total = len(cards)
}

// addCardServices lists up to three application services from the last
// discovery.
func (h *Handler) addCardServices(ctx context.Context, userID string, card *views.ContainerCard) {
	svcs, ip, ok := h.lastServices(ctx, userID, card.NodeID, card.VMID)
	if !ok {
		return
	}
	for _, s := range svcs {
		if s.System {
			continue
		}
		if len(card.Services) == maxCardServices {
			card.MoreServices++
			continue
		}
		card.Services = append(card.Services, views.ServiceLink{Name: s.Name, Status: s.Status, URL: serviceURL(ip, s)})
	}
}

// serviceURL links a service's first web port when the address is known.
func serviceURL(ip string, s store.Service) string {
	for _, p := range s.Ports {
		if link, _ := portAccess(ip, s.Name, p); link != "" {
			return link
		}
	}
	return ""
}

// mergedStatus is what a card shows: Corral's lifecycle while creating or
// failed, otherwise Proxmox's state.
func mergedStatus(lifecycle string, known bool, live string) string {
	if known {
		switch lifecycle {
		case store.LifecycleCreating:
			return "creating"
		case store.LifecycleError:
			return "error"
		}
	}
	switch live {
	case "running", "stopped":
		return live
	}
	return "unknown"
}

// bytesText formats a size with binary units: "256.0 MiB".
func bytesText(b int64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatInt(b, 10) + " B"
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTP"[exp])
}

// jobURL links a container that is being created, or whose creation failed,
// to its job's progress page; other containers have none.
func jobURL(r store.Container) string {
	if r.JobID == "" || (r.Lifecycle != store.LifecycleCreating && r.Lifecycle != store.LifecycleError) {
		return ""
	}
	return "/jobs/" + r.JobID
}
