package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"corral/exec/provision"
	"corral/store"
	"corral/views"
)

var wizardStepLabels = map[string]string{
	stepTemplate: "Template", stepConfigure: "Configure", stepPackages: "Packages",
	stepScripts: "Scripts", stepReview: "Review",
}

// wizardRender shows step of the wizard with errs next to their fields.
// The Review step builds the plan; if it does not hold, the first step with
// a problem is shown instead.
func (h *Handler) wizardRender(c echo.Context, status int, r *wizardReq, step string, errs map[string]string, notice string) error {
	ctx := c.Request().Context()
	w := views.Wizard{CSRF: csrfToken(c), Errors: errs, Notice: notice, Template: r.s.Template}
	switch step {
	case stepTemplate:
		u, _ := currentUser(c)
		list, err := h.Templates.Templates(ctx, u.ID, store.TemplateFilter{})
		if err != nil {
			return err
		}
		for _, t := range list {
			w.Templates = append(w.Templates, views.WizardTemplateCard{
				ID: t.ID, Name: t.Name, Origin: templateOrigin(t, u.ID), Description: t.Description, Tags: t.Tags, OSTemplate: t.OSTemplate,
				Scripts: len(t.Scripts), Packages: len(t.Packages), Files: len(t.Files),
			})
		}
	case stepConfigure:
		if h.VMIDs != nil {
			h.VMIDs.RefreshIfStale(ctx, r.node)
		}
		dl, dlNotice := h.wizardDownloadProgress(ctx, r)
		nd := r.nodeData(ctx, h)
		if r.s.SettledNode != r.node.ID && nd.loaded() {
			// First visit on this node: fill what is empty (and, after a
			// node change, what the new node does not have).
			r.s.settle(nd, r.tmpl, r.changed)
			r.s.SettledNode = r.node.ID
		}
		if dlNotice != "" {
			w.Notice = strings.TrimSpace(w.Notice + " " + dlNotice)
		}
		w.Config = configView(r, nd, dl, errs)
	case stepPackages:
		w.PackageGroups, w.ExtraApt = packagesView(r.s, r.tmpl), r.s.ExtraApt
	case stepScripts:
		w.Scripts = scriptsView(r.s, r.tmpl)
	case stepReview:
		plan, perrs := h.buildPlan(ctx, r.userID, r.s, r.tmpl, r.nodeData(ctx, h))
		if len(perrs) > 0 {
			return h.wizardRender(c, formStatus(c), r, earliestErrorStep(perrs), perrs, notice)
		}
		w.Review = reviewView(plan, r.node)
		if r.tmpl != nil {
			w.Review.Description = r.tmpl.Description
		}
		if unregistered(r.node) {
			w.AddMember = &views.AddMember{CSRF: w.CSRF, ViaID: viaOf(r.node), Member: r.node.Name,
				Return: "/containers/new?" + url.Values{"node": {r.node.ID}, "template": {r.s.Template}}.Encode()}
		}
	}
	w.Step = step
	i := stepIndex(step)
	for j, st := range wizardSteps {
		state := "todo"
		switch {
		case j < i:
			state = "done"
		case j == i:
			state = "current"
		}
		w.Tabs = append(w.Tabs, views.WizardTab{Label: wizardStepLabels[st], State: state})
	}
	if i > 0 {
		w.Back = wizardSteps[i-1]
	}
	if i < len(wizardSteps)-1 {
		w.Next = wizardSteps[i+1]
	}
	w.Hidden = hiddenFields(r.s, step)
	page := h.page(c, "Create a container", "containers")
	if isHTMX(c) {
		return h.render(c, status, page, views.WizardBody(w))
	}
	return h.render(c, status, page, views.WizardPage(w))
}

// hiddenFields carries every value the step does not show, in a stable order.
func hiddenFields(s wizardState, step string) []views.WizardHidden {
	v := s.values()
	keys := make([]string, 0, len(v))
	for k := range v {
		if !slices.Contains(stepFields[step], k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []views.WizardHidden
	for _, k := range keys {
		for _, val := range v[k] {
			out = append(out, views.WizardHidden{Name: k, Value: val})
		}
	}
	return out
}

func configView(r *wizardReq, nd *nodeData, dl *views.WizardDownload, errs map[string]string) views.WizardConfig {
	s := r.s
	c := views.WizardConfig{
		NodeID: r.node.ID, NodeName: r.node.Name, NextID: nd.NextID, Download: dl,
		OSTemplate: s.OSTemplate, Hostname: s.Hostname,
		Cores: s.Cores, Memory: s.Memory, Swap: s.Swap, Disk: s.Disk, Storage: s.Storage, Bridge: s.Bridge,
		Net: s.Net, IP: s.IP, Gateway: s.Gateway, Nameserver: s.Nameserver, SSHKey: s.SSHKey, Tags: s.Tags,
		Unprivileged: s.Unprivileged, Nesting: s.Nesting, Keyctl: s.Keyctl, Fuse: s.Fuse, CleanSnapshot: s.CleanSnapshot,
		VMID: views.VMIDInputModel{Value: s.VMID},
	}
	if msg := errs["vmid"]; msg != "" {
		state := views.VMIDInvalid
		if strings.Contains(msg, "already used") {
			state = views.VMIDTaken
		}
		c.VMID.Status = &views.VMIDStatusModel{State: state, Message: msg}
	}
	for _, n := range r.nodes {
		label := n.Name
		if n.ClusterName != "" {
			label += " (cluster " + n.ClusterName + ")"
		}
		if n.IsDefault {
			label += " · default"
		}
		c.Nodes = append(c.Nodes, views.WizardOption{Value: n.ID, Label: label})
	}
	for _, m := range r.members {
		c.Nodes = append(c.Nodes, views.WizardOption{Value: m.ID, Label: m.Name + " (cluster " + m.ClusterName + ") · not added yet"})
	}
	if unregistered(r.node) && !slices.ContainsFunc(r.members, func(m store.Node) bool { return m.ID == r.node.ID }) {
		c.Nodes = append(c.Nodes, views.WizardOption{Value: r.node.ID, Label: r.node.Name + " · not added yet"})
	}
	if nd.Err != nil {
		c.NodeError = errorText(nd.Err)
	}
	capacityHints(&c, nd)
	for _, v := range nd.Volumes {
		storage, _, _ := strings.Cut(v.VolID, ":")
		c.OSTemplates = append(c.OSTemplates, views.WizardOption{Value: v.VolID, Label: volumeLabel(v.VolID) + " (" + storage + ")"})
	}
	if r.tmpl != nil && r.tmpl.OSTemplate != "" {
		c.OSWanted = r.tmpl.OSTemplate
		c.OSMissing = nd.loaded() && matchOSTemplate(c.OSWanted, nd.Volumes) == ""
	}
	have := map[string]bool{}
	for _, v := range nd.Volumes {
		have[volumeLabel(v.VolID)] = true
	}
	for _, a := range nd.Catalogue {
		if have[volumeLabel(a.Template)] {
			continue
		}
		label := a.Template
		if a.Headline != "" {
			label = a.Headline + " — " + a.Template
		}
		c.Catalogue = append(c.Catalogue, views.WizardOption{Value: a.Template, Label: label})
	}
	c.CatalogPick = catalogueFor(c.OSWanted, nd.Catalogue)
	for _, st := range nd.Storages {
		c.Storages = append(c.Storages, views.WizardOption{Value: st, Label: st})
	}
	for _, b := range nd.Bridges {
		c.Bridges = append(c.Bridges, views.WizardOption{Value: b, Label: b})
	}
	return c
}

// capacityHints states the limits of the resource fields, the node's own
// where it told them, so a size it cannot hold is seen before Next.
func capacityHints(c *views.WizardConfig, nd *nodeData) {
	c.CoresHint = fmt.Sprintf("%d to %d", store.MinCores, store.MaxCores)
	c.MemoryHint = fmt.Sprintf("%d to %s", store.MinMemory, thousands(store.MaxMemory))
	c.DiskHint = fmt.Sprintf("%d to %s", store.MinDisk, thousands(store.MaxDisk))
	var has []string
	if nd.Cores > 0 {
		c.CoresHint = fmt.Sprintf("1 to %d (%s has %d)", nd.Cores, nd.Node.Name, nd.Cores)
		has = append(has, pluralize(nd.Cores, "CPU core"))
	}
	if nd.MemoryMiB > 0 {
		c.MemoryHint = fmt.Sprintf("%d to %s (%s has %s)", store.MinMemory, thousands(nd.MemoryMiB), nd.Node.Name, mibSize(nd.MemoryMiB))
		has = append(has, mibSize(nd.MemoryMiB)+" memory")
	}
	if len(nd.FreeGiB) > 0 {
		var free []string
		for _, st := range nd.Storages {
			if gib, ok := nd.FreeGiB[st]; ok {
				free = append(free, fmt.Sprintf("%s %s GiB", st, thousands(int(gib))))
			}
		}
		c.DiskHint = "Free: " + strings.Join(free, ", ")
	}
	if len(has) > 0 {
		c.Capacity = nd.Node.Name + " has " + strings.Join(has, " and ") + "."
	}
}

func packagesView(s wizardState, t *store.Template) []views.WizardPackageGroup {
	if t == nil {
		return nil
	}
	var out []views.WizardPackageGroup
	for _, m := range store.PackageManagers {
		pkgs := t.PackagesBy(m)
		if len(pkgs) == 0 {
			continue
		}
		g := views.WizardPackageGroup{Manager: string(m), Label: string(m) + " packages", On: slices.Contains(s.PkgGroups, string(m))}
		for _, p := range pkgs {
			g.Packages = append(g.Packages, views.WizardPackage{
				Key: packageKey(p), Name: p.Name, Detail: p.Install, On: slices.Contains(s.Pkgs, packageKey(p)),
			})
		}
		out = append(out, g)
	}
	return out
}

func scriptsView(s wizardState, t *store.Template) []views.WizardScript {
	var out []views.WizardScript
	for _, sc := range s.orderedScripts(t) {
		out = append(out, views.WizardScript{
			Name: sc.Name, On: slices.Contains(s.ScriptsOn, sc.Name), Content: sc.Content,
			Lines: strings.Count(strings.TrimRight(sc.Content, "\n"), "\n") + 1,
		})
	}
	return out
}

// reviewView shows a plan: everything in it, the create request and the steps.
func reviewView(p store.Plan, n store.Node) *views.WizardReview {
	c := p.Create
	r := &views.WizardReview{
		Digest: planDigest(p), Template: templateLabel(p.TemplateName), Node: n.Name, PVENode: p.PVENode,
		OSTemplate: c.OSTemplate, Hostname: p.Hostname, VMID: strconv.Itoa(p.VMID), Tags: c.Tags,
		Params: reviewParams(p), RootCommand: provision.FeaturesCommand(p), Steps: provision.StepLabels(p),
	}
	r.Resources = []views.WizardFact{
		{Label: "CPU cores", Value: strconv.Itoa(c.Cores)},
		{Label: "Memory", Value: fmt.Sprintf("%d MiB", c.MemoryMB)},
		{Label: "Swap", Value: fmt.Sprintf("%d MiB", c.SwapMB)},
		{Label: "Disk", Value: fmt.Sprintf("%d GiB on %s", c.DiskGB, c.Storage)},
	}
	ip := "DHCP"
	if c.IPv4 != "dhcp" {
		ip = c.IPv4 + " via " + c.Gateway
	}
	ns := c.Nameserver
	if ns == "" {
		ns = "the Proxmox host's"
	}
	r.Network = []views.WizardFact{{Label: "Bridge", Value: c.Bridge}, {Label: "IPv4", Value: ip}, {Label: "Nameserver", Value: ns}}
	keys := "None"
	if c.SSHPublicKeys != "" {
		keys = fmt.Sprintf("%d key(s) for root", strings.Count(c.SSHPublicKeys, "\n")+1)
	}
	r.Access = []views.WizardFact{{Label: "Root password", Value: "None (random, discarded)"}, {Label: "SSH keys", Value: keys}}
	if c.Unprivileged {
		r.Features = append(r.Features, "unprivileged")
	} else {
		r.Features = append(r.Features, "privileged")
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{c.Nesting, "nesting"}, {c.Keyctl, "keyctl"}, {c.Fuse, "fuse"}} {
		if f.on {
			r.Features = append(r.Features, f.name)
		}
	}
	for _, m := range store.PackageManagers {
		g := views.WizardReviewGroup{Manager: string(m)}
		for _, pk := range p.PackagesBy(m) {
			g.Names = append(g.Names, pk.Name)
		}
		if len(g.Names) > 0 {
			r.Packages = append(r.Packages, g)
		}
	}
	for _, f := range p.Files {
		mode := f.Mode
		if mode == "" {
			mode = "0644"
		}
		r.Files = append(r.Files, views.WizardReviewFile{Path: strings.TrimRight(f.TargetDir, "/") + "/" + f.Name, Policy: string(f.Policy), Mode: mode, Owner: f.Owner})
	}
	for _, sc := range p.Scripts {
		r.Scripts = append(r.Scripts, sc.Name)
	}
	return r
}

// errorText is an error in words a user can act on.
func errorText(err error) string {
	status, msg := classify(err)
	if status == http.StatusInternalServerError {
		return "Corral could not reach it (details in the log)."
	}
	return msg
}
