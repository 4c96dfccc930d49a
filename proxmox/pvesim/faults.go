package pvesim

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultKind says what an injected fault does to a matching request.
type FaultKind int

const (
	// FaultLatency delays the request by Delay, then serves it normally.
	FaultLatency FaultKind = iota + 1
	// FaultStatus answers with Status and Message as the HTTP reason phrase
	// (and as the body's "message"), the way pveproxy reports errors. Use it
	// for 5xx answers and for pveproxy's 595/596 pseudo-statuses.
	FaultStatus
	// FaultHang never answers; the request ends when the client gives up.
	FaultHang
	// FaultDrop hijacks the connection and closes it without a response.
	FaultDrop
)

// Fault is one injected failure on a node's HTTPS API.
type Fault struct {
	// Path is the API path after /api2/json, e.g. "/cluster/resources" or
	// "/nodes/pve1/lxc/105/status/start". A trailing "*" matches any path
	// with that prefix; "" or "*" matches every path.
	Path string
	// Method restricts the fault to one HTTP method ("" = any).
	Method string
	Kind   FaultKind
	// Status and Message are used by FaultStatus. Message defaults to the
	// text PVE would give: "Connection refused" for 595, "Connection timed
	// out" for 596, otherwise http.StatusText.
	Status  int
	Message string
	// Delay is used by FaultLatency.
	Delay time.Duration
	// Times is how many requests the fault hits before it disappears; 0 means forever.
	Times int
}

// Faults holds the faults of one node. Faults are checked in the order they
// were set; the first match applies. It is safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	faults []*Fault
	hits   map[string]int
}

// Set adds a fault.
func (f *Faults) Set(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fault.Kind == FaultStatus && fault.Message == "" {
		fault.Message = defaultFaultMessage(fault.Status)
	}
	f.faults = append(f.faults, &fault)
}

// Clear removes every fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// Hits reports how many requests to path (exact API path) faults have hit.
func (f *Faults) Hits(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

// match returns the fault for the request and uses one of its Times.
func (f *Faults) match(method, path string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if ft.Method != "" && !strings.EqualFold(ft.Method, method) {
			continue
		}
		if !pathMatches(ft.Path, path) {
			continue
		}
		hit := *ft
		if ft.Times > 0 {
			ft.Times--
			if ft.Times == 0 {
				f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
			}
		}
		if f.hits == nil {
			f.hits = map[string]int{}
		}
		f.hits[path]++
		return hit, true
	}
	return Fault{}, false
}

func pathMatches(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return pattern == "" || pattern == path
}

func defaultFaultMessage(status int) string {
	switch status {
	case 595:
		return "Connection refused"
	case 596:
		return "Connection timed out"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "error"
}
