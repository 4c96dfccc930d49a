package exec

import (
	"context"
	"fmt"
	"strings"
)

// discover finds the container's services with the shared discovery probe
// (discover.go) and reports each application service.
func (p *pipeline) discover(ctx context.Context, st Step) error {
	found, err := Discover(ctx, p.shell(), p.job.Plan.VMID)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &StepError{Step: st.Key, Message: "service discovery failed: " + err.Error(), Command: "discover services"}
	}
	if found.Truncated {
		p.emit(st, EntryLog, "Service discovery "+TruncatedNote+"; some services may be missing")
	}
	p.job.Services = found.Services
	for _, s := range found.Services {
		if s.System {
			continue
		}
		p.emit(st, EntryService, describeService(s))
	}
	return nil
}

// describeService is one line about a service, without credential values.
func describeService(s Service) string {
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
