package provision

import (
	"context"
	"fmt"
	"strings"

	"corral/store"
)

// pkgEnv starts every package command: pct exec shells lack /usr/local/bin,
// apt must never ask, and Debian 12's pip refuses system installs without
// the override.
const pkgEnv = `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive LC_ALL=C PIP_BREAK_SYSTEM_PACKAGES=1
`

// aptKeepConfig answers dpkg's conffile question without a terminal: keep
// the file already there (template files are deployed before packages, by
// design) and put the package's version beside it as .dpkg-dist. Without
// it dpkg asks, and under pct exec fails with "end of file on stdin at
// conffile prompt".
const aptKeepConfig = `-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold`

// Install commands per manager; package names arrive as "$@", never as
// shell text.
const (
	aptScript = pkgEnv + `apt-get update -qq && apt-get install -y -qq ` + aptKeepConfig + ` "$@"`
	npmScript = pkgEnv + `npm install -g "$@"`
	pipScript = pkgEnv + `pip install --quiet "$@"`
	// customScript runs the check and installs only when it fails.
	// Arguments: name check install.
	customScript = pkgEnv + `if [ -n "$2" ] && bash -c "$2" >/dev/null 2>&1; then
  echo "$1: already installed (check passed)"; exit 0
fi
echo "$1: installing"
bash -c "$3"`
)

// installPackages installs the plan's packages of one manager: apt, npm and
// pip in one command each, custom packages one by one.
func (p *pipeline) installPackages(ctx context.Context, st Step, manager string) error {
	pkgs := p.job.Plan.PackagesBy(store.PackageManager(manager))
	if manager == "custom" {
		for _, pk := range pkgs {
			if strings.TrimSpace(pk.Install) == "" {
				return &store.StepError{Step: st.Key, Message: fmt.Sprintf("custom package %q has no install command", pk.Name)}
			}
			argv := []string{"bash", "-c", customScript, "corral", pk.Name, pk.Check, pk.Install}
			if err := p.command(ctx, st, "install "+pk.Name+": "+pk.Install, argv, nil); err != nil {
				return err
			}
		}
		return nil
	}
	var names []string
	for _, pk := range pkgs {
		// A leading dash would be read as an option of the package manager.
		if pk.Name == "" || strings.HasPrefix(pk.Name, "-") || strings.ContainsAny(pk.Name, " \t\n\x00") {
			return &store.StepError{Step: st.Key, Message: fmt.Sprintf("invalid %s package name %q", manager, pk.Name)}
		}
		names = append(names, pk.Name)
	}
	var script, display string
	switch manager {
	case "apt":
		script, display = aptScript, "apt-get install -y "+aptKeepConfig+" "+strings.Join(names, " ")
	case "npm":
		script, display = npmScript, "npm install -g "+strings.Join(names, " ")
	case "pip":
		script, display = pipScript, "pip install "+strings.Join(names, " ")
	default:
		return &store.StepError{Step: st.Key, Message: "unknown package manager " + manager}
	}
	argv := append([]string{"bash", "-c", script, "corral"}, names...)
	return p.command(ctx, st, display, argv, nil)
}
