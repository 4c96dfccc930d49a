package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"corral/exec"
	"corral/store"
)

// create sends the create request once (its UPID is saved, so a restart
// waits for the same task instead of creating twice) and waits for it.
func (p *pipeline) create(ctx context.Context, st Step) error {
	api, err := p.proxmox(ctx)
	if err != nil {
		return &store.StepError{Step: st.Key, Message: "could not reach Proxmox: " + err.Error()}
	}
	plan := p.job.Plan
	if p.job.CreateUPID == "" {
		upid, err := api.CreateLXC(ctx, plan, CreatedNote(p.job.ID))
		if err != nil {
			return &store.StepError{Step: st.Key, Message: "Proxmox refused to create the container: " + err.Error()}
		}
		p.job.CreateUPID = upid
		if err := p.save(ctx); err != nil {
			return err
		}
		p.emit(st, store.EntryLog, "Create task "+upid)
	} else {
		p.emit(st, store.EntryLog, "Waiting for the create task started earlier: "+p.job.CreateUPID)
	}
	if err := p.waitTask(ctx, st, api, p.job.CreateUPID); err != nil {
		if ctx.Err() == nil {
			// A failed task is final: a retry must send a new request.
			p.job.CreateUPID = ""
		}
		return err
	}
	p.r.noteVMID(ctx, *p.job, true)
	return nil
}

// start starts the container unless it already runs.
func (p *pipeline) start(ctx context.Context, st Step) error {
	api, err := p.proxmox(ctx)
	if err != nil {
		return &store.StepError{Step: st.Key, Message: "could not reach Proxmox: " + err.Error()}
	}
	plan := p.job.Plan
	status, err := retryDropped(ctx, func() (string, error) { return api.Status(ctx, plan.PVENode, plan.VMID) })
	if err != nil {
		return &store.StepError{Step: st.Key, Message: "could not read the container's state: " + err.Error()}
	}
	if status == "running" {
		p.emit(st, store.EntryLog, "The container is already running")
		return nil
	}
	upid, err := api.Start(ctx, plan.PVENode, plan.VMID)
	if err != nil {
		return &store.StepError{Step: st.Key, Message: "Proxmox refused to start the container: " + err.Error()}
	}
	return p.waitTask(ctx, st, api, upid)
}

// waitTask waits for a task, streaming its log, and retries the wait once
// after a dropped connection (the task keeps running on the node).
func (p *pipeline) waitTask(ctx context.Context, st Step, api ProxmoxOps, upid string) error {
	onLog := func(line string) { p.emit(st, store.EntryLog, line) }
	err := api.WaitTask(ctx, p.job.Plan.PVENode, upid, onLog)
	if errors.Is(err, ErrDropped) && ctx.Err() == nil {
		p.emit(st, store.EntryLog, "Connection to Proxmox dropped; waiting for the task again")
		err = api.WaitTask(ctx, p.job.Plan.PVENode, upid, nil)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &store.StepError{Step: st.Key, Message: "Proxmox task failed: " + err.Error(), Command: "task " + upid}
	}
	return nil
}

// pause waits WaitInterval before every attempt of a wait but the first.
func (p *pipeline) pause(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(p.r.cfg.WaitInterval):
		return nil
	}
}

// waitReady waits until the container's root file system answers.
func (p *pipeline) waitReady(ctx context.Context, st Step) error {
	probe := []string{"test", "-d", "/etc/systemd/system"}
	var last error
	for i := range p.r.cfg.WaitAttempts {
		if err := p.pause(ctx, i); err != nil {
			return err
		}
		code, err := p.shell().Pct(ctx, exec.PctRequest{VMID: p.job.Plan.VMID, Argv: probe})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil && code == 0 {
			p.emit(st, store.EntryLog, "Container file system ready")
			return nil
		}
		last = err
		if last == nil {
			last = fmt.Errorf("exit code %d", code)
		}
	}
	return &store.StepError{Step: st.Key, Command: "test -d /etc/systemd/system",
		Message: fmt.Sprintf("the container's file system was not ready after %d attempts (%v)", p.r.cfg.WaitAttempts, last)}
}

// retryDropped calls f again once when its error is a dropped connection.
func retryDropped[T any](ctx context.Context, f func() (T, error)) (T, error) {
	v, err := f()
	if errors.Is(err, ErrDropped) && ctx.Err() == nil {
		v, err = f()
	}
	return v, err
}
