package provision

import (
	"context"
	"fmt"
	"strings"

	"corral/exec"
	"corral/exec/inspect"
	"corral/store"
)

// discover finds the container's services with the shared discovery probe
// (discover.go), reports each application service and records the whole
// discovery as the container's ServicesEvent, which its Services tab and
// dashboard card read: they show what the job found without a refresh.
func (p *pipeline) discover(ctx context.Context, st Step) error {
	found, err := inspect.Discover(ctx, p.shell(), p.job.Plan.VMID)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &store.StepError{Step: st.Key, Message: "service discovery failed: " + err.Error(), Command: "discover services"}
	}
	if found.Truncated {
		p.emit(st, store.EntryLog, "Service discovery "+exec.TruncatedNote+"; some services may be missing")
	}
	svcs := found.Services
	p.job.Services = svcs
	for _, s := range svcs {
		switch {
		case s.System:
		case s.Unit == "":
			p.emit(st, store.EntryLog, fmt.Sprintf("Saved credentials of %s: %s", s.Name, strings.Join(s.CredentialKeys, ", ")))
		default:
			p.emit(st, store.EventServiceReady, describeService(s))
		}
	}
	p.r.emit(*p.job, store.LogEntry{Kind: store.EventServices, Step: st.Key, Text: fmt.Sprintf("%d service(s) discovered", len(svcs)),
		Data: map[string]string{store.ServicesDataKey: store.EncodeServices(svcs), store.ServicesIPKey: staticIP(p.job.Plan.Create.IPv4)}})
	return nil
}

// staticIP is the address of a static IPv4 setting ("192.168.1.50/24"),
// or "" for DHCP: pages then use the address Proxmox reports.
func staticIP(cidr string) string {
	if cidr == "" || cidr == "dhcp" || cidr == "manual" {
		return ""
	}
	ip, _, _ := strings.Cut(cidr, "/")
	return ip
}

// describeService is one line about a service, without credential values.
func describeService(s store.Service) string {
	msg := "Discovered service: " + s.Name
	if len(s.Ports) > 0 {
		var ports []string
		for _, port := range s.Ports {
			ports = append(ports, fmt.Sprint(port))
		}
		msg += " (port " + strings.Join(ports, ", ") + ")"
	}
	if s.Status != "" && s.Status != "running" {
		msg += " [" + s.Status + "]"
	}
	if len(s.CredentialKeys) > 0 {
		msg += " [credentials: " + strings.Join(s.CredentialKeys, ", ") + "]"
	}
	return msg
}
