package guest

import (
	"strings"
	"testing"
)

func TestDebconfSetSelections(t *testing.T) {
	g := newGuest(t)
	mustSh(t, g, `cat > /root/preseed <<'END'
# comments and blank lines are skipped

tzdata tzdata/Areas select Europe
postfix postfix/main_mailer_type select \
Internet Site
mysql-server mysql-server/root_password password s3cret
END`)
	tests := []struct {
		name, script, stderr string
		code                 int
	}{
		{"stdin", "echo 'unattended-upgrades unattended-upgrades/enable_auto_updates boolean true' | debconf-set-selections", "", 0},
		{"file, continued line", "debconf-set-selections /root/preseed", "", 0},
		{"unknown type only warns", "echo 'foo foo/bar colour red' | debconf-set-selections", "warning: Unknown type colour, skipping line 1\n", 0},
		{"unreadable line", "printf 'ok ok/q string x\\njunk\\n' | debconf-set-selections", "error: parse error on line 2: 'junk'\n", 1},
		{"check only", "echo 'foo foo/checked string yes' | debconf-set-selections -c", "", 0},
		{"unseen", "echo 'foo foo/unseen string later' | debconf-set-selections -u", "", 0},
		{"seen flag of an unknown question", "echo 'foo foo/none seen false' | debconf-set-selections", "error: Cannot find a question for foo/none\n", 1},
		{"bad option", "debconf-set-selections --frobnicate </dev/null", "Unknown option: frobnicate\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := sh(t, g, tt.script)
			if code != tt.code || !strings.HasPrefix(errOut, tt.stderr) || (tt.stderr == "" && errOut != "") {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut, tt.code, tt.stderr)
			}
		})
	}
	for pkg, want := range map[string]string{
		"unattended-upgrades": "* unattended-upgrades/enable_auto_updates: true\n",
		"tzdata":              "* tzdata/Areas: Europe\n",
		"postfix":             "* postfix/main_mailer_type: Internet Site\n",
		"mysql-server":        "* mysql-server/root_password: (password omitted)\n",
		"ok":                  "* ok/q: x\n", // the good line of a file with a bad one is kept
		"foo":                 "  foo/unseen: later\n",
	} {
		if got := mustSh(t, g, "debconf-show "+pkg); got != want {
			t.Errorf("debconf-show %s = %q, want %q", pkg, got, want)
		}
	}
	// A seen line marks a known question.
	mustSh(t, g, "echo 'foo foo/unseen seen true' | debconf-set-selections")
	if got := mustSh(t, g, "debconf-show foo"); got != "* foo/unseen: later\n" {
		t.Errorf("after the seen line: %q", got)
	}
}

// TestDpkgReconfigure follows unattended-upgrades through its debconf
// question: off by default, turned on by a preseed and a reconfigure (the
// Debian base template's script), and off again.
func TestDpkgReconfigure(t *testing.T) {
	g := newGuest(t)
	const auto = "/etc/apt/apt.conf.d/20auto-upgrades"
	if _, errOut, code := sh(t, g, "dpkg-reconfigure -f noninteractive unattended-upgrades"); code != 1 || errOut != "/usr/sbin/dpkg-reconfigure: unattended-upgrades is not installed\n" {
		t.Errorf("before install: %d %q", code, errOut)
	}
	if _, errOut, code := sh(t, g, "dpkg-reconfigure"); code != 1 || !strings.Contains(errOut, "please specify a package to reconfigure") {
		t.Errorf("no package: %d %q", code, errOut)
	}
	mustSh(t, g, "apt-get install -y -qq unattended-upgrades")
	if _, _, code := sh(t, g, "test -e "+auto); code == 0 {
		t.Error("installing turned automatic updates on although the question defaults to false")
	}
	if got := mustSh(t, g, "debconf-show unattended-upgrades"); got != "  unattended-upgrades/enable_auto_updates: false\n" {
		t.Errorf("debconf-show after install: %q", got)
	}
	if got := mustSh(t, g, "systemctl is-enabled unattended-upgrades"); got != "enabled\n" {
		t.Errorf("unit: %q", got)
	}

	mustSh(t, g, "set -euo pipefail\necho 'unattended-upgrades unattended-upgrades/enable_auto_updates boolean true' | debconf-set-selections\ndpkg-reconfigure -f noninteractive unattended-upgrades")
	want := "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n"
	if got := mustSh(t, g, "cat "+auto); got != want {
		t.Errorf("after turning it on: %q", got)
	}
	mustSh(t, g, "echo 'unattended-upgrades unattended-upgrades/enable_auto_updates boolean false' | debconf-set-selections && dpkg-reconfigure --frontend=noninteractive unattended-upgrades")
	if got := mustSh(t, g, "cat "+auto); !strings.Contains(got, `Unattended-Upgrade "0";`) {
		t.Errorf("after turning it off: %q", got)
	}
	// Base packages are installed and reconfigure without effect.
	mustSh(t, g, "dpkg-reconfigure -f noninteractive tzdata")
	if p := mustSh(t, g, "command -v dpkg-reconfigure debconf-set-selections"); p != "/usr/sbin/dpkg-reconfigure\n/usr/bin/debconf-set-selections\n" {
		t.Errorf("command -v: %q", p)
	}
}

// TestDebconfPreseedBeforeInstall: an answer given before the package is
// installed is what its postinst acts on.
func TestDebconfPreseedBeforeInstall(t *testing.T) {
	g := newGuest(t)
	mustSh(t, g, "echo 'unattended-upgrades unattended-upgrades/enable_auto_updates boolean true' | debconf-set-selections && apt-get install -y -qq unattended-upgrades")
	if got := mustSh(t, g, "cat /etc/apt/apt.conf.d/20auto-upgrades"); !strings.Contains(got, `APT::Periodic::Unattended-Upgrade "1";`) {
		t.Errorf("20auto-upgrades: %q", got)
	}
}
