package handlers

import (
	"corral/exec"
	"corral/store"
)

// HostTargetFor is how to reach a stored node's Proxmox host over SSH, with
// its pinned host key; main and tests share it.
func HostTargetFor(n store.Node) exec.HostTarget {
	return exec.HostTarget{
		Host: n.Host, Port: n.SSHPort, User: n.SSHUser,
		Password: n.SSHPassword, PrivateKey: n.SSHKey, HostKey: n.SSHHostKey,
	}
}
