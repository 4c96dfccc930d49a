// Package proxmox is a small client for the Proxmox VE REST API, limited to the
// endpoints Corral uses.
//
// A Client talks to one node with an API token, pins the node's TLS certificate
// by its SHA-256 fingerprint (or verifies a CA chain when asked), puts a deadline
// on every call, retries idempotent reads with a short backoff, and turns every
// failure into a *Error whose Kind the UI can explain in plain words.
// Proxmox's loose JSON (numbers as strings, 0/1 booleans, absent keys) is
// absorbed by the Int, Float and Bool types.
//
// Beyond reading and creating containers it changes them the way Proxmox
// lets a token: ConfigChange (sent with the config's digest, so a change
// made against an old config fails with ErrConfigChanged instead of
// overwriting; NeedsRestart tells which options a running container only
// takes at its next start), disk resize, snapshots, vzdump backups and
// restores. Long operations return a UPID for WaitTask; anything stopped by
// another task's lock matches ErrLocked, with Error.Lock naming it.
package proxmox
