package access

import (
	"corral/exec"
	"corral/store"
)

// HostTarget is how to reach a stored node's Proxmox host over SSH, with
// its pinned host key.
func HostTarget(n store.Node) exec.HostTarget {
	return exec.HostTarget{
		Host: n.Host, Port: n.SSHPort, User: n.SSHUser,
		Password: n.SSHPassword, PrivateKey: n.SSHKey, HostKey: n.SSHHostKey,
	}
}
