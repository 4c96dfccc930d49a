// Package inspect reads inside a container over `pct exec`: the services
// it runs, with their ports and saved credential keys (Discover), a
// service's journal (ServiceLogs) and a credential file's values on
// demand (Credentials); and it restarts, stops or starts a service
// (ControlService). Every read is one capped command; names and verbs are
// checked before they reach a command line.
package inspect
