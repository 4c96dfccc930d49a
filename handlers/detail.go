package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

// detailDeadline bounds the live reads of the detail page.
const detailDeadline = 6 * time.Second

// liveDetail is what Proxmox said about one container.
type liveDetail struct {
	status    *proxmox.ContainerStatus
	statusErr error
	config    proxmox.LXCConfig
	rrd       []proxmox.RRDPoint
	ip        string
}

func (h *Handler) containerDetail(c echo.Context) error {
	u, n, vmid, err := h.containerTarget(c)
	if err != nil {
		return err
	}
	v, err := h.detailView(c, u, n, vmid, c.QueryParam("tab"))
	if err != nil {
		return err
	}
	p := h.page(c, v.Header.Name, "containers")
	if v.Tab == "console" {
		p.Extra = consoleFiles
	}
	return h.render(c, http.StatusOK, p, views.DetailPage(v))
}

// detailView reads what Proxmox and Corral know of one container, for the
// page and for the answer to an action taken on it.
func (h *Handler) detailView(c echo.Context, u store.User, n store.Node, vmid int, tab string) (views.DetailView, error) {
	ctx := c.Request().Context()
	rec, hasRec, err := h.corralRecord(ctx, u.ID, n.ID, vmid)
	if err != nil {
		return views.DetailView{}, err
	}
	live := h.readLive(ctx, n, vmid)
	gone := errors.Is(live.statusErr, proxmox.ErrNotFound)
	if gone && !hasRec {
		return views.DetailView{}, &userError{status: http.StatusNotFound, msg: fmt.Sprintf("There is no CT %d on %s.", vmid, n.Name)}
	}

	v := views.DetailView{Tab: tab}
	if v.Tab != "services" && v.Tab != "events" && v.Tab != "console" && !dayTwoTabs[v.Tab] {
		v.Tab = "overview"
	}
	v.Header = views.DetailHeader{CSRF: csrfToken(c), NodeID: n.ID, NodeName: n.Name, VMID: vmid, Tab: v.Tab,
		Name: containerName("", live.config.Hostname(), rec.Hostname, vmid), JobURL: jobURL(rec)}
	switch {
	case gone:
		v.Header.Status = mergedStatus(rec.Lifecycle, true, "")
		v.Problem = fmt.Sprintf("CT %d no longer exists on %s: it was deleted or moved outside Corral. Below is what Corral last knew; Delete removes Corral's record.", vmid, n.Name)
	case live.statusErr != nil:
		v.Header.Status, v.Header.Stale = "unknown", true
		v.Problem = fmt.Sprintf("Node %s did not answer (%s). Below is what Corral last knew; actions may fail until it is back.", n.Name, proxmox.Describe(live.statusErr))
	default:
		v.Header.Status = mergedStatus(rec.Lifecycle, hasRec, live.status.Status)
		v.Header.Live = live.status.Status
		v.Header.Name = containerName(live.status.Name, live.config.Hostname(), rec.Hostname, vmid)
	}

	running := live.status != nil && live.status.Status == "running"
	svcs, ip, known := h.lastServices(ctx, u.ID, n.ID, vmid)
	// A stopped container has only its static address; the one discovery
	// saw may have been leased to another machine since.
	v.IP = live.ip
	if running {
		v.IP = cmp.Or(live.ip, ip)
	}
	v.Services = h.servicesView(c, n, vmid, running, svcs, cmp.Or(live.ip, ip), known)
	if known {
		if evs, err := h.Events.ContainerEvents(ctx, u.ID, n.ID, vmid, []string{store.EventServices}, 1); err == nil && len(evs) > 0 {
			v.Services.Discovered = agoText(h.Now(), evs[0].Time)
		}
	}
	switch v.Tab {
	case "events":
		if v.Events, err = h.eventsView(ctx, u, n, vmid, c.QueryParam("type")); err != nil {
			return v, err
		}
	case "overview":
		fillOverview(&v, n, rec, hasRec, live, h.templateLink(ctx, u.ID, rec))
	case "console":
		v.Console = h.consoleView(c, u, n, vmid, v.Header.Live)
	default:
		h.fillDayTwoTab(c, &v, n, vmid, running, live.config)
	}
	return v, nil
}

// containerName is what a container is called everywhere: its name in
// Proxmox, else its configured hostname, else the hostname Corral gave it.
func containerName(proxmoxName, configHostname, corralHostname string, vmid int) string {
	return cmp.Or(proxmoxName, configHostname, corralHostname, "CT "+strconv.Itoa(vmid))
}

// detailAPI is what the detail page reads of a node's API.
type detailAPI interface {
	LXCStatus(ctx context.Context, node string, vmid int) (*proxmox.ContainerStatus, error)
	LXCConfig(ctx context.Context, node string, vmid int) (proxmox.LXCConfig, error)
	LXCRRDData(ctx context.Context, node string, vmid int, timeframe string) ([]proxmox.RRDPoint, error)
	LXCInterfaces(ctx context.Context, node string, vmid int) ([]proxmox.Interface, error)
}

// readLive reads what Proxmox says of CT vmid on n.
func (h *Handler) readLive(ctx context.Context, n store.Node, vmid int) liveDetail {
	api, err := h.Proxmox(n)
	if err != nil {
		return liveDetail{statusErr: err}
	}
	return readLive(ctx, api, clusters.PVEName(n), vmid)
}

// readLive reads status, configuration and the last hour of samples in
// parallel, then the runtime address when the config has no static one.
func readLive(ctx context.Context, api detailAPI, node string, vmid int) liveDetail {
	var live liveDetail
	ctx, cancel := context.WithTimeout(ctx, detailDeadline)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { live.status, live.statusErr = api.LXCStatus(ctx, node, vmid) })
	wg.Go(func() {
		if cfg, err := api.LXCConfig(ctx, node, vmid); err == nil {
			live.config = cfg
		}
	})
	wg.Go(func() {
		if rrd, err := api.LXCRRDData(ctx, node, vmid, "hour"); err == nil {
			live.rrd = rrd
		}
	})
	wg.Wait()
	if live.statusErr != nil {
		return live
	}
	if nc, ok := live.config.Net(0); ok {
		live.ip = nc.StaticIPv4()
	}
	if live.ip == "" && live.status.Status == "running" {
		if ifs, err := api.LXCInterfaces(ctx, node, vmid); err == nil {
			live.ip = proxmox.PrimaryIPv4(ifs)
		}
	}
	return live
}

// templateLink is where the container's template can be seen, or "" when
// it has none or the viewer can no longer see it (deleted, or unshared).
func (h *Handler) templateLink(ctx context.Context, userID string, rec store.Container) string {
	if rec.TemplateID == "" || h.Templates == nil {
		return ""
	}
	if _, err := h.Templates.Template(ctx, userID, rec.TemplateID); err != nil {
		return ""
	}
	return "/templates/" + url.PathEscape(rec.TemplateID)
}

// fillOverview turns configuration and live data into facts, bars and
// charts; templateURL links the template's name ("" for no link).
func fillOverview(v *views.DetailView, n store.Node, rec store.Container, hasRec bool, live liveDetail, templateURL string) {
	cfg := live.config
	if len(cfg) > 0 {
		mib := func(x int) string { return strconv.Itoa(x) + " MiB" }
		cores := "all host cores"
		if cfg.Cores() > 0 {
			cores = views.Plural(cfg.Cores(), "core", "cores")
		}
		v.Config = []views.Fact{
			{Label: "Hostname", Value: cfg.Hostname()},
			{Label: "OS", Value: cmp.Or(cfg["ostype"], "—")},
			{Label: "Architecture", Value: cmp.Or(cfg["arch"], "amd64")},
			{Label: "Cores", Value: cores},
			{Label: "Memory", Value: mib(cfg.Memory())},
			{Label: "Swap", Value: mib(cfg.Swap())},
			{Label: "Root disk", Value: cmp.Or(cfg["rootfs"], "—")},
		}
		for _, i := range cfg.NetIndexes() {
			nc, _ := cfg.Net(i)
			v.Config = append(v.Config, views.Fact{Label: "net" + strconv.Itoa(i),
				Value: fmt.Sprintf("bridge %s · IP %s · gateway %s · MAC %s", ctDash(nc.Bridge), ctDash(nc.IP), ctDash(nc.GW), ctDash(nc.HWAddr))})
		}
		if len(cfg.NetIndexes()) == 0 {
			v.Config = append(v.Config, views.Fact{Label: "Network", Value: "No network configured"})
		}
		v.Features = append(v.Features, map[bool]string{true: "Unprivileged", false: "Privileged"}[cfg.Unprivileged()])
		f := cfg.Features()
		for _, x := range []struct {
			on   bool
			name string
		}{{f.Nesting, "Nesting"}, {f.Keyctl, "Keyctl"}, {f.Fuse, "FUSE"}, {cfg.OnBoot(), "Start on boot"}} {
			if x.on {
				v.Features = append(v.Features, x.name)
			}
		}
		v.Tags = cfg.Tags()
	}
	facts := []views.Fact{{Label: "Node", Value: n.Name}, {Label: "Template", Value: "—"}}
	if hasRec {
		facts[1].Value = cmp.Or(rec.TemplateName, "—")
		if rec.TemplateName != "" {
			facts[1].URL = templateURL
		}
		facts = append(facts, views.Fact{Label: "Created", Value: rec.Created.Local().Format("2006-01-02 15:04")})
	}
	if len(v.Config) > 0 {
		v.Config = append(v.Config, facts...)
	}

	v.Uptime = "—"
	if st := live.status; st != nil && st.Status == "running" {
		v.Uptime = uptimeText(int64(st.Uptime))
		v.Usage = []views.UsageBar{
			{Label: "CPU", Percent: clampPct(float64(st.CPU) * 100), Text: fmt.Sprintf("%.0f%% of %s", float64(st.CPU)*100, cpusText(float64(st.CPUs)))},
			usageBar("Memory", int64(st.Mem), int64(st.MaxMem)),
			usageBar("Disk", int64(st.Disk), int64(st.MaxDisk)),
		}
	}
	// A sample without maxima is a gap (the interval still open, or the
	// node was down): leave it out rather than draw it as zero.
	var samples []proxmox.RRDPoint
	for _, p := range live.rrd {
		if p.MaxCPU > 0 || p.MaxMem > 0 {
			samples = append(samples, p)
		}
	}
	v.Charts = usageCharts(samples)
}

// usageCharts draws the last hour of CPU and memory. The labels say what
// the line shows: its peak, not the top of the scale, so a flat zero line
// reads "peak 0%", and memory's peak is set against its limit.
func usageCharts(samples []proxmox.RRDPoint) []views.Chart {
	if len(samples) == 0 {
		return nil
	}
	cpu := views.Chart{Title: "CPU"}
	mem := views.Chart{Title: "Memory"}
	var cpuPeak, memPeak, memLimit float64
	for _, p := range samples {
		cpu.Values = append(cpu.Values, float64(p.CPU)*100)
		cpuPeak = max(cpuPeak, float64(p.CPU)*100)
		mem.Values = append(mem.Values, float64(p.Mem))
		memPeak = max(memPeak, float64(p.Mem))
		memLimit = max(memLimit, float64(p.MaxMem))
	}
	// A near-idle container still gets a readable line: the scale starts
	// at 5%, and leaves a little room above the peak.
	cpu.Max = min(max(cpuPeak*1.2, 5), 100)
	mem.Max = max(memLimit, memPeak)
	last := samples[len(samples)-1]
	cpu.Latest = fmt.Sprintf("now %.1f%%", float64(last.CPU)*100)
	cpu.Peak = fmt.Sprintf("peak %.1f%%", cpuPeak)
	mem.Latest = "now " + bytesText(int64(last.Mem))
	mem.Peak = "peak " + bytesText(int64(memPeak))
	if memLimit > 0 {
		mem.Peak += " of " + bytesText(int64(memLimit))
	}
	return []views.Chart{cpu, mem}
}

// cpusText is "1 core", "2 cores", "1.5 cores" (a CPU limit).
func cpusText(n float64) string {
	if n == float64(int(n)) {
		return views.Plural(int(n), "core", "cores")
	}
	return strconv.FormatFloat(n, 'g', 3, 64) + " cores"
}

func usageBar(label string, used, total int64) views.UsageBar {
	b := views.UsageBar{Label: label, Text: bytesText(used) + " of " + bytesText(total)}
	if total > 0 {
		b.Percent = clampPct(float64(used) / float64(total) * 100)
	}
	return b
}

func clampPct(p float64) int { return int(min(max(p, 0), 100) + 0.5) }

func ctDash(s string) string { return cmp.Or(s, "—") }

// uptimeText formats seconds as "3d 4h 5m", "< 1m" under a minute.
func uptimeText(s int64) string {
	if s <= 0 {
		return "—"
	}
	if s < 60 {
		return "< 1m"
	}
	d, h, m := s/86400, s%86400/3600, s%3600/60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %dh %dm", d, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// agoText says how long ago t was, coarsely.
func agoText(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
	return t.Local().Format("2006-01-02")
}

// eventsView is the timeline, newest first, with a count per type.
func (h *Handler) eventsView(ctx context.Context, u store.User, n store.Node, vmid int, filter string) (views.EventsView, error) {
	v := views.EventsView{NodeID: n.ID, VMID: vmid, Filter: filter}
	if h.Events == nil {
		return v, nil
	}
	all, err := h.Events.ContainerEvents(ctx, u.ID, n.ID, vmid, nil, 500)
	if err != nil {
		return v, err
	}
	counts := map[string]int{}
	for _, e := range all {
		counts[e.Type]++
	}
	for t, k := range counts {
		v.Types = append(v.Types, views.TypeCount{Type: t, Count: k, Selected: t == filter})
	}
	slices.SortFunc(v.Types, func(a, b views.TypeCount) int { return cmp.Compare(a.Type, b.Type) })
	now := h.Now()
	for _, e := range all {
		if filter != "" && e.Type != filter {
			continue
		}
		it := views.EventItem{Type: e.Type, Message: e.Message, Time: e.Time.Format(time.RFC3339), Ago: agoText(now, e.Time)}
		for k, val := range e.Data {
			label, shown := views.EventDataLabel(k)
			if !shown {
				continue
			}
			if k == store.ServicesDataKey {
				if svcs, err := store.DecodeServices(val); err == nil {
					val = views.Plural(len(svcs), "service", "services")
				}
			}
			it.Data = append(it.Data, views.Fact{Label: label, Value: val})
		}
		slices.SortFunc(it.Data, func(a, b views.Fact) int { return cmp.Compare(a.Label, b.Label) })
		if e.Type == store.EventServices && it.Message == "" {
			it.Message = "Services discovered"
		}
		v.Items = append(v.Items, it)
	}
	return v, nil
}
