package handlers

import (
	"context"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"corral/proxmox"
	"corral/store"
)

// nodeData is what the Configure step offers on one node, read from its
// Proxmox API each time the step is shown.
type nodeData struct {
	Node             store.Node
	Storages         []string // can hold container disks (rootdir)
	TemplateStorages []string // can hold OS templates (vztmpl)
	Bridges          []string
	Volumes          []proxmox.Volume    // downloaded OS templates
	Catalogue        []proxmox.Appliance // lxc appliances, sorted by name
	NextID           int
	Err              error // the node could not be read; lists are empty

	// Capacity, 0 when unknown (the token may lack Sys.Audit for the
	// node's status; the checks are then left to Proxmox).
	MemoryMiB int              // the host's memory
	Cores     int              // the host's logical CPUs
	FreeGiB   map[string]int64 // free space of each disk storage
}

func (nd *nodeData) loaded() bool { return nd != nil && nd.Err == nil }

func (nd *nodeData) hasVolume(volid string) bool {
	return slices.ContainsFunc(nd.Volumes, func(v proxmox.Volume) bool { return v.VolID == volid })
}

// loadNodeData reads storages, bridges, templates, the catalogue and the
// next free VMID of n in parallel. A failure is kept in Err for the page
// to explain; the wizard then shows free-text fields.
func (h *Handler) loadNodeData(ctx context.Context, n store.Node) *nodeData {
	api, err := h.Proxmox(n)
	if err != nil {
		return &nodeData{Node: n, Err: err}
	}
	return readNodeData(ctx, api, n, h.Logger)
}

// nodeDataAPI is what the wizard reads of a node's API.
type nodeDataAPI interface {
	Storages(ctx context.Context, node, content string) ([]proxmox.Storage, error)
	StorageContent(ctx context.Context, node, storage, content string) ([]proxmox.Volume, error)
	Bridges(ctx context.Context, node string) ([]proxmox.NetworkInterface, error)
	Aplinfo(ctx context.Context, node string) ([]proxmox.Appliance, error)
	NextID(ctx context.Context) (int, error)
	NodeStatus(ctx context.Context, node string) (*proxmox.NodeStatus, error)
}

func readNodeData(ctx context.Context, api nodeDataAPI, n store.Node, log *slog.Logger) *nodeData {
	nd := &nodeData{Node: n, FreeGiB: map[string]int64{}}
	pve := n.PVENodeName
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		sts, err := api.Storages(gctx, pve, "")
		if err != nil {
			return err
		}
		for _, st := range sts {
			if st.Holds("rootdir") {
				nd.Storages = append(nd.Storages, st.Storage)
				if st.Total > 0 {
					nd.FreeGiB[st.Storage] = int64(st.Avail) >> 30
				}
			}
			if st.Holds("vztmpl") {
				nd.TemplateStorages = append(nd.TemplateStorages, st.Storage)
			}
		}
		sort.Strings(nd.Storages)
		sort.Strings(nd.TemplateStorages)
		// Template contents need the storage list; read them in this goroutine.
		for _, sid := range nd.TemplateStorages {
			vols, err := api.StorageContent(gctx, pve, sid, "vztmpl")
			if err != nil {
				return err
			}
			nd.Volumes = append(nd.Volumes, vols...)
		}
		return nil
	})
	g.Go(func() error {
		brs, err := api.Bridges(gctx, pve)
		if err != nil {
			return err
		}
		for _, b := range brs {
			nd.Bridges = append(nd.Bridges, b.Iface)
		}
		sort.Strings(nd.Bridges)
		return nil
	})
	g.Go(func() error {
		apps, err := api.Aplinfo(gctx, pve)
		if err != nil {
			return err
		}
		for _, a := range apps {
			if a.Type == "" || a.Type == "lxc" {
				nd.Catalogue = append(nd.Catalogue, a)
			}
		}
		sort.Slice(nd.Catalogue, func(i, j int) bool { return nd.Catalogue[i].Template < nd.Catalogue[j].Template })
		return nil
	})
	g.Go(func() error {
		id, err := api.NextID(gctx)
		nd.NextID = id
		return err
	})
	g.Go(func() error {
		// Optional: without Sys.Audit the wizard still works, unchecked.
		st, err := api.NodeStatus(gctx, pve)
		if err != nil {
			log.Debug("wizard: node status", "node", n.Name, "err", err)
			return nil
		}
		nd.MemoryMiB = int(int64(st.Memory.Total) >> 20)
		nd.Cores = int(st.CPUInfo.CPUs)
		return nil
	})
	if err := g.Wait(); err != nil {
		log.Warn("wizard: read node", "node", n.Name, "err", err)
		return &nodeData{Node: n, Err: err}
	}
	sort.Slice(nd.Volumes, func(i, j int) bool { return nd.Volumes[i].VolID < nd.Volumes[j].VolID })
	return nd
}

// volumeLabel is a template's human name: the file name without the
// archive suffix.
func volumeLabel(volid string) string {
	file := volid
	if _, after, ok := strings.Cut(volid, ":"); ok {
		file = after
	}
	file = path.Base(file)
	for _, ext := range []string{".tar.zst", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar"} {
		if s, ok := strings.CutSuffix(file, ext); ok {
			return s
		}
	}
	return file
}

// matchOSTemplate maps a template's OS template (a short name such as
// debian-12-standard, or an exact volid) to a volid downloaded on the node,
// preferring the newest version. It returns "" when none is there.
func matchOSTemplate(want string, vols []proxmox.Volume) string {
	if want == "" {
		return ""
	}
	best := ""
	for _, v := range vols {
		if v.VolID == want {
			return v.VolID
		}
		if strings.HasPrefix(volumeLabel(v.VolID), want+"_") && v.VolID > best {
			best = v.VolID
		}
	}
	return best
}

// catalogueFor finds the catalogue entry a short name (or volid) asks for,
// the newest when several match.
func catalogueFor(want string, cat []proxmox.Appliance) string {
	if want == "" {
		return ""
	}
	if _, file, ok := strings.Cut(want, ":vztmpl/"); ok {
		want = file
	}
	best := ""
	for _, a := range cat {
		if a.Template == want {
			return a.Template
		}
		if (a.Package == want || strings.HasPrefix(a.Template, want+"_")) && a.Template > best {
			best = a.Template
		}
	}
	return best
}

// downloadStorage is where a catalogue template goes: "local" when it takes
// templates, else the first storage that does.
func (nd *nodeData) downloadStorage() string {
	if slices.Contains(nd.TemplateStorages, "local") {
		return "local"
	}
	if len(nd.TemplateStorages) > 0 {
		return nd.TemplateStorages[0]
	}
	return ""
}

// settle fills or corrects the node-dependent fields when the Configure
// step first shows a node: empty (or, after a node change, invalid)
// storage, bridge and OS template get the template's wish or the first
// valid choice, and an empty VMID the next free one.
func (s *wizardState) settle(nd *nodeData, t *store.Template, nodeChanged bool) {
	if !nd.loaded() {
		return
	}
	want := ""
	if t != nil {
		want = t.OSTemplate
	}
	if s.OSTemplate == "" || (nodeChanged && !nd.hasVolume(s.OSTemplate)) {
		s.OSTemplate = matchOSTemplate(want, nd.Volumes)
		if s.OSTemplate == "" && want == "" && len(nd.Volumes) > 0 {
			s.OSTemplate = nd.Volumes[0].VolID
		}
	}
	pick := func(cur *string, wish string, list []string) {
		if *cur != "" && !(nodeChanged && !slices.Contains(list, *cur)) {
			return
		}
		switch {
		case slices.Contains(list, wish):
			*cur = wish
		case len(list) > 0:
			*cur = list[0]
		default:
			*cur = ""
		}
	}
	var wishStorage, wishBridge string
	if t != nil {
		wishStorage, wishBridge = t.Storage, t.Bridge
	}
	if wishStorage == "" && slices.Contains(nd.Storages, "local-lvm") {
		wishStorage = "local-lvm"
	}
	if wishBridge == "" {
		wishBridge = "vmbr0"
	}
	pick(&s.Storage, wishStorage, nd.Storages)
	pick(&s.Bridge, wishBridge, nd.Bridges)
	if s.VMID == "" && nd.NextID > 0 {
		s.VMID = strconv.Itoa(nd.NextID)
	}
}
