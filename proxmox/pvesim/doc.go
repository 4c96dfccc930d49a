// Package pvesim simulates a Proxmox VE estate for tests and `corral demo`:
// clusters and standalone nodes that answer the HTTPS API and SSH (`pct`)
// the way real PVE 9 does, over loopback only.
//
// # Design
//
// New starts every node of Options. Each node has its own HTTPS listener
// with its own certificate (issued by a per-cluster CA with the subjects
// PVE uses, so fingerprint pinning is exercised) and its own SSH server
// with its own ed25519 host key, both on the node's own loopback address:
// every estate gets a random 127.A.B.0/24 (never shared by two estates in
// one process), node N is 127.A.B.(10+N), and the members of a cluster
// share one API port and one SSH port, as real members share 8006 and 22.
// Where only 127.0.0.1 can be bound (macOS without aliases) every node
// uses 127.0.0.1 with ports of its own. Sim.Node gives a node's Host, Port,
// API URL, certificate Fingerprint (upper-case colon hex, as PVE shows
// it), SSHAddr, SSHHostKey and root password.
//
// The nodes of a cluster share one state (guests, tokens) guarded by one
// mutex, as pmxcfs would; a standalone node is an estate of its own. A
// request for /nodes/{other}/… is forwarded over HTTPS to that node, like
// pveproxy's proxyto, so the target's faults and down state apply and an
// unreachable node yields 595. VMIDs are unique per estate and shared by
// containers and QEMU VMs (VMs only appear in lists; they cannot be driven).
//
// # Cluster membership
//
// GET /cluster/status lists every member with nodeid, ip (its listening
// address: a client reaches every member at the reported ip and the port
// it used for the first), online (0 while Node.SetDown is in effect) and
// local (1 on the node asked), and the
// cluster row with nodes, the corosync config version and quorate: more
// than half of the members' votes (one each) online. Every member lists
// every member's guests in /cluster/resources; a guest of a member that is
// down is a bare row with status "unknown" (its figures have left PVE's RRD
// cache) and the member's node row is "offline" without figures.
// Sim.AddClusterNode(cluster, name) joins a new member to a running
// cluster as `pvecm add` would: the next node id, the next address in the
// cluster's subnet on the cluster's ports, its own certificate from the cluster CA and its own
// host key (both readable without credentials, as on a real node), the
// cluster's guests, tokens and root's authorized keys; the config version
// goes up by one and every member lists it at once. With Persist a joined
// member comes back after a restart.
//
// # Scale
//
// Scale{Clusters, NodesPerCluster, Standalone, GuestsPerNode}.Options()
// builds a large estate (e.g. 5×8 + 10 nodes, 100 guests each = 50 nodes,
// 5,000 guests) with realistic names and tags, about 70% running, 1 in 20
// a QEMU VM, 1 in 97 a template, and DemoOptions' Corral token. The
// simulator stays cheap at that size: a guest gets its directory and its
// sandbox only when something uses it (pct exec/enter/push/pull,
// ContainerDir), no goroutine runs per guest, and /cluster/resources is
// built in one pass under the estate lock with typed rows and a handful
// of allocations in all. Answers above 1 KiB are gzip-compressed at the
// fastest level when the client accepts gzip.
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
// Create, start, stop, shutdown, reboot, delete, resize, snapshots,
// rollbacks, backups, restores and template downloads return a UPID at once
// and run a worker that logs realistic lines over about
// Options.TaskDuration, then ends with TASK OK, TASK WARNINGS: n or TASK
// ERROR: msg. Sim.WaitTasks waits for every task.
//
// # Container configuration
//
// A container's config is kept as PVE keeps its .conf file: the main
// section (lock included), [pve:pending] and one section per snapshot, all
// as key → value text; GET …/config types the values as PVE's parser does
// and its digest is the SHA-1 of that file, so any change anywhere in it
// (a snapshot, a lock) makes an older digest stale. PUT …/config follows
// update_vm: config lock, "CT is locked (…)", the digest check ("detected
// modified configuration - file changed by other user? Try again."),
// privileges (bind mounts and devices are root@pam's, as are feature flags
// other than nesting), delete/revert, then the change goes to pending and
// is applied at once when stopped; a running container takes description,
// onboot, startup, protection, hostname, cores, tags, cpulimit, cpuunits,
// memory, swap, net[n] and new mount points live and keeps the rest pending
// until its next start (GET …/pending lists them). mp[n] "storage:GiB"
// allocates a volume; removing one from a stopped container leaves
// unused[n], removing that frees the space. Bind-mount sources are
// directories under Node.HostDir and are checked when mounted (hotplug or
// start). PUT …/resize grows rootfs or a mount point ("+2G" or absolute,
// never shrinking) in a "resize" task that holds the config lock; other
// config changes wait for it up to Options.LockTimeout, then fail with
// PVE's "can't lock file … - got timeout".
//
// Storage figures move with the estate: thin volumes (local-lvm) count a
// fifth of their size as used, backups and downloaded templates their size.
//
// # Snapshots, backups and restores
//
// Snapshots are PVE's sections with parent links (the tree), taken under
// lock "snapshot" (lvmthin volumes only: a bind mount makes "snapshot
// feature is not available"), deleted under "snapshot-delete", rolled back
// under "rollback" after stopping the container, with start=1 starting it in
// a separate vzstart task. Name and reserved-name checks answer at once;
// every other refusal is the task's error, as in PVE. The container's files
// are copied with each snapshot, so a rollback undoes what ran inside.
//
// POST /nodes/{node}/vzdump backs containers up with vzdump's INFO: log
// (modes snapshot, suspend, stop; snapshot mode uses a temporary "vzdump"
// snapshot) into storage:backup/vzdump-lxc-VMID-YYYY_MM_DD-HH_MM_SS.tar.zst
// volumes listed by …/storage/{storage}/content?content=backup&vmid=, with
// notes from notes-template. A guest locked by another task fails with
// "ERROR: Backup of VM … failed - CT is locked (…)" and the job with "job
// errors". POST /nodes/{node}/lxc with restore=1 and ostemplate=<backup
// volid> restores config and files to a new VMID, or with force=1 over a
// stopped, unprotected container (new disks, then the old ones removed).
// Only root@pam may restore bind mounts.
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
// node the way a reinstall, a new host key or a power cut would (SetDown
// takes the HTTPS API down; the node's sshd keeps answering).
//
// Node.Requests(method, pattern) counts the requests a node served itself
// by route ("/cluster/resources", "/nodes/{node}/lxc/{vmid}/config"),
// whatever the answer; a forwarded request counts on the member that
// serves it. Node.ClusterRequests sums over the node's cluster, so a test
// can check how often Corral asked without injecting a fault.
//
// # Persistence
//
// With Options.Persist the estate outlives the process: certificates, host
// keys, addresses and ports (a port taken meanwhile is replaced), guests
// with their state and files, and downloaded templates are saved in
// Options.Dir after every change and on Close, and New restores them
// (Sim.Restored); then Options.Guests seed nothing. Tasks are not kept.
// `corral demo` uses it.
//
// # SSH, pct and the guest sandbox
//
// Each node's sshd accepts root with the password or an authorized key. The
// exec command is split like a POSIX shell would (mvdan.cc/sh); `pct list`,
// `status`, `start`, `stop`, `exec`, `enter`, `push`, `pull`, `set` (every
// option, as root@pam), `snapshot`, `delsnapshot`, `rollback`,
// `listsnapshot` and `unlock` are implemented with pct's texts and exit
// codes (255 for pct's own errors; task commands print the task log as
// they run), anything else is "bash: X: command not found" (127). A
// session's PTY, window changes, stdin EOF and signals reach the command;
// INT/TERM/HUP end it with 128+n, KILL with an exit-signal.
//
// Commands inside a container run in package pvesim/guest: every container
// has a private directory under the Sim's root (Node.ContainerDir) that the
// guest sandbox treats as "/", so `pct exec` never touches the real host.
// `pct push`/`pull` move files between that directory and the node's own
// directory (Node.HostDir), both confined with os.Root. Stopping a container
// ends its sessions.
package pvesim
