// Package exec is Corral's SSH side. Outbound, it connects to Proxmox hosts
// (ProbeHost, Dial) and runs `pct exec`/`pct enter` there with or without a
// PTY. Inbound, Server is the built-in SSH gateway that authenticates Corral
// users and proxies their sessions into their containers; it never gives a
// shell on the Corral host itself.
//
// The package imports no other package of Corral: its needs (users, keys,
// containers, audit records) are small interfaces that main satisfies.
package exec
