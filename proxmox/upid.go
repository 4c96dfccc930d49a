package proxmox

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// UPID is a parsed task id:
// UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:
type UPID struct {
	Raw       string
	Node      string
	PID       int64
	PStart    int64
	StartTime time.Time
	Type      string // vzcreate, vzstart, vzdestroy, download, ...
	ID        string // the vmid for guest tasks; may be empty
	User      string // user@realm or the full token id user@realm!name
}

// upidPattern is the decoder of pve-common UPID.pm.
var upidPattern = regexp.MustCompile(`^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$`)

// ParseUPID decodes a task id.
func ParseUPID(s string) (UPID, error) {
	m := upidPattern.FindStringSubmatch(s)
	if m == nil {
		return UPID{}, fmt.Errorf("proxmox: malformed UPID %q", s)
	}
	pid, _ := strconv.ParseInt(m[3], 16, 64) // the pattern guarantees hex
	pstart, _ := strconv.ParseInt(m[4], 16, 64)
	start, _ := strconv.ParseInt(m[5], 16, 64)
	return UPID{
		Raw:       s,
		Node:      m[1],
		PID:       pid,
		PStart:    pstart,
		StartTime: time.Unix(start, 0).UTC(),
		Type:      m[6],
		ID:        m[7],
		User:      m[8],
	}, nil
}

// String returns the raw UPID.
func (u UPID) String() string { return u.Raw }
