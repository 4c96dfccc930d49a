// Package access gives Corral's two doors, the web pages and the SSH
// gateway, the same services, so neither door is built from the other:
// sign-in checks and the one login limiter they share, the list of a
// user's containers with the pinned SSH target of the node that holds
// each, looking inside a container over that target, and the audit of
// gateway events. It composes the store, the cluster reader and the SSH
// client; serve builds them once for both.
package access
