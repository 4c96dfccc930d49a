package pvesim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

const pctSetUsage = "pct set <vmid> [OPTIONS]"

// pctSetOptions are the options of the real `pct set` (the CLI form of PUT
// …/lxc/{vmid}/config); the simulator implements only "features", the one
// Corral needs root for, and names the others as not simulated.
var pctSetOptions = func() []string {
	opts := []string{"delete", "revert", "digest", "features"}
	for k := range createSchema {
		switch k {
		case "vmid", "ostemplate", "storage", "password", "ssh-public-keys", "start", "pool", "unique", "force":
			continue
		}
		opts = append(opts, k)
	}
	return opts
}()

// pctSet runs `pct set <vmid> --features …` as root@pam, who may set every
// feature flag. Like PVE, a running container keeps its features until its
// next start; the change is pending meanwhile (GET …/config shows it unless
// current=1).
func (n *Node) pctSet(pio pctIO, args []string) int {
	die := func(format string, a ...any) int {
		fmt.Fprintf(pio.stderr, format+"\n", a...)
		return pctExit
	}
	opts, pos, ok := getOptions(pio, args, pctSetOptions)
	switch {
	case !ok:
		return die("400 unable to parse option\n%s", pctSetUsage)
	case len(pos) < 1:
		return die("400 not enough arguments\n%s", pctSetUsage)
	case len(pos) > 1:
		return die("400 too many arguments\n%s", pctSetUsage)
	}
	vmid, err := strconv.Atoi(pos[0])
	if err != nil || !vmidRe.MatchString(pos[0]) {
		msg := fmt.Sprintf("type check ('integer') failed - got '%s'", pos[0])
		if err == nil {
			msg = "invalid format - value does not look like a valid VM ID"
		}
		return die("400 Parameter verification failed.\nvmid: %s\n%s", msg, pctSetUsage)
	}
	features, hasFeatures := opts["features"]
	for k := range opts {
		if k != "features" {
			return die("pvesim: pct set --%s is not simulated (only --features is)", k)
		}
	}
	var f propString
	if hasFeatures {
		var problems []string
		f, problems = parsePropString("features", features, "", featuresFormat)
		if len(problems) > 0 {
			return die("400 Parameter verification failed.\nfeatures: %s\n%s", propError(problems), pctSetUsage)
		}
	}
	if !hasFeatures {
		return die("no options specified")
	}
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	g := n.estate.guests[vmid]
	if g == nil || g.node != n.name || g.typ != LXC {
		return die("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", n.name, vmid)
	}
	if g.lock != "" {
		return die("CT is locked (%s)", g.lock)
	}
	value := f.String("")
	if g.status == "running" {
		// Feature flags are not hot-pluggable: they wait for the next start.
		g.pendingFeatures = &value
		return 0
	}
	g.features = value
	g.pendingFeatures = nil
	return 0
}

// getOptions parses options as Perl's Getopt::Long does for a pct command:
// "-name value", "--name value" or "--name=value", anywhere among the
// positional arguments. Unknown options are reported, all of them, and fail.
func getOptions(pio pctIO, args, known []string) (map[string]string, []string, bool) {
	opts := map[string]string{}
	var pos []string
	ok := true
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !slices.Contains(known, name) {
			fmt.Fprintf(pio.stderr, "Unknown option: %s\n", name)
			ok = false
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				fmt.Fprintf(pio.stderr, "Option %s requires an argument\n", name)
				ok = false
				continue
			}
			i++
			value = args[i]
		}
		opts[name] = value
	}
	return opts, pos, ok
}
