package pvesim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pct's snapshot commands run the API's task in the foreground, as PVE's
// CLI does: the task log goes to stdout, the error to stderr (exit 255).

var snapshotCmdUsage = map[string]string{
	"snapshot":     "pct snapshot <vmid> <snapname> [OPTIONS]",
	"delsnapshot":  "pct delsnapshot <vmid> <snapname> [OPTIONS]",
	"rollback":     "pct rollback <vmid> <snapname> [OPTIONS]",
	"listsnapshot": "pct listsnapshot <vmid>",
}

// pctSnapshot runs `pct snapshot|delsnapshot|rollback|listsnapshot`.
func (n *Node) pctSnapshot(ctx context.Context, pio pctIO, cmd string, args []string) int {
	die := func(format string, a ...any) int {
		fmt.Fprintf(pio.stderr, format+"\n", a...)
		return pctExit
	}
	known := map[string][]string{"snapshot": {"description"}, "delsnapshot": {"force"}, "rollback": {"start"}}[cmd]
	opts, pos, ok := getOptions(pio, args, known)
	want := 2
	if cmd == "listsnapshot" {
		want = 1
	}
	switch {
	case !ok:
		return die("400 unable to parse option\n%s", snapshotCmdUsage[cmd])
	case len(pos) < want:
		return die("400 not enough arguments\n%s", snapshotCmdUsage[cmd])
	case len(pos) > want:
		return die("400 too many arguments\n%s", snapshotCmdUsage[cmd])
	}
	vmid, err := strconv.Atoi(pos[0])
	if err != nil || !vmidRe.MatchString(pos[0]) {
		return die("400 Parameter verification failed.\nvmid: invalid format - value does not look like a valid VM ID\n%s", snapshotCmdUsage[cmd])
	}
	if cmd == "listsnapshot" {
		return n.pctListSnapshots(pio, vmid)
	}
	name := pos[1]
	if msg := snapNameProp.check(name); msg != "" {
		return die("400 Parameter verification failed.\nsnapname: %s\n%s", strings.TrimRight(msg, "\n"), snapshotCmdUsage[cmd])
	}
	var work func(tl *taskLog) error
	typ := map[string]string{"snapshot": "vzsnapshot", "delsnapshot": "vzdelsnapshot", "rollback": "vzrollback"}[cmd]
	switch cmd {
	case "snapshot":
		if name == "current" || name == "vzdump" {
			return die("unable to use snapshot name '%s' (reserved name)", name)
		}
		work = func(tl *taskLog) error { return n.createSnapshot(tl, vmid, name, opts["description"]) }
	case "delsnapshot":
		work = func(tl *taskLog) error { return n.deleteSnapshot(tl, vmid, name) }
	case "rollback":
		start := parseBoolOpt(opts["start"])
		work = func(tl *taskLog) error {
			if err := n.rollbackSnapshot(tl, vmid, name); err != nil {
				return err
			}
			if start {
				n.startTask(rootPam, "vzstart", vmidString(vmid), 2, n.startWork(vmid))
			}
			return nil
		}
	}
	return n.runForeground(ctx, pio, n.startTask(rootPam, typ, vmidString(vmid), 3, work))
}

func parseBoolOpt(v string) bool {
	b, _ := parsePropBool(v)
	return b == "1"
}

// runForeground follows a task like a CLI worker: log lines to stdout as
// they come, "TASK ERROR" as the message on stderr and exit 255.
func (n *Node) runForeground(ctx context.Context, pio pctIO, upid string) int {
	n.estate.mu.Lock()
	t := n.tasks[upid]
	n.estate.mu.Unlock()
	printed := 0
	flush := func() {
		n.estate.mu.Lock()
		lines := slices.Clone(t.lines[printed:])
		n.estate.mu.Unlock()
		for _, l := range lines {
			printed++
			if !strings.HasPrefix(l, "TASK ") {
				fmt.Fprintln(pio.stdout, l)
			}
		}
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-t.finished:
			flush()
			n.estate.mu.Lock()
			status := t.exitstatus
			n.estate.mu.Unlock()
			switch {
			case status == "OK":
				return 0
			case strings.HasPrefix(status, "WARNINGS: "):
				fmt.Fprintf(pio.stderr, "Task finished with %s warning(s)!\n", strings.TrimPrefix(status, "WARNINGS: "))
				return 0
			}
			fmt.Fprintln(pio.stderr, status)
			return pctExit
		case <-tick.C:
			flush()
		case <-ctx.Done():
			return 130
		}
	}
}

// pctListSnapshots prints the snapshot tree as print_snapshot_tree does.
func (n *Node) pctListSnapshots(pio pctIO, vmid int) int {
	n.estate.mu.Lock()
	g := n.estate.guests[vmid]
	if g == nil || g.node != n.name || g.typ != LXC {
		n.estate.mu.Unlock()
		fmt.Fprintf(pio.stderr, "Configuration file 'nodes/%s/lxc/%d.conf' does not exist\n", n.name, vmid)
		return pctExit
	}
	snaps := map[string]ctConf{}
	for name, c := range g.snapshots {
		snaps[name] = c.clone()
	}
	current := g.conf["parent"]
	n.estate.mu.Unlock()

	children := map[string][]string{}
	var roots []string
	for _, name := range slices.Sorted(maps.Keys(snaps)) {
		if p := snaps[name]["parent"]; p != "" && snaps[p] != nil {
			children[p] = append(children[p], name)
		} else {
			roots = append(roots, name)
		}
	}
	if current != "" && snaps[current] != nil {
		children[current] = append(children[current], "current")
	} else {
		roots = append(roots, "current")
	}
	byTime := func(a, b string) int {
		if a == "current" {
			return 1
		}
		if b == "current" {
			return -1
		}
		return snaps[a].intOr("snaptime", 0) - snaps[b].intOr("snaptime", 0)
	}
	var walk func(prefix, name string)
	walk = func(prefix, name string) {
		desc, stamp := "You are here!", ""
		if name != "current" {
			desc = snaps[name]["description"]
			if desc == "" {
				desc = "no-description"
			}
			if i := strings.LastIndex(desc, "\n"); i >= 0 {
				desc = desc[i+1:]
			}
			stamp = time.Unix(int64(snaps[name].intOr("snaptime", 0)), 0).Format("2006-01-02 15:04:05")
		}
		width := max(30-len(prefix), 0)
		fmt.Fprintf(pio.stdout, "%s %-*s %-23s %s\n", prefix, width, name, stamp, desc)
		kids := children[name]
		slices.SortFunc(kids, byTime)
		for _, k := range kids {
			walk(" "+prefix, k)
		}
	}
	slices.SortFunc(roots, byTime)
	for _, r := range roots {
		walk("`->", r)
	}
	return 0
}
