package inspect

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"corral/exec"
	"corral/store"
)

// CredentialDir is where template scripts leave credentials inside a
// container, one file per service named exactly like its systemd unit
// without ".service" (save_credential SERVICE KEY VALUE writes KEY=VALUE
// lines there). Discovery, Reveal and the provisioning helpers share it.
const CredentialDir = "/etc/corral/credentials"

// ErrBadServiceName is returned for a service name that could smuggle
// options or paths into a command.
var ErrBadServiceName = errors.New("invalid service name")

// Credential is one KEY=VALUE line of a credential file.
type Credential struct {
	Key, Value string
}

// Discovery markers separate the sections of the probe's output. A line
// of a credential file that starts with one is ignored, never trusted.
const (
	markUnits = "@@corral:units"
	markFiles = "@@corral:unitfiles"
	markSS    = "@@corral:ss"
	markPIDs  = "@@corral:pids"
	markCreds = "@@corral:creds"
	markFile  = "@@corral:file "
)

// discoverScript gathers everything in one pct exec: running units, the
// installed ones (to place credentials of a stopped unit), TCP listeners, each unit's main PID with its children (a wrapper such as
// code-server's keeps the port on a child), and the credential files.
const discoverScript = `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
units=$(systemctl list-units --type=service --state=running --no-pager --no-legend --plain 2>/dev/null)
echo '` + markUnits + `'
echo "$units"
echo '` + markFiles + `'
systemctl list-unit-files --type=service --no-pager --no-legend 2>/dev/null
echo '` + markSS + `'
ss -tlnp 2>/dev/null
echo '` + markPIDs + `'
for u in $(echo "$units" | cut -d' ' -f1); do
  p=$(systemctl show -p MainPID --value "$u" 2>/dev/null)
  kids=""
  if [ -n "$p" ] && [ "$p" != 0 ]; then kids=$(pgrep -P "$p" 2>/dev/null | tr '\n' ' '); fi
  echo "$u $p $kids"
done
echo '` + markCreds + `'
if [ -d ` + CredentialDir + ` ]; then
  for f in ` + CredentialDir + `/*; do
    [ -f "$f" ] || continue
    echo "` + markFile + `$(basename "$f")"
    cat "$f" 2>/dev/null
    echo
  done
fi
`

// Discovery is what Discover found in a container.
type Discovery struct {
	Services []store.Service
	// Truncated: the probe's output passed MaxOutput and was cut, so
	// services (or credential names) may be missing.
	Truncated bool
}

// Discover finds a running container's services through pct exec:
// application services first, then system ones, each sorted by name.
func Discover(ctx context.Context, h exec.Pcter, vmid int) (Discovery, error) {
	out, cut, err := exec.PctOutput(ctx, h, vmid, "discover services", []string{"bash", "-c", discoverScript})
	if err != nil {
		return Discovery{}, err
	}
	return Discovery{Services: parseDiscovery(out), Truncated: cut}, nil
}

// Logs is the tail of a service's journal.
type Logs struct {
	Lines []string // each at most MaxLogLine bytes (plus LineCutMark)
	// Truncated: the journal's output passed MaxOutput; the newest lines
	// are missing.
	Truncated bool
}

// ServiceLogs returns the last lines (1-200) of a service's journal.
func ServiceLogs(ctx context.Context, h exec.Pcter, vmid int, service string, lines int) (Logs, error) {
	if err := ValidServiceName(service); err != nil {
		return Logs{}, err
	}
	lines = min(max(lines, 1), 200)
	unit := service
	if !strings.HasSuffix(unit, ".service") {
		unit += ".service"
	}
	argv := []string{"journalctl", "-u", unit, "-n", fmt.Sprint(lines), "--no-pager", "--output=short"}
	out, cut, err := exec.PctOutput(ctx, h, vmid, "read the journal of "+service, argv)
	if err != nil {
		return Logs{}, err
	}
	logs := Logs{Truncated: cut}
	for l := range strings.Lines(out) {
		l = strings.TrimRight(l, "\r\n")
		if strings.TrimSpace(l) != "" && l != "-- No entries --" {
			logs.Lines = append(logs.Lines, exec.CutLine(l))
		}
	}
	return logs, nil
}

// CredentialFile is a service's credential file as read.
type CredentialFile struct {
	Entries []Credential
	// Truncated: the file passed MaxOutput and only its start was read.
	Truncated bool
}

// Credentials reads a service's credential file (see CredentialDir).
func Credentials(ctx context.Context, h exec.Pcter, vmid int, service string) (CredentialFile, error) {
	if err := ValidServiceName(service); err != nil {
		return CredentialFile{}, err
	}
	out, cut, err := exec.PctOutput(ctx, h, vmid, "read the credentials of "+service, []string{"cat", CredentialDir + "/" + service})
	if err != nil {
		return CredentialFile{}, err
	}
	return CredentialFile{Entries: ParseCredentials(out), Truncated: cut}, nil
}

var serviceNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._@-]*$`)

// ValidServiceName checks a service or unit name: letters, digits and
// ._@- only, not starting with a dash or a dot, at most 128 bytes.
func ValidServiceName(s string) error {
	if len(s) > 128 || !serviceNameRE.MatchString(s) || strings.Contains(s, "..") {
		return fmt.Errorf("%w: %q", ErrBadServiceName, s)
	}
	return nil
}
