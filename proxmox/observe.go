package proxmox

import (
	"strings"
	"time"
)

// Request describes one finished API request for an observer: what Corral
// asked, how the node answered and how long it took. It holds no secret.
type Request struct {
	Host     string // host:port
	Method   string
	Path     string // as sent, e.g. /nodes/pve1/lxc/100/status/current
	Status   int    // HTTP status; 0 when no answer came
	Kind     Kind   // KindUnknown on success
	Duration time.Duration
}

// WithObserver calls f after every request attempt (each retry counts), for
// metrics. f must be quick: it runs on the request's goroutine.
func WithObserver(f func(Request)) Option { return func(o *options) { o.observer = f } }

// placeholders name the variable segment that follows a fixed one.
var placeholders = map[string]string{
	"nodes": "{node}", "lxc": "{vmid}", "qemu": "{vmid}", "storage": "{storage}",
	"tasks": "{upid}", "snapshot": "{snapname}", "content": "{volume}",
}

// Endpoint is path with its variable segments replaced by placeholders
// (/nodes/{node}/lxc/{vmid}/status/current), so that a metric labelled by
// endpoint has as many series as the API has routes, not as the estate
// has containers.
func Endpoint(path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := 1; i < len(segs); i++ {
		if p, ok := placeholders[segs[i-1]]; ok {
			segs[i] = p
			i++ // the placeholder itself names no further segment
		}
	}
	return "/" + strings.Join(segs, "/")
}
