// Package proxmox is a small client for the Proxmox VE REST API, limited to the
// endpoints Corral uses.
//
// A Client talks to one node with an API token, pins the node's TLS certificate
// by its SHA-256 fingerprint (or verifies a CA chain when asked), puts a deadline
// on every call, retries idempotent reads with a short backoff, and turns every
// failure into a *Error whose Kind the UI can explain in plain words.
// Proxmox's loose JSON (numbers as strings, 0/1 booleans, absent keys) is
// absorbed by the Int, Float and Bool types.
package proxmox
