// Package gateway is Corral's built-in SSH gateway: `ssh alice@corral`
// authenticates a Corral user (password or registered key, throttled like
// the web login), finds the container asked for among that user's own
// (Directory), and proxies the session into it with `pct exec`/`pct enter`
// on the Proxmox host that holds it, through exec. It never gives a shell
// on the Corral host itself, and refuses port and agent forwarding.
//
// What it needs from the rest of Corral (users, keys, containers, the
// audit log, the login limiter) it declares as small interfaces in Deps.
package gateway
