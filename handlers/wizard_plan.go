package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"corral/exec/provision"
	"corral/proxmox"
	"corral/store"
	"corral/views"
)

// buildPlan checks the whole wizard and returns the Plan it describes, or
// messages keyed by field. The VMID is asked of the VMID cache here, and
// Proxmox refuses a taken one again at create time.
func (h *Handler) buildPlan(ctx context.Context, userID string, s wizardState, t *store.Template, nd *nodeData) (store.Plan, map[string]string) {
	errs := map[string]string{}
	if s.Template == "" {
		errs["template"] = "Choose a template, or start from scratch."
	}
	spec, vmid, cerrs := validateConfig(s, nd)
	for k, v := range cerrs {
		errs[k] = v
	}
	if _, bad := errs["vmid"]; !bad && vmid > 0 {
		if msg := h.vmidTaken(ctx, nd.Node, vmid); msg != "" {
			errs["vmid"] = msg
		}
	}
	pkgs, msg := s.packages(t)
	if msg != "" {
		errs["extra_apt"] = msg
	}
	p := store.Plan{
		UserID: userID, NodeID: nd.Node.ID, PVENode: nd.Node.PVENodeName,
		VMID: vmid, Hostname: s.Hostname, Create: spec, Packages: pkgs,
		CleanSnapshot: s.CleanSnapshot,
	}
	if t != nil {
		p.TemplateID, p.TemplateName = t.ID, t.Name
		p.Files = slices.Clone(t.Files)
		for _, sc := range s.orderedScripts(t) {
			if slices.Contains(s.ScriptsOn, sc.Name) {
				sc.Enabled = true
				p.Scripts = append(p.Scripts, sc)
			}
		}
	}
	if len(errs) > 0 {
		return store.Plan{}, errs
	}
	return p, nil
}

// vmidTaken asks the VMID cache about vmid and explains a conflict, or
// returns "" (also when the cluster cannot be read: Proxmox decides then).
func (h *Handler) vmidTaken(ctx context.Context, n store.Node, vmid int) string {
	if h.VMIDs == nil {
		return ""
	}
	chk, err := h.VMIDs.Check(ctx, n, vmid)
	if err != nil || !chk.Known || chk.Free {
		return ""
	}
	who := chk.Holder.Label()
	if chk.Holder.Name != "" {
		who += " " + chk.Holder.Name
	}
	if chk.Holder.Node != "" {
		who += " on " + chk.Holder.Node
	}
	return fmt.Sprintf("VMID %d is already used by %s. Choose another.", vmid, who)
}

// packages lists the packages to install: the template's packages whose
// group and own switch are on, then the extra apt packages, grouped by
// manager in install order without duplicates.
func (s wizardState) packages(t *store.Template) ([]store.Package, string) {
	var chosen []store.Package
	if t != nil {
		for _, p := range t.Packages {
			if slices.Contains(s.PkgGroups, string(p.Manager)) && slices.Contains(s.Pkgs, packageKey(p)) {
				chosen = append(chosen, p)
			}
		}
	}
	extra, problems := store.ParsePackageList(store.ManagerApt, s.ExtraApt)
	chosen = store.MergePackages(chosen, extra...)
	var out []store.Package
	for _, m := range store.PackageManagers {
		for _, p := range chosen {
			if p.Manager == m {
				out = append(out, p)
			}
		}
	}
	if len(problems) > 0 {
		return out, "Extra packages, " + strings.Join(problems, "; ") + "."
	}
	return out, ""
}

// planDigest fingerprints a plan, so creating refuses a plan that differs
// from the one the Review showed (a template edited meanwhile, say).
func planDigest(p store.Plan) string {
	b, _ := json.Marshal(p) // a Plan is plain data; Marshal cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// reviewParams are the create request the pipeline sends for plan, as form
// parameters in the order and encoding the proxmox client uses, without
// the random root password.
func reviewParams(plan store.Plan) []views.WizardParam {
	return createParamLines(provision.CreateParams(plan))
}

// createParamLines lists the form parameters of p in the order and
// encoding the proxmox client sends them.
func createParamLines(p proxmox.CreateLXCParams) []views.WizardParam {
	var out []views.WizardParam
	add := func(k, v string) {
		if v != "" {
			out = append(out, views.WizardParam{Name: k, Value: v})
		}
	}
	num := func(k string, n int) {
		if n != 0 {
			add(k, strconv.Itoa(n))
		}
	}
	add("vmid", strconv.Itoa(p.VMID))
	add("ostemplate", p.OSTemplate)
	add("hostname", p.Hostname)
	add("storage", p.Storage)
	add("rootfs", p.RootFS)
	num("cores", p.Cores)
	num("memory", p.Memory)
	if p.Swap != nil {
		add("swap", strconv.Itoa(*p.Swap))
	}
	for i := 0; i < len(p.Net); i++ {
		add("net"+strconv.Itoa(i), p.Net[i].String())
	}
	add("ssh-public-keys", p.SSHPublicKeys)
	if p.Unprivileged != nil {
		add("unprivileged", boolParam(*p.Unprivileged))
	}
	if p.Features != nil {
		add("features", p.Features.String())
	}
	if p.OnBoot {
		add("onboot", "1")
	}
	add("tags", strings.Join(p.Tags, ";"))
	add("nameserver", p.Nameserver)
	return out
}

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
