package views

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ListQuery is what the dashboard's URL asks for: filters, search, sort,
// page and layout. Every link and the 10 s refresh carry it, so a refresh
// shows the same slice the user was looking at.
type ListQuery struct {
	Node   string // node id, "" for all
	Status string // running, stopped, error, creating; "" for all
	Q      string // search: name, VMID, tag or address
	Sort   string // one of SortKeys; "" is by node, then VMID
	Desc   bool
	Page   int    // 1-based
	View   string // ViewCards or ViewTable
}

// The dashboard's two layouts.
const (
	ViewCards = "cards"
	ViewTable = "table"
)

// SortKeys are the columns the dashboard sorts by, in the order offered.
var SortKeys = []string{"name", "vmid", "node", "status", "cpu", "mem"}

// SortLabel names a sort key.
func SortLabel(key string) string {
	switch key {
	case "vmid":
		return "VMID"
	case "cpu":
		return "CPU"
	case "mem":
		return "Memory"
	case "":
		return "Node"
	}
	return string(key[0]-'a'+'A') + key[1:]
}

// URL is the dashboard link for q. Defaults stay out of it, so the plain
// filters keep their short URLs.
func (q ListQuery) URL() string {
	v := url.Values{}
	if q.Node != "" {
		v.Set("node", q.Node)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
		if q.Desc {
			v.Set("dir", "desc")
		}
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.View == ViewTable {
		v.Set("view", ViewTable)
	}
	if len(v) == 0 {
		return "/containers"
	}
	return "/containers?" + v.Encode()
}

// ParseListQuery reads a dashboard URL's query, the inverse of URL.
// Unknown sort keys and layouts are dropped; a missing layout is "", which
// the caller settles (the remembered one).
func ParseListQuery(v url.Values) ListQuery {
	q := ListQuery{Node: v.Get("node"), Status: v.Get("status"), Q: strings.TrimSpace(v.Get("q")), Desc: v.Get("dir") == "desc"}
	if s := v.Get("sort"); slices.Contains(SortKeys, s) {
		q.Sort = s
	} else {
		q.Desc = false
	}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	if view := v.Get("view"); view == ViewCards || view == ViewTable {
		q.View = view
	}
	return q
}

// filtered is q on another node or status, back on the first page.
func (q ListQuery) filtered(node, status string) ListQuery {
	q.Node, q.Status, q.Page = node, status, 1
	return q
}

// sortedBy is q sorted by key; the current key again flips the direction.
func (q ListQuery) sortedBy(key string) ListQuery {
	q.Desc = q.Sort == key && !q.Desc
	q.Sort, q.Page = key, 1
	return q
}

// onPage is q on page n.
func (q ListQuery) onPage(n int) ListQuery {
	q.Page = n
	return q
}

// viewURL switches the layout; the choice is remembered, so cards are named
// explicitly here.
func (q ListQuery) viewURL(view string) string {
	q.View = view
	u := q.URL()
	if view == ViewTable {
		return u
	}
	if u == "/containers" {
		return u + "?view=" + ViewCards
	}
	return u + "&view=" + ViewCards
}

// sortMark shows the direction of the current sort column.
func (q ListQuery) sortMark(key string) string {
	if q.Sort != key {
		return ""
	}
	if q.Desc {
		return " ↓"
	}
	return " ↑"
}

func (q ListQuery) ariaSort(key string) string {
	if q.Sort != key {
		return "none"
	}
	if q.Desc {
		return "descending"
	}
	return "ascending"
}

// Pager is the position of the shown slice.
type Pager struct {
	Page, Pages int
	First, Last int // 1-based positions of the shown containers
	Matched     int // containers matching filters and search
}
