package exec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadArgument reports a command argument or VMID that cannot be sent to a
// host safely.
var ErrBadArgument = errors.New("invalid command argument")

// Lowest and highest VMID Proxmox accepts: store.MinVMID and store.MaxVMID,
// repeated because exec imports nothing of Corral's.
const (
	minVMID = 100
	maxVMID = 999999999
)

// QuoteArgs quotes argv for a POSIX shell: every argument becomes one
// single-quoted word, and each single quote inside becomes quote, backslash,
// quote, quote (close, escaped quote, reopen). It is the only place that
// quotes arguments for the remote shell; sshd hands the command string to the
// host user's login shell, which must see the arguments only as data.
func QuoteArgs(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// ParseVMID parses a VMID typed by a user: ASCII digits only, no sign, no
// leading zero, within the Proxmox range. It rejects anything else rather than
// normalising it.
func ParseVMID(s string) (int, error) {
	if len(s) < 3 || len(s) > 9 || s[0] == '0' {
		return 0, fmt.Errorf("%w: %q is not a VMID", ErrBadArgument, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %q is not a VMID", ErrBadArgument, s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a VMID", ErrBadArgument, s)
	}
	return n, nil
}

// pctCommand builds the only command strings ever sent for a container:
// `pct enter VMID` or `pct exec VMID -- ARGV…`, with the VMID formatted from
// an int and every argument quoted by QuoteArgs.
func pctCommand(vmid int, enter bool, argv []string) (string, error) {
	if vmid < minVMID || vmid > maxVMID {
		return "", fmt.Errorf("%w: VMID %d out of range", ErrBadArgument, vmid)
	}
	id := strconv.Itoa(vmid)
	if enter {
		if len(argv) > 0 {
			return "", fmt.Errorf("%w: pct enter takes no command", ErrBadArgument)
		}
		return "pct enter " + id, nil
	}
	if len(argv) == 0 {
		return "", fmt.Errorf("%w: missing command", ErrBadArgument)
	}
	for _, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return "", fmt.Errorf("%w: NUL byte in argument", ErrBadArgument)
		}
	}
	return "pct exec " + id + " -- " + QuoteArgs(argv), nil
}
