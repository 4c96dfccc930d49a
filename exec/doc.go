// Package exec is Corral's SSH client for Proxmox hosts. It connects to a
// node's host with the node's credentials, only over the host key pinned
// for it (Dial, FetchHostKey, ProbeHost), and runs `pct exec`/`pct enter`
// in containers there, with or without a PTY, passing window changes,
// signals, stdin and the exit status through (Host.Pct). It builds every
// command string it sends itself (QuoteArgs, PctSetFeaturesCommand,
// BindMount) and caps what it keeps of any output (PctOutput, LineWriter).
//
// The package imports no other package of Corral. Its sub-packages build
// on it: gateway (the inbound SSH gateway), inspect (what Corral reads
// inside a container, and its service actions), provision (the creation
// job runner), nodeprobe (testing a node before it is added) and access
// (what the web pages and the gateway share).
package exec
