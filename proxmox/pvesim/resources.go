package pvesim

import (
	"slices"
	"strconv"
	"time"
)

// The guest rows of /cluster/resources are the simulator's hottest answer:
// every dashboard refresh of every user asks it of every cluster, and a
// scale estate has thousands of guests. They are built in one pass under
// the estate lock into two slices (rows and their statistics), with the
// clock read once, no per-guest lock and no per-guest allocation, and
// encoded as typed structs rather than maps.

// guestResource is a guest row (pve-manager's API2Tools::extract_vm_stats).
// Without statistics (stats nil) it is the bare row PVE sends for a guest
// pvestatd has no figures for: id, vmid, node, type, status "unknown", plus
// lock and tags, which come from the configuration.
type guestResource struct {
	ID     string    `json:"id"`
	VMID   int       `json:"vmid"`
	Node   string    `json:"node"`
	Type   GuestType `json:"type"`
	Status string    `json:"status"`
	Lock   string    `json:"lock,omitempty"`
	Tags   string    `json:"tags,omitempty"`
	*guestStats
}

// guestStats are the figures pvestatd broadcasts for a guest.
type guestStats struct {
	Name      string  `json:"name"`
	Uptime    int64   `json:"uptime"`
	Template  int     `json:"template"`
	MaxCPU    int     `json:"maxcpu"`
	CPU       float64 `json:"cpu"`
	MaxMem    int64   `json:"maxmem"`
	Mem       int64   `json:"mem"`
	MemHost   *int64  `json:"memhost,omitempty"` // QEMU only (9.x); points at Mem
	MaxDisk   int64   `json:"maxdisk"`
	Disk      int64   `json:"disk"`
	NetIn     int64   `json:"netin"`
	NetOut    int64   `json:"netout"`
	DiskRead  int64   `json:"diskread"`
	DiskWrite int64   `json:"diskwrite"`
}

// guestResources returns the estate's guest rows the token may see
// (VM.Audit on /vms/<vmid>), in PVE's order: the string order of the vmid.
// Guests of a node that is down have no fresh figures: PVE's RRD cache
// drops them (pmxcfs expires entries after five minutes), so their rows
// are bare with status "unknown".
func guestResources(rq *request) []any {
	e := rq.n.estate
	now := rq.n.sim.now()
	nodes := e.members()
	up := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		up[n.name] = !n.IsDown()
	}
	auditAll := rq.tok.can("/vms", "VM.Audit")

	e.mu.Lock()
	defer e.mu.Unlock()
	order := make([]vmidKey, 0, len(e.guests))
	for id, g := range e.guests {
		if auditAll || rq.tok.can("/vms/"+strconv.Itoa(id), "VM.Audit") {
			order = append(order, vmidKey{key: stringOrderKey(id), g: g})
		}
	}
	slices.SortFunc(order, func(a, b vmidKey) int { return a.key.cmp(b.key) })

	rows := make([]guestResource, len(order))
	stats := make([]guestStats, len(order))
	out := make([]any, len(order))
	for i, o := range order {
		g := o.g
		row := &rows[i]
		*row = guestResource{ID: g.resID, VMID: g.vmid, Node: g.node, Type: g.typ, Status: "unknown", Lock: g.lock(), Tags: g.tags()}
		out[i] = row
		if !g.statsSeen || !up[g.node] {
			continue
		}
		st := &stats[i]
		rq.n.sim.fillStats(st, g, now)
		row.Status, row.guestStats = g.status, st
	}
	return out
}

// fillStats sets a guest's figures as of now.
func (s *Sim) fillStats(st *guestStats, g *guest, now time.Time) {
	u := s.usageAt(g, now)
	*st = guestStats{
		Name: g.displayName(), Uptime: u.uptime, Template: b2i(g.isTemplate()),
		MaxCPU: g.cpus(), CPU: u.cpu, MaxMem: g.maxmem(), Mem: u.mem, MaxDisk: u.maxdisk, Disk: u.disk,
		NetIn: u.netin, NetOut: u.netout, DiskRead: u.dread, DiskWrite: u.dwrite,
	}
	if g.typ == QEMU {
		st.MemHost = &st.Mem
	}
}

// vmidKey sorts a guest by the string form of its vmid.
type vmidKey struct {
	key decimalKey
	g   *guest
}

// decimalKey orders non-negative integers as their decimal strings would
// sort ("10" < "100" < "11" < "9") without making the strings: the number
// scaled to 19 digits, then the shorter (the prefix) first.
type decimalKey struct {
	scaled uint64
	digits int
}

func stringOrderKey(n int) decimalKey {
	v, digits := uint64(n), 1
	for x := v; x >= 10; x /= 10 {
		digits++
	}
	for range 19 - digits {
		v *= 10
	}
	return decimalKey{scaled: v, digits: digits}
}

func (a decimalKey) cmp(b decimalKey) int {
	switch {
	case a.scaled != b.scaled:
		if a.scaled < b.scaled {
			return -1
		}
		return 1
	case a.digits != b.digits:
		return a.digits - b.digits
	}
	return 0
}
