package provision

import (
	"context"
	"fmt"
	"strings"

	"corral/store"
)

// pipeline runs one job's steps in order, skipping those already done, and
// saves the job after each step so a restart resumes after the last one.
type pipeline struct {
	r   *Runner
	job *store.Job
	api ProxmoxOps
	sh  *shellSession
}

func (p *pipeline) run(ctx context.Context) error {
	for _, st := range Steps(p.job.Plan) {
		if p.job.IsDone(st.Key) {
			continue
		}
		p.job.Step = st.Key
		if err := p.save(ctx); err != nil {
			return err
		}
		p.emit(st, store.EventStepStarted, st.Label)
		if err := p.step(ctx, st); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.job.Done = append(p.job.Done, st.Key)
		if err := p.save(ctx); err != nil {
			return err
		}
		if st.Script != "" {
			p.emit(st, store.EventScriptDone, fmt.Sprintf("store.Script %q completed", st.Script))
		}
		p.emit(st, store.EventStepDone, st.Label+": done")
	}
	return nil
}

func (p *pipeline) step(ctx context.Context, st Step) error {
	switch {
	case st.Key == StepCreate:
		return p.create(ctx, st)
	case st.Key == StepFeatures:
		return p.setFeatures(ctx, st)
	case st.Key == StepStart:
		return p.start(ctx, st)
	case st.Key == StepWait:
		return p.waitReady(ctx, st)
	case st.Key == StepSnapshot:
		return p.cleanSnapshot(ctx, st)
	case st.Key == StepFiles:
		return p.deployFiles(ctx, st)
	case strings.HasPrefix(st.Key, "pkg:"):
		return p.installPackages(ctx, st, strings.TrimPrefix(st.Key, "pkg:"))
	case strings.HasPrefix(st.Key, "script:"):
		return p.runScript(ctx, st)
	case st.Key == StepDiscover:
		return p.discover(ctx, st)
	}
	return &store.StepError{Step: st.Key, Message: "unknown step " + st.Key}
}

func (p *pipeline) save(ctx context.Context) error {
	if err := p.r.cfg.Store.SaveJob(ctx, *p.job); err != nil {
		return fmt.Errorf("save job progress: %w", err)
	}
	return nil
}

// emit records a marker or an output line of step st.
func (p *pipeline) emit(st Step, kind, text string) {
	p.r.emit(*p.job, store.LogEntry{Kind: kind, Step: st.Key, Script: st.Script, Text: text})
}

// proxmox opens the node's API once per run.
func (p *pipeline) proxmox(ctx context.Context) (ProxmoxOps, error) {
	if p.api == nil {
		api, err := p.r.conn.Proxmox(ctx, p.job.UserID, p.job.Plan.NodeID)
		if err != nil {
			return nil, err
		}
		p.api = api
	}
	return p.api, nil
}

// shell opens the SSH connection to the node's host once per run.
func (p *pipeline) shell() *shellSession {
	if p.sh == nil {
		p.sh = &shellSession{conn: p.r.conn, userID: p.job.UserID, nodeID: p.job.Plan.NodeID}
	}
	return p.sh
}

func (p *pipeline) close() {
	if p.sh != nil {
		p.sh.Close()
	}
}
