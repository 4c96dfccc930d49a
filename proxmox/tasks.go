package proxmox

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TaskStatus is GET /nodes/{node}/tasks/{upid}/status.
type TaskStatus struct {
	UPID       string `json:"upid"`
	Node       string `json:"node"`
	Status     string `json:"status"`     // running or stopped
	ExitStatus string `json:"exitstatus"` // set once stopped
	Type       string `json:"type"`
	ID         string `json:"id"`
	User       string `json:"user"`
	TokenID    string `json:"tokenid"`
	PID        Int    `json:"pid"`
	PStart     Int    `json:"pstart"`
	StartTime  Int    `json:"starttime"`
}

// Running reports whether the task is still running.
func (t TaskStatus) Running() bool { return t.Status == "running" }

// Succeeded reports whether a stopped task ended well: "OK", or "WARNINGS: n".
func (t TaskStatus) Succeeded() bool {
	return !t.Running() && TaskOK(t.ExitStatus)
}

// TaskOK reports whether an exit status means success.
func TaskOK(exitStatus string) bool {
	return exitStatus == "OK" || strings.HasPrefix(exitStatus, "WARNINGS:")
}

func taskPath(node, upid string, rest string) string {
	return apiPath("nodes", node, "tasks", upid, rest)
}

// TaskStatus returns the status of a task on node (the node in the UPID).
func (c *Client) TaskStatus(ctx context.Context, node, upid string) (*TaskStatus, error) {
	var out TaskStatus
	if err := c.get(ctx, taskPath(node, upid, "status"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LogLine is one line of a task log; N counts from 1.
type LogLine struct {
	N Int    `json:"n"`
	T string `json:"t"`
}

// TaskLog returns up to limit lines after the first start lines, and the
// total number of lines in the log.
func (c *Client) TaskLog(ctx context.Context, node, upid string, start, limit int) ([]LogLine, int, error) {
	q := url.Values{"start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(limit)}}
	path := taskPath(node, upid, "log")
	var lines []LogLine
	var total Int
	if err := c.doTotal(ctx, http.MethodGet, path, q, nil, &lines, &total); err != nil {
		return nil, 0, err
	}
	return lines, int(total), nil
}

// logPage is how many log lines WaitTask fetches per request.
const logPage = 500

// WaitTask polls a task until it stops, passing each new log line to onLog
// (if non-nil) exactly once, in order. It returns nil when the task ended with
// OK or WARNINGS, a KindTaskFailed *Error carrying the exit status otherwise
// (with Lock set, and matching ErrLocked, when a lock stopped the task),
// and a KindCanceled or KindTimeout *Error when ctx ends first (the task
// keeps running on the node).
// An empty node is taken from the UPID.
func (c *Client) WaitTask(ctx context.Context, node, upid string, onLog func(line string)) error {
	if node == "" {
		u, err := ParseUPID(upid)
		if err != nil {
			return err
		}
		node = u.Node
	}
	ticker := time.NewTicker(c.poll)
	defer ticker.Stop()
	seen := 0
	// vzdump ends with the bare "job errors"; the reason is its last
	// "ERROR: Backup of VM … failed - …" line.
	lastError := ""
	userLog := onLog
	onLog = func(line string) {
		if rest, ok := strings.CutPrefix(line, "ERROR: "); ok {
			lastError = rest
		}
		if userLog != nil {
			userLog(line)
		}
	}
	for {
		// Status first, then the log: when the status says stopped, the log
		// read afterwards is complete.
		st, err := c.TaskStatus(ctx, node, upid)
		if err != nil {
			return err
		}
		if seen, err = c.streamLog(ctx, node, upid, seen, onLog); err != nil {
			return err
		}
		if !st.Running() {
			if st.Succeeded() {
				return nil
			}
			msg := st.ExitStatus
			if msg == "job errors" && lastError != "" {
				msg = lastError
			}
			return &Error{Kind: KindTaskFailed, Host: c.addr, UPID: upid,
				ExitStatus: st.ExitStatus, Message: msg, Lock: lockIn(msg)}
		}
		select {
		case <-ctx.Done():
			e := c.stoppedWaiting(ctx, "stopped waiting for the task")
			e.UPID = upid
			return e
		case <-ticker.C:
		}
	}
}

// stoppedWaiting is the error of a wait whose ctx ended: canceled or timed out.
func (c *Client) stoppedWaiting(ctx context.Context, msg string) *Error {
	kind := KindCanceled
	if ctx.Err() == context.DeadlineExceeded {
		kind = KindTimeout
	}
	return &Error{Kind: kind, Host: c.addr, Message: msg, Err: ctx.Err()}
}

// streamLog delivers lines numbered above seen and returns the new count.
func (c *Client) streamLog(ctx context.Context, node, upid string, seen int, onLog func(string)) (int, error) {
	return ReadNewLog(ctx, c, node, upid, seen, func(_ int, text string) error {
		if onLog != nil {
			onLog(text)
		}
		return nil
	})
}

// TaskLogReader reads a page of a task's log; *Client is one.
type TaskLogReader interface {
	TaskLog(ctx context.Context, node, upid string, start, limit int) ([]LogLine, int, error)
}

// ReadNewLog passes the log lines numbered above seen to onLine, a page at a
// time, and returns the number of the last one. An error from onLine stops
// the read and is returned.
func ReadNewLog(ctx context.Context, api TaskLogReader, node, upid string, seen int, onLine func(n int, text string) error) (int, error) {
	for {
		lines, _, err := api.TaskLog(ctx, node, upid, seen, logPage)
		if err != nil {
			return seen, err
		}
		// An empty log reads as a single placeholder line, not real output.
		if seen == 0 && len(lines) == 1 && lines[0].N == 1 && lines[0].T == "no content" {
			return seen, nil
		}
		before := seen
		for _, l := range lines {
			if int(l.N) <= seen {
				continue
			}
			seen = int(l.N)
			if err := onLine(seen, l.T); err != nil {
				return seen, err
			}
		}
		if len(lines) < logPage || seen == before {
			return seen, nil
		}
	}
}
