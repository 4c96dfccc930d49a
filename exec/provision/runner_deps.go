package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"corral/exec"
	"corral/exec/inspect"
)

// Job states, the same words the store uses.
const (
	JobQueued      = "queued"
	JobRunning     = "running"
	JobFailed      = "failed"
	JobInterrupted = "interrupted"
	JobDone        = "done"
	JobDeleted     = "deleted"
)

// Log entry kinds. Every kind but EntryLog is also a typed, persisted event
// of the container (the words match the store's event types).
const (
	EntryLog         = "log"
	EntryStepStarted = "step_started"
	EntryStepDone    = "step_done"
	EntryScriptDone  = "script_done"
	EntryService     = "service_ready"
	EntryServices    = inspect.ServicesEvent // the whole discovery, its services in Data
	EntryError       = "error"
	EntryReady       = "ready"
	EntryInterrupted = "interrupted"
	EntryRetried     = "retried"
	EntryDeleted     = "deleted"
)

// Job is a container creation job as the runner sees it.
type Job struct {
	ID          string
	UserID      string
	ContainerID string
	Plan        Plan
	State       string
	Step        string   // key of the step running or last run
	Done        []string // keys of completed steps
	Attempts    int
	CreateUPID  string
	Error       *StepError
	Services    []inspect.Service
	Created     time.Time
	Updated     time.Time
}

// Finished reports whether the job has stopped for good or until a retry.
func (j Job) Finished() bool {
	return j.State != JobQueued && j.State != JobRunning
}

// IsDone reports whether step key has completed.
func (j Job) IsDone(key string) bool {
	for _, d := range j.Done {
		if d == key {
			return true
		}
	}
	return false
}

// StepError is why a step failed, with what the user needs to act on it.
type StepError struct {
	Step     string   // step key
	Message  string   // what went wrong, in words
	Command  string   // the command, as a user would type it
	ExitCode int      // 0 when the failure was not a command's exit
	Output   []string // the command's last output lines
}

func (e *StepError) Error() string {
	msg := e.Message
	if e.Command != "" && e.ExitCode != 0 && !strings.Contains(msg, "exit code") {
		msg += fmt.Sprintf(" (%s exited with code %d)", e.Command, e.ExitCode)
	}
	if n := len(e.Output); n > 0 {
		msg += ": " + e.Output[n-1]
	}
	return msg
}

// LogEntry is one line of a job's log: command output (EntryLog) or a step
// marker. Seq numbers a job's entries from 1 without gaps; the store assigns
// it.
type LogEntry struct {
	Seq    uint64
	Time   time.Time
	Kind   string
	Step   string // step key
	Script string // script name, for output and markers of script steps
	Text   string
	// Data is added to the data of a marker's container event (e.g. the
	// services a discovery found); the log does not keep it.
	Data map[string]string
}

// Terminal reports whether e ends a run of the job.
func (e LogEntry) Terminal() bool {
	switch e.Kind {
	case EntryReady, EntryError, EntryInterrupted, EntryDeleted:
		return true
	}
	return false
}

// JobStore keeps jobs and their logs. AppendLog numbers the entries and
// also records every non-log entry as a typed event of the container, in
// one transaction with the log: a reader who sees a marker finds its event.
type JobStore interface {
	CreateJob(ctx context.Context, p Plan) (Job, error)
	Job(ctx context.Context, userID, jobID string) (Job, error)
	SaveJob(ctx context.Context, j Job) error
	// SavePlan replaces the saved plan of a failed or interrupted job with
	// j.Plan (the scripts its owner chose to take from the template's
	// current version); any other state is refused.
	SavePlan(ctx context.Context, j Job) error
	ActiveJobs(ctx context.Context) ([]Job, error)
	AppendLog(ctx context.Context, j Job, entries []LogEntry) ([]LogEntry, error)
	JobLog(ctx context.Context, userID, jobID string, after uint64) ([]LogEntry, error)
}

// ProxmoxOps are the Proxmox calls the pipeline makes on the node that
// holds the container. Errors of a dropped connection should match
// ErrDropped, and a missing container ErrGuestMissing.
type ProxmoxOps interface {
	// CreateLXC sends the plan's create request with a random root password
	// that is discarded and notes as the container's description, and
	// returns the task's UPID.
	CreateLXC(ctx context.Context, p Plan, notes string) (string, error)
	// Guest reads what tells whose a container is (ErrGuestMissing when
	// there is none).
	Guest(ctx context.Context, node string, vmid int) (GuestInfo, error)
	Start(ctx context.Context, node string, vmid int) (string, error)
	// Status is "running", "stopped", ...
	Status(ctx context.Context, node string, vmid int) (string, error)
	// Delete stops (if needed) and destroys the container.
	Delete(ctx context.Context, node string, vmid int) (string, error)
	WaitTask(ctx context.Context, node, upid string, onLog func(string)) error
}

// Shell runs pct in containers on a node's host; *exec.Host is one.
type Shell interface {
	exec.Pcter
	Close() error
}

// FeatureSetter sets a container's feature flags as root on its host (see
// exec.Host.SetFeatures); a Shell that is not one cannot run the features
// step.
type FeatureSetter interface {
	SetFeatures(ctx context.Context, vmid int, features string, stdout, stderr io.Writer) (int, error)
}

// ErrNoFeatureSetter reports a Shell that cannot run pct set.
var ErrNoFeatureSetter = errors.New("this connection to the host cannot set container features")

// Connector opens a user's node: its API and an SSH connection to its host.
type Connector interface {
	Proxmox(ctx context.Context, userID, nodeID string) (ProxmoxOps, error)
	Shell(ctx context.Context, userID, nodeID string) (Shell, error)
}

// Errors the Connector's implementations report.
var (
	// ErrDropped marks a connection that broke mid-call; the call is
	// retried once after reconnecting.
	ErrDropped = errors.New("the connection dropped")
	// ErrGuestMissing reports a container that does not exist on Proxmox.
	ErrGuestMissing = errors.New("the container does not exist on Proxmox")
	// ErrJobState reports an action the job's state does not allow.
	ErrJobState = errors.New("the job cannot do that in its current state")
	// ErrQueueFull reports too many jobs waiting.
	ErrQueueFull = errors.New("too many creation jobs are waiting; try again later")
)

// droppedSSH reports errors that mean the SSH connection to the host broke
// rather than the command failing (package installs restart networking).
func droppedSSH(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrDropped) || errors.Is(err, exec.ErrExitMissing) || errors.Is(err, exec.ErrUnreachable) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"eof", "channel open fail", "use of closed network connection", "connection reset", "broken pipe", "not connected", "socket is closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
