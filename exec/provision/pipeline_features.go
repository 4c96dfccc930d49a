package provision

import (
	"context"
	"fmt"

	"corral/exec"
	"corral/store"
)

// setFeatures sets, as root over SSH, the feature flags an API token may
// not (keyctl, fuse; nesting on a privileged container). It runs before
// the first start, so the flags apply when the container boots; repeating
// it after a restart or a retry is safe, pct set just writes them again.
func (p *pipeline) setFeatures(ctx context.Context, st Step) error {
	plan := p.job.Plan
	f := RootFeatures(plan.Create)
	display := FeaturesCommand(plan)
	if display == "" {
		return &store.StepError{Step: st.Key, Message: "the plan has no feature flags to set as root"}
	}
	w := &exec.LineWriter{Emit: func(s string) { p.emit(st, store.EntryLog, s) }}
	sh := p.shell()
	sh.onReconnect = func(err error) {
		p.emit(st, store.EntryLog, fmt.Sprintf("Connection to the host dropped (%v); reconnecting and retrying once", err))
	}
	p.emit(st, store.EntryLog, display)
	code, err := sh.SetFeatures(ctx, plan.VMID, f, w)
	w.Flush()
	if err := commandResult(ctx, st, display, code, err, w.Tail()); err != nil {
		return err
	}
	p.emit(st, store.EntryLog, "Feature flags set: "+f.String())
	return nil
}
