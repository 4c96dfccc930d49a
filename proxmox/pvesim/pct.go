package pvesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// pctIO are the streams of one pct invocation; tty is nil without a PTY.
type pctIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	tty            *boxTty
}

// pctExit is the exit status of pct's own failures (Perl die).
const pctExit = 255

const pctUsage = `USAGE: pct <COMMAND> [ARGS] [OPTIONS]
       pct list
       pct status <vmid> [OPTIONS]
       pct start <vmid> [OPTIONS]
       pct stop <vmid> [OPTIONS]
       pct enter <vmid> [OPTIONS]
       pct exec <vmid> [<extra-args>] [OPTIONS]
       pct push <vmid> <file> <destination> [OPTIONS]
       pct pull <vmid> <path> <destination> [OPTIONS]
       pct set <vmid> [OPTIONS]
       pct snapshot <vmid> <snapname> [OPTIONS]
       pct delsnapshot <vmid> <snapname> [OPTIONS]
       pct rollback <vmid> <snapname> [OPTIONS]
       pct listsnapshot <vmid>
       pct unlock <vmid>
`

// cmdUsage is the one-line synopsis pct prints after an argument error.
var cmdUsage = map[string]string{
	"list": "pct list", "status": "pct status <vmid> [OPTIONS]", "start": "pct start <vmid> [OPTIONS]",
	"stop": "pct stop <vmid> [OPTIONS]", "enter": "pct enter <vmid> [OPTIONS]",
	"exec": "pct exec <vmid> [<extra-args>] [OPTIONS]",
	"push": "pct push <vmid> <file> <destination> [OPTIONS]", "pull": "pct pull <vmid> <path> <destination> [OPTIONS]",
	"unlock": "pct unlock <vmid>",
}

// nargs is how many positional arguments each command takes.
var nargs = map[string]int{"list": 0, "status": 1, "start": 1, "stop": 1, "enter": 1, "exec": 1, "push": 3, "pull": 3, "unlock": 1}

// pct is the simulated /usr/sbin/pct; it only sees this node's containers.
func (n *Node) pct(ctx context.Context, pio pctIO, args []string) int {
	die := func(format string, a ...any) int {
		fmt.Fprintf(pio.stderr, format+"\n", a...)
		return pctExit
	}
	if len(args) == 0 {
		return die("ERROR: no command specified\n%s", strings.TrimRight(pctUsage, "\n"))
	}
	cmd, rest := args[0], args[1:]
	if cmd == "set" {
		code := n.pctSet(pio, rest)
		if code == 0 {
			n.sim.changed()
		}
		return code
	}
	if _, ok := snapshotCmdUsage[cmd]; ok {
		return n.pctSnapshot(ctx, pio, cmd, rest)
	}
	want, known := nargs[cmd]
	if !known {
		return die("ERROR: unknown command 'pct %s'\n%s", cmd, strings.TrimRight(pctUsage, "\n"))
	}
	var extra []string
	if cmd == "exec" {
		rest, extra = splitExtra(rest)
	}
	switch {
	case len(rest) < want:
		return die("400 not enough arguments\n%s", cmdUsage[cmd])
	case len(rest) > want:
		return die("400 too many arguments\n%s", cmdUsage[cmd])
	}
	if cmd == "list" {
		n.pctList(pio.stdout)
		return 0
	}
	vmid, err := strconv.Atoi(rest[0])
	if err != nil || !vmidRe.MatchString(rest[0]) {
		msg := fmt.Sprintf("type check ('integer') failed - got '%s'", rest[0])
		if err == nil {
			msg = "invalid format - value does not look like a valid VM ID"
		}
		return die("400 Parameter verification failed.\nvmid: %s\n%s", msg, cmdUsage[cmd])
	}
	g, status, lerr := n.lookupCT(vmid)
	if lerr != nil {
		return die("%s", lerr)
	}
	switch cmd {
	case "status":
		fmt.Fprintf(pio.stdout, "status: %s\n", status)
		return 0
	case "start", "stop":
		return n.pctPower(ctx, pio, cmd, vmid, status)
	case "unlock":
		return n.pctUnlock(pio, g)
	}
	if status != "running" {
		return die("container '%d' not running!", vmid)
	}
	box, runCtx, err := n.sandbox(g)
	if err != nil {
		return die("%s", err)
	}
	// The command dies with the container: stopping it ends the session.
	ctx, stop := mergeCancel(ctx, runCtx)
	defer stop()
	stdio := boxStdio{Stdin: pio.stdin, Stdout: pio.stdout, Stderr: pio.stderr}
	switch cmd {
	case "exec":
		if len(extra) == 0 {
			return die("missing command")
		}
		code, err := box.Exec(ctx, extra, stdio, pio.tty)
		if err != nil {
			n.sim.log.Debug("guest exec", "node", n.name, "vmid", vmid, "err", err)
		}
		return code
	case "enter":
		if pio.tty == nil {
			return die("unable to enter CT %d - no terminal allocated (use 'ssh -t')", vmid)
		}
		code, err := box.Shell(ctx, stdio, pio.tty)
		if err != nil {
			n.sim.log.Debug("guest shell", "node", n.name, "vmid", vmid, "err", err)
		}
		return code
	case "push":
		return n.pctCopy(pio, n.dir, rest[1], g.dir, rest[2])
	case "pull":
		return n.pctCopy(pio, g.dir, rest[1], n.dir, rest[2])
	}
	return 0
}

// splitExtra separates pct exec's own options from the command after "--".
func splitExtra(args []string) (own, extra []string) {
	for i, a := range args {
		if a == "--" {
			return dropKeepEnv(args[:i]), args[i+1:]
		}
	}
	return dropKeepEnv(args), nil
}

func dropKeepEnv(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--keep-env" || args[i] == "-keep-env" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// lookupCT loads the container config as pct does: only this node's.
func (n *Node) lookupCT(vmid int) (*guest, string, error) {
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	g := n.estate.guests[vmid]
	if g == nil || g.node != n.name || g.typ != LXC {
		return nil, "", fmt.Errorf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", n.name, vmid)
	}
	return g, g.status, nil
}

func (n *Node) pctList(w io.Writer) {
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	var rows []*guest
	for _, g := range n.estate.sortedGuests() {
		if g.node == n.name && g.typ == LXC {
			rows = append(rows, g)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "%-10s %-10s %-12s %-20s\n", "VMID", "Status", "Lock", "Name")
	for _, g := range rows {
		fmt.Fprintf(w, "%-10s %-10s %-12s %-20s\n", strconv.Itoa(g.vmid), g.status, g.lock(), g.displayName())
	}
}

// pctUnlock removes whatever lock the config holds, as remove_lock does:
// the way out when a task died holding one.
func (n *Node) pctUnlock(pio pctIO, g *guest) int {
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	if g.lock() == "" {
		fmt.Fprintln(pio.stderr, "no lock found trying to remove any lock")
		return pctExit
	}
	g.setLock("")
	return 0
}

// pctPower runs pct start/stop: the API task, waited for.
func (n *Node) pctPower(ctx context.Context, pio pctIO, cmd string, vmid int, status string) int {
	root := newToken(TokenSpec{User: "root@pam"})
	var upid string
	switch {
	case cmd == "start" && status == "running":
		fmt.Fprintf(pio.stderr, "CT %d already running\n", vmid)
		return pctExit
	case cmd == "stop" && status != "running":
		fmt.Fprintf(pio.stderr, "CT %d not running\n", vmid)
		return pctExit
	case cmd == "start":
		upid = n.startTask(root, "vzstart", vmidString(vmid), 2, n.startWork(vmid))
	default:
		upid = n.startTask(root, "vzstop", vmidString(vmid), 2, func(tl *taskLog) error {
			if !tl.Wait() {
				return errClosed
			}
			n.estate.mu.Lock()
			defer n.estate.mu.Unlock()
			if g := n.estate.guests[vmid]; g != nil && g.status == "running" {
				n.sim.setRunning(g, false)
			}
			return nil
		})
	}
	n.estate.mu.Lock()
	t := n.tasks[upid]
	n.estate.mu.Unlock()
	select {
	case <-t.finished:
	case <-ctx.Done():
		return 130
	}
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	if t.exitstatus != "OK" {
		fmt.Fprintln(pio.stderr, t.exitstatus)
		return pctExit
	}
	return 0
}

// pctCopy copies src (inside srcRoot) to dst (inside dstRoot); os.Root keeps
// both ends inside their directory whatever the paths or symlinks say.
func (n *Node) pctCopy(pio pctIO, srcRoot, src, dstRoot, dst string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(pio.stderr, format+"\n", a...)
		return pctExit
	}
	for _, root := range []string{srcRoot, dstRoot} {
		_ = os.MkdirAll(root, 0o755) // a container's directory is made on first use
	}
	sr, err := os.OpenRoot(srcRoot)
	if err != nil {
		return fail("%s", err)
	}
	defer sr.Close()
	dr, err := os.OpenRoot(dstRoot)
	if err != nil {
		return fail("%s", err)
	}
	defer dr.Close()
	in, err := sr.Open(rootRel(src))
	if err != nil {
		return fail("failed to open %s for reading: %s", src, errnoText(err))
	}
	defer in.Close()
	out, err := dr.OpenFile(rootRel(dst), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fail("failed to open %s for writing: %s", dst, errnoText(err))
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fail("failed to write %s: %s", dst, errnoText(err))
	}
	if err := out.Close(); err != nil {
		return fail("failed to write %s: %s", dst, errnoText(err))
	}
	return 0
}

// rootRel turns an absolute path into one relative to a root.
func rootRel(p string) string {
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel == "" {
		return "."
	}
	return rel
}

func errnoText(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// sandbox returns the container's guest sandbox, creating it on first use,
// and the context that ends when the container stops.
func (n *Node) sandbox(g *guest) (box, context.Context, error) {
	n.estate.mu.Lock()
	box, runCtx, dir, host := g.box, g.runCtx, g.dir, g.displayName()
	n.estate.mu.Unlock()
	if runCtx == nil {
		runCtx = n.sim.ctx
	}
	if box != nil {
		return box, runCtx, nil
	}
	box, err := newBox(dir, host)
	if err != nil {
		return nil, nil, fmt.Errorf("lxc-attach: %d: failed to attach: %w", g.vmid, err)
	}
	if ip := n.guestIP(g); ip != "" {
		_ = box.SetAddress(ip)
	}
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	if g.box == nil {
		g.box = box
	}
	return g.box, runCtx, nil
}

// guestIP is eth0's address: the static ip of net0, or its DHCP lease.
func (n *Node) guestIP(g *guest) string {
	n.estate.mu.Lock()
	v := g.conf["net0"]
	n.estate.mu.Unlock()
	net, _ := parsePropString("net0", v, "", netFormat)
	switch ip := net["ip"]; ip {
	case "dhcp":
		return n.sim.leaseIP(g.vmid, 0)
	case "", "manual":
		return ""
	default:
		return ip
	}
}

// mergeCancel returns a context that ends when either parent ends.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(a)
	stop := context.AfterFunc(b, func() { cancel(context.Cause(b)) })
	return ctx, func() { stop(); cancel(nil) }
}
