package nodeprobe

import (
	"strings"
	"testing"
)

// TestPveumCommands_ExistingRole: the commands for missing privileges work
// whether or not the Corral role exists already (it usually does, made from
// an older list), and grant it to the token and its user.
func TestPveumCommands_ExistingRole(t *testing.T) {
	cmds := pveumCommands("corral@pve!corral", []string{"VM.Snapshot on /vms", "VM.Backup on /vms", "VM.Snapshot on /vms/100"})
	want := []string{
		`pveum role add Corral --privs "VM.Snapshot VM.Backup" || pveum role modify Corral --append 1 --privs "VM.Snapshot VM.Backup"`,
		"pveum acl modify / --users 'corral@pve' --roles Corral",
		"pveum acl modify / --tokens 'corral@pve!corral' --roles Corral",
	}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
}
