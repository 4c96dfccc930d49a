package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/a-h/templ"

	"corral/exec/provision"
	"corral/handlers/linediff"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/views"
)

func jobPage(v views.JobView) templ.Component { return views.JobPage(v) }

// jobView builds the progress page's model from the job record alone; the
// log lines are added by the caller.
func jobView(j store.Job, n store.Node, csrf, filter string) views.JobView {
	v := views.JobView{
		CSRF: csrf, ID: j.ID, VMID: j.Plan.VMID, Hostname: j.Plan.Hostname, NodeName: n.Name,
		State: string(j.State), LogFilter: filter,
		ContainerURL: fmt.Sprintf("/containers/%s/%d", n.ID, j.Plan.VMID),
	}
	steps := provision.Steps(j.Plan)
	done := 0
	for _, s := range steps {
		state := "pending"
		switch {
		case j.IsDone(s.Key):
			state = "done"
			done++
		case s.Key == j.Step && j.State.Stopped():
			state = "failed"
		case s.Key == j.Step && j.State == store.JobRunning:
			state = "running"
		}
		v.Steps = append(v.Steps, views.JobStepView{Key: s.Key, Label: s.Label, State: state})
		if s.Script != "" {
			v.Scripts = append(v.Scripts, views.JobScriptView{Name: s.Script, State: state})
		}
	}
	if len(steps) > 0 {
		v.Percent = done * 100 / len(steps)
	}
	if j.State == store.JobDone {
		v.Percent = 100
	}
	if j.State == store.JobDeleted {
		v.Gone = fmt.Sprintf("Container %d (%s) was deleted.", j.Plan.VMID, j.Plan.Hostname)
	}
	if e := j.Error; e != nil && j.State.Stopped() {
		v.Error = &views.JobErrorView{Step: e.Step, Message: e.Message, Command: e.Command, ExitCode: e.ExitCode, Output: e.Output}
	}
	for _, s := range j.Services {
		if s.System {
			continue
		}
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprint(p))
		}
		v.Services = append(v.Services, views.JobServiceView{
			Name: s.Name, Ports: strings.Join(ports, ", "), PortList: s.Ports, Status: s.Status, CredentialKeys: s.CredentialKeys,
		})
	}
	return v
}

// readyLookup bounds asking Proxmox for a new container's address.
const readyLookup = 5 * time.Second

// fillReady gives the ready panel of a finished job the container's
// address and links to its services' ports. A static address comes from the
// plan; a DHCP one from Proxmox, and a node that does not answer only
// costs the links.
func (h *Handler) fillReady(ctx context.Context, j store.Job, n store.Node, v *views.JobView) {
	if j.State != store.JobDone {
		return
	}
	ip, _, _ := strings.Cut(j.Plan.Create.IPv4, "/")
	if ip == "" || ip == "dhcp" {
		ip = h.liveAddress(ctx, n, j.Plan.VMID)
	}
	if ip == "" {
		return
	}
	v.Address = ip
	for i, s := range v.Services {
		for _, p := range s.PortList {
			pl := views.PortLink{Port: p}
			pl.URL, pl.Text = portAccess(ip, s.Name, p)
			v.Services[i].Links = append(v.Services[i].Links, pl)
		}
	}
}

// liveAddress is the container's first IPv4 address as Proxmox reports it,
// or "".
func (h *Handler) liveAddress(ctx context.Context, n store.Node, vmid int) string {
	api, err := h.Proxmox(n)
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, readyLookup)
	defer cancel()
	ifs, err := api.LXCInterfaces(ctx, clusters.PVEName(n), vmid)
	if err != nil {
		h.Logger.Debug("job ready: container address", "node", n.Name, "vmid", vmid, "err", err)
		return ""
	}
	return proxmox.PrimaryIPv4(ifs)
}

// templateRetryView shows each change as a diff from the reviewed script
// to the template's current one, with a little context.
func templateRetryView(j store.Job, changes []provision.ScriptChange, csrf string) views.JobTemplateRetry {
	v := views.JobTemplateRetry{
		CSRF: csrf, ID: j.ID, VMID: j.Plan.VMID, Hostname: j.Plan.Hostname,
		TemplateName: j.Plan.TemplateName, TemplateURL: "/templates/" + j.Plan.TemplateID,
		Digest: provision.ChangesDigest(changes),
	}
	for _, ch := range changes {
		d := views.ScriptDiff{Name: ch.Name}
		for _, l := range linediff.Context(linediff.Diff(ch.Planned, ch.Current), diffContext) {
			d.Lines = append(d.Lines, views.DiffLine{Op: string(l.Op), Text: l.Text, Skipped: l.Skipped})
		}
		v.Scripts = append(v.Scripts, d)
	}
	return v
}

// diffContext is how many unchanged lines a script diff shows around a change.
const diffContext = 3

func logLineView(e store.LogEntry) views.JobLogView {
	return views.JobLogView{Seq: e.Seq, Time: e.Time.Local().Format("15:04:05"), Kind: e.Kind, Script: e.Script, Text: e.Text}
}

// matchesFilter keeps every line without a filter, and with one the
// lines of that script only.
func matchesFilter(e store.LogEntry, script string) bool {
	return script == "" || e.Script == script
}

// endsRun reports whether the last marker among entries ends a run of the
// job (a retry afterwards starts a new one).
func endsRun(entries []store.LogEntry) bool {
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Kind != store.EntryLog {
			return e.Terminal()
		}
	}
	return false
}
