package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"corral/exec"
)

// maxCommand caps a user's command; longer ones are refused, not cut.
const maxCommand = 32 << 10

// splitLogin splits a gateway user name into the Corral user and an optional
// target: "alice+105" and "alice+web" name a container, "alice" does not.
// It splits on the last '+'.
func splitLogin(login string) (user, target string) {
	i := strings.LastIndexByte(login, '+')
	if i < 0 {
		return login, ""
	}
	return login[:i], login[i+1:]
}

type requestKind int

const (
	reqMenu  requestKind = iota // no target, no command: show the menu
	reqList                     // "ls"
	reqShell                    // a target and no command
	reqExec                     // a target and a command
)

// request is what a session asks for, before any lookup.
type request struct {
	kind    requestKind
	target  string // VMID or name as typed
	command string // for reqExec, passed unchanged to /bin/sh -c in the container
}

var errBadCommand = errors.New("bad command")

// parseRequest reads the target and command from the login's target and the
// raw SSH command. A target in the user name wins: the whole command is then
// the user's, so `ssh alice+105@corral 106` runs "106" in CT 105. Otherwise
// the first word is the target, optionally followed by "--", and the rest is
// passed through unchanged (never re-split and re-joined).
func parseRequest(loginTarget, raw string) (request, error) {
	if len(raw) > maxCommand {
		return request{}, fmt.Errorf("%w: longer than %d bytes", errBadCommand, maxCommand)
	}
	if strings.IndexByte(raw, 0) >= 0 {
		return request{}, fmt.Errorf("%w: NUL byte", errBadCommand)
	}
	if loginTarget != "" {
		if strings.TrimSpace(raw) == "" {
			return request{kind: reqShell, target: loginTarget}, nil
		}
		return request{kind: reqExec, target: loginTarget, command: raw}, nil
	}
	rest := strings.TrimLeft(raw, " \t")
	if rest == "" {
		return request{kind: reqMenu}, nil
	}
	if strings.TrimSpace(rest) == "ls" {
		return request{kind: reqList}, nil
	}
	target := rest
	rest = ""
	if i := strings.IndexAny(target, " \t"); i >= 0 {
		target, rest = target[:i], strings.TrimLeft(target[i+1:], " \t")
	}
	if rest == "--" {
		rest = ""
	} else if strings.HasPrefix(rest, "-- ") || strings.HasPrefix(rest, "--\t") {
		rest = strings.TrimLeft(rest[2:], " \t")
	}
	if strings.TrimSpace(rest) == "" {
		return request{kind: reqShell, target: target}, nil
	}
	return request{kind: reqExec, target: target, command: rest}, nil
}

// Messages shown to users. "Not found" is the same whether the container
// belongs to someone else or does not exist at all.
var (
	errNoSuchContainer = errors.New("no such container among yours")
	errAmbiguous       = errors.New("several of your containers have that name; use the VMID")
)

// resolve finds target among the user's own containers: a VMID (strictly
// numeric) or a unique name.
func resolve(guests []Guest, target string) (Guest, error) {
	if target != "" && target[0] >= '0' && target[0] <= '9' {
		vmid, err := exec.ParseVMID(target)
		if err != nil {
			return Guest{}, errNoSuchContainer
		}
		for _, g := range guests {
			if g.VMID == vmid {
				return g, nil
			}
		}
		return Guest{}, errNoSuchContainer
	}
	var found []Guest
	for _, g := range guests {
		if target != "" && strings.EqualFold(g.Name, target) {
			found = append(found, g)
		}
	}
	switch len(found) {
	case 0:
		return Guest{}, errNoSuchContainer
	case 1:
		return found[0], nil
	default:
		return Guest{}, errAmbiguous
	}
}

// targetLabel names a guest for messages: "105 (web)".
func targetLabel(g Guest) string {
	if g.Name == "" {
		return strconv.Itoa(g.VMID)
	}
	return strconv.Itoa(g.VMID) + " (" + g.Name + ")"
}
