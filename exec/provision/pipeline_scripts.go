package provision

import (
	"context"
	"fmt"
	"strings"

	"corral/exec"
	"corral/store"
)

// runScriptCmd sources the helpers, then the script, in one bash, as the
// original product did; an unreadable helpers file stops before the script.
const runScriptCmd = `. ` + helpersPath + ` || exit 97
. "$1"`

// runScript uploads the helper environment and the script, runs it with
// its output streamed as the script's log, and removes both files.
func (p *pipeline) runScript(ctx context.Context, st Step) error {
	var idx int
	fmt.Sscanf(strings.TrimPrefix(st.Key, "script:"), "%d", &idx)
	if idx < 0 || idx >= len(p.job.Plan.Scripts) {
		return &store.StepError{Step: st.Key, Message: "no such script in the plan"}
	}
	sc := p.job.Plan.Scripts[idx]
	// The index, not the name, goes into the path: names are only shown.
	scriptPath := fmt.Sprintf("/tmp/.corral-script-%d.sh", idx)
	if err := p.upload(ctx, st, helpersPath, []byte(HelperScript)); err != nil {
		return err
	}
	if err := p.upload(ctx, st, scriptPath, []byte(sc.Content)); err != nil {
		return err
	}
	err := p.command(ctx, st, "script "+sc.Name, []string{"bash", "-c", runScriptCmd, "corral", scriptPath}, nil)
	if se, ok := err.(*store.StepError); ok && se.ExitCode != 0 {
		se.Message = fmt.Sprintf("script %q failed with exit code %d", sc.Name, se.ExitCode)
	}
	if ctx.Err() == nil {
		_, _ = p.shell().Pct(ctx, exec.PctRequest{VMID: p.job.Plan.VMID, Argv: []string{"rm", "-f", helpersPath, scriptPath}})
	}
	return err
}
