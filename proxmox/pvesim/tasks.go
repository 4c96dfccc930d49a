package pvesim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// task is a worker task with a UPID and a log, like a forked PVE worker.
type task struct {
	upid          string
	node          string
	pid, pstart   uint32
	starttime     int64
	typ, id, user string // user is the full id, e.g. corral@pve!corral
	lines         []string
	done          bool
	exitstatus    string
	endtime       int64
	warnings      int
	finished      chan struct{} // closed when done
}

var upidRe = regexp.MustCompile(`^UPID:([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$`)

// taskLog is what a worker function writes to.
type taskLog struct {
	n    *Node
	t    *task
	step time.Duration
}

// Log appends a line to the task log, then lets task time pass.
func (tl *taskLog) Log(format string, args ...any) bool {
	tl.n.estate.mu.Lock()
	tl.t.lines = append(tl.t.lines, fmt.Sprintf(format, args...))
	tl.n.estate.mu.Unlock()
	return tl.n.sim.sleep(tl.step)
}

// Warn logs a warning line; the task then ends with "WARNINGS: n".
func (tl *taskLog) Warn(format string, args ...any) bool {
	tl.n.estate.mu.Lock()
	tl.t.warnings++
	tl.n.estate.mu.Unlock()
	return tl.Log("WARN: "+format, args...)
}

// errClosed ends a worker when the simulator shuts down.
var errClosed = fmt.Errorf("interrupted by signal")

// startTask forks a worker: it returns the UPID at once and runs work in the
// background. work's error becomes the task's exit status; about
// TaskDuration/steps passes per log line.
func (n *Node) startTask(tok *token, typ, id string, steps int, work func(tl *taskLog) error) string {
	s := n.sim
	now := s.now()
	t := &task{node: n.name, pid: s.pid(), pstart: uint32(n.uptime()*100) + s.pid(), starttime: now.Unix(),
		typ: typ, id: id, user: tok.spec.FullID(), finished: make(chan struct{})}
	t.upid = fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", n.name, t.pid, t.pstart, t.starttime, typ, id, t.user)
	n.estate.mu.Lock()
	n.tasks[t.upid] = t
	n.taskSeq = append(n.taskSeq, t.upid)
	n.estate.mu.Unlock()

	if steps < 1 {
		steps = 1
	}
	tl := &taskLog{n: n, t: t, step: s.opts.TaskDuration / time.Duration(steps)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := work(tl)
		if err == nil && s.ctx.Err() != nil {
			err = errClosed
		}
		n.endTask(t, err)
		s.changed()
	}()
	return t.upid
}

// endTask records how task t ended.
func (n *Node) endTask(t *task, err error) {
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	switch {
	case err != nil:
		t.lines = append(t.lines, "TASK ERROR: "+err.Error())
		t.exitstatus = err.Error()
	case t.warnings > 0:
		t.lines = append(t.lines, fmt.Sprintf("TASK WARNINGS: %d", t.warnings))
		t.exitstatus = fmt.Sprintf("WARNINGS: %d", t.warnings)
	default:
		t.lines = append(t.lines, "TASK OK")
		t.exitstatus = "OK"
	}
	t.done = true
	close(t.finished)
	t.endtime = n.sim.now().Unix()
}

// WaitTasks blocks until every task started so far has finished. Tests use
// it to get a quiet simulator.
func (s *Sim) WaitTasks() { s.wg.Wait() }

// lookupTask finds a task for the status/log endpoints; the caller holds estate.mu.
func (rq *request) lookupTask() (*task, *apiError) {
	upid := rq.vars["upid"]
	m := upidRe.FindStringSubmatch(upid)
	if m == nil {
		return nil, errParam(map[string]string{"upid": "unable to parse worker upid"})
	}
	t := rq.n.tasks[upid]
	if t == nil || m[1] != rq.n.name {
		return nil, errParam(map[string]string{"upid": "no such task"})
	}
	// Owners see their tasks (a user also its tokens'); others need Sys.Audit.
	user, _, _ := strings.Cut(t.user, "!")
	own := t.user == rq.tok.spec.FullID() || user == rq.tok.spec.FullID()
	if !own && !rq.tok.can("/nodes/"+rq.n.name, "Sys.Audit") {
		return nil, errPerm("/nodes/"+rq.n.name, "Sys.Audit")
	}
	return t, nil
}

func getTaskStatus(rq *request) (any, error) {
	rq.n.estate.mu.Lock()
	defer rq.n.estate.mu.Unlock()
	t, aerr := rq.lookupTask()
	if aerr != nil {
		return nil, aerr
	}
	user, tokenName, isToken := strings.Cut(t.user, "!")
	out := map[string]any{
		"upid": t.upid, "node": t.node, "pid": t.pid, "pstart": t.pstart, "starttime": t.starttime,
		"type": t.typ, "id": t.id, "user": user, "status": "running",
	}
	if isToken {
		out["tokenid"] = tokenName
	}
	if t.done {
		out["status"] = "stopped"
		out["exitstatus"] = t.exitstatus
	}
	return out, nil
}

func getTaskLog(rq *request) (any, error) {
	rq.n.estate.mu.Lock()
	defer rq.n.estate.mu.Unlock()
	t, aerr := rq.lookupTask()
	if aerr != nil {
		if aerr.errors != nil && aerr.errors["upid"] == "no such task" {
			return paged{data: []any{map[string]any{"n": 1, "t": "unable to open file - No such file or directory"}}, total: 1}, nil
		}
		return nil, aerr
	}
	start := rq.p.intParam("start", 0)
	limit := rq.p.intParam("limit", 50)
	if len(t.lines) == 0 {
		return paged{data: []any{map[string]any{"n": 1, "t": "no content"}}, total: 1}, nil
	}
	rows := []any{}
	for i := start; i < len(t.lines) && (limit == 0 || len(rows) < limit); i++ {
		rows = append(rows, map[string]any{"n": i + 1, "t": t.lines[i]})
	}
	return paged{data: rows, total: len(t.lines)}, nil
}

// getTasks is the node task list (newest first).
func getTasks(rq *request) (any, error) {
	rq.n.estate.mu.Lock()
	defer rq.n.estate.mu.Unlock()
	source := rq.p["source"]
	if source == "" {
		source = "archive"
	}
	vmid := rq.p["vmid"]
	typefilter := rq.p["typefilter"]
	var rows []any
	for i := len(rq.n.taskSeq) - 1; i >= 0; i-- {
		t := rq.n.tasks[rq.n.taskSeq[i]]
		if (source == "archive" && !t.done) || (source == "active" && t.done) {
			continue
		}
		if (vmid != "" && t.id != vmid) || (typefilter != "" && t.typ != typefilter) {
			continue
		}
		user, _, _ := strings.Cut(t.user, "!")
		if t.user != rq.tok.spec.FullID() && user != rq.tok.spec.FullID() && !rq.tok.can("/nodes/"+rq.n.name, "Sys.Audit") {
			continue
		}
		row := map[string]any{"upid": t.upid, "node": t.node, "pid": t.pid, "pstart": t.pstart,
			"starttime": t.starttime, "type": t.typ, "id": t.id, "user": t.user}
		if t.done {
			row["endtime"] = t.endtime
			row["status"] = t.exitstatus
		}
		rows = append(rows, row)
	}
	total := len(rows)
	start, limit := rq.p.intParam("start", 0), rq.p.intParam("limit", 50)
	if start > len(rows) {
		start = len(rows)
	}
	rows = rows[start:]
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	if rows == nil {
		rows = []any{}
	}
	return paged{data: rows, total: total}, nil
}

// vmidString is the UPID/task id of a guest task.
func vmidString(vmid int) string { return strconv.Itoa(vmid) }

// Wait lets one step of task time pass without logging.
func (tl *taskLog) Wait() bool { return tl.n.sim.sleep(tl.step) }
