package pvesim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

const pctSetUsage = "pct set <vmid> [OPTIONS]"

// pctSetOptions are the options of `pct set`, the CLI form of PUT
// …/lxc/{vmid}/config.
var pctSetOptions = slices.Sorted(maps.Keys(updateSchema))

// rootPam is who runs pct in a root shell on the node: PVE skips every
// permission check for root@pam, so feature flags other than nesting and
// bind mounts of host paths can be set here and nowhere else.
var rootPam = newToken(TokenSpec{User: "root@pam"})

// pctSet runs `pct set <vmid> --key value …` as root@pam, through the same
// update as the API: lock and digest checks, pending values for what a
// running container takes only at its next start.
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
	p := params(opts)
	if aerr := updateSchema.check(p); aerr != nil {
		return die("%s%s", cliParamError(aerr), pctSetUsage)
	}
	if err := n.updateConfig(rootPam, vmid, updateFromParams(p)); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.errors != nil {
			return die("%s%s", cliParamError(ae), pctSetUsage)
		}
		if errors.As(err, &ae) {
			return die("%s", ae.msg)
		}
		return die("%s", err)
	}
	return 0
}

// cliParamError prints a parameter error the way PVE's CLI handler does.
func cliParamError(e *apiError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s\n", e.status, e.msg)
	for _, k := range slices.Sorted(maps.Keys(e.errors)) {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.TrimRight(e.errors[k], "\n"))
	}
	return b.String()
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
