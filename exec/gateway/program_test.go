package gateway

import (
	"fmt"
	"strings"
	"testing"
)

func TestProgramName(t *testing.T) {
	for _, tc := range []struct{ command, want string }{
		{"uptime", "uptime"},
		{"mysql -u root -pS3cret", "mysql"},
		{"  /usr/bin/psql postgres://u:S3cret@db/x", "/usr/bin/psql"},
		{"PGPASSWORD=S3cret psql -h db", "psql"},
		{"A=1 B='S3cret value' C=\"x y\" env", "env"},
		{`TOKEN=a\ S3cret curl -H x`, "curl"},
		{"echo S3cret|passwd --stdin root", "echo"},
		{"'my tool' --key S3cret", "my tool"},
		{`"quoted"prog arg`, "quotedprog"},
		{"x;S3cret", "x"},
		{"FOO='unterminated S3cret", "(command)"},
		{">/tmp/x echo S3cret", "(command)"},
		{"(echo S3cret)", "(command)"},
		{"''", "(command)"},
		{"SECRET=S3cret", "(command)"},
		{strings.Repeat("p", 100) + " S3cret", strings.Repeat("p", maxProgramName) + "…"},
		{"prog\x1b[2J arg", "prog[2J"},
	} {
		if got := programName(tc.command); got != tc.want {
			t.Errorf("programName(%q) = %q, want %q", tc.command, got, tc.want)
		}
	}
}

func FuzzProgramName(f *testing.F) {
	f.Add("PGPASSWORD=S3cret psql -h db")
	f.Add(`A="x \" y" 'b c' d`)
	f.Fuzz(func(t *testing.T, command string) {
		got := programName(command)
		if len(got) > maxProgramName+len("…") {
			t.Fatalf("%q is too long", got)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("control character in %q", got)
		}
	})
}

// TestGateway_AuditKeepsProgramOnly: the arguments of a command run
// through the gateway, which may hold secrets, stay out of the audit log
// unless the gateway is told to keep commands.
func TestGateway_AuditKeepsProgramOnly(t *testing.T) {
	const secret = "S3cret-on-the-command-line"
	command := fmt.Sprintf("105 -- PGPASSWORD=%s echo --password=%s", secret, secret)
	for _, keep := range []bool{false, true} {
		env := startGateway(t, func(c *Config, _ *Deps) { c.AuditCommands = keep })
		c := env.mustDial(t, "alice")
		if out, _, code := run(t, c, command, ""); code != 0 || !strings.Contains(out, secret) {
			t.Fatalf("command: %d %q", code, out)
		}
		starts := env.audit.find(EventSessionStart)
		ends := env.audit.find(EventSessionEnd)
		if len(starts) != 1 || len(ends) != 1 || starts[0].VMID != 105 || ends[0].Node != "pve1" {
			t.Fatalf("session events %+v %+v", starts, ends)
		}
		if !keep {
			if starts[0].Command != "echo" || ends[0].Command != "echo" {
				t.Fatalf("audited command %q / %q, want the program name", starts[0].Command, ends[0].Command)
			}
			env.audit.mu.Lock()
			all := fmt.Sprintf("%+v", env.audit.events)
			env.audit.mu.Unlock()
			if s := all; strings.Contains(s, secret) {
				t.Fatalf("the secret reached the audit log: %s", s)
			}
		} else if !strings.Contains(starts[0].Command, "--password="+secret) {
			t.Fatalf("AuditCommands: audited %q", starts[0].Command)
		}
	}
}
