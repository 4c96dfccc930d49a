// Package pvesim simulates a Proxmox VE estate for tests and `corral demo`:
// clusters and standalone nodes that answer the HTTPS API and SSH (`pct`)
// the way real PVE 9 does, over loopback only.
//
// # Design
//
// New starts every node of Options. Each node has its own HTTPS listener on
// 127.0.0.1:0 with its own certificate (issued by a per-cluster CA with the
// subjects PVE uses, so fingerprint pinning is exercised) and its own SSH
// server with its own ed25519 host key. Sim.Node gives a node's API URL,
// certificate Fingerprint (upper-case colon hex, as PVE shows it), SSHAddr,
// SSHHostKey and root password.
//
// The nodes of a cluster share one state (guests, tokens) guarded by one
// mutex, as pmxcfs would; a standalone node is an estate of its own. A
// request for /nodes/{other}/… is forwarded over HTTPS to that node, like
// pveproxy's proxyto, so the target's faults and down state apply and an
// unreachable node yields 595. VMIDs are unique per estate and shared by
// containers and QEMU VMs (VMs only appear in lists; they cannot be driven).
//
// Answers follow /work/shared/reference/proxmox-api.md: the {"data": …}
// envelope, PVE's JSON types (0/1 booleans, numeric strings where PVE emits
// them, absent optional keys), messages in the HTTP reason phrase and in the
// body's "message", 400 parameter errors with the JSONSchema texts, 401 with
// an empty body, 403 "Permission check failed (path, Priv)", 500 for business
// errors, 501 for unknown paths. Error answers are written on a hijacked
// connection because net/http cannot set a reason phrase.
//
// # Tokens and privileges
//
// Tokens (Options.Tokens, Sim.AddToken) carry their effective ACL; grants
// propagate to sub-paths. CorralACL is exactly what Corral needs; a
// privilege-separated token without ACLs gets 403 on guarded endpoints and
// empty lists where PVE filters instead. root@pam without privsep has every
// privilege. DemoOptions installs DemoTokenID/DemoTokenSecret.
//
// # Tasks
//
// Create, start, stop, shutdown, reboot, delete and template downloads
// return a UPID at once and run a worker that logs realistic lines over
// about Options.TaskDuration, then ends with TASK OK, TASK WARNINGS: n or
// TASK ERROR: msg. Sim.WaitTasks waits for every task.
//
// # Faults
//
// Node.Faults().Set(Fault{Path, Method, Kind, Status, Message, Delay, Times})
// injects per-request failures, checked before authentication:
//
//	FaultLatency  sleep Delay, then answer normally
//	FaultStatus   answer Status with Message as reason phrase (e.g. 500, 595, 596)
//	FaultHang     never answer; ends when the client gives up
//	FaultDrop     close the connection without an answer
//
// Path is the API path after /api2/json; a trailing "*" matches a prefix.
// Times limits how often a fault fires (0 = until Clear). Besides faults,
// Node.RotateCertificate, Node.RotateHostKey and Node.SetDown change the
// node the way a reinstall, a new host key or a power cut would.
//
// # Persistence
//
// With Options.Persist the estate outlives the process: certificates, host
// keys, ports (a port taken meanwhile is replaced), guests with their
// state and files, and downloaded templates are saved in Options.Dir after
// every change and on Close, and New restores them (Sim.Restored); then
// Options.Guests seed nothing. Tasks are not kept. `corral demo` uses it.
//
// # SSH, pct and the guest sandbox
//
// Each node's sshd accepts root with the password or an authorized key. The
// exec command is split like a POSIX shell would (mvdan.cc/sh); `pct list`,
// `status`, `start`, `stop`, `exec`, `enter`, `push` and `pull` are
// implemented with pct's texts and exit codes (255 for pct's own errors),
// anything else is "bash: X: command not found" (127). A session's PTY,
// window changes, stdin EOF and signals reach the command; INT/TERM/HUP end
// it with 128+n, KILL with an exit-signal.
//
// Commands inside a container run in package pvesim/guest: every container
// has a private directory under the Sim's root (Node.ContainerDir) that the
// guest sandbox treats as "/", so `pct exec` never touches the real host.
// `pct push`/`pull` move files between that directory and the node's own
// directory (Node.HostDir), both confined with os.Root. Stopping a container
// ends its sessions.
package pvesim
