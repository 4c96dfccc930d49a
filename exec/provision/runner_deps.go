package provision

import (
	"context"
	"errors"
	"io"
	"strings"

	"corral/exec"
	"corral/store"
)

// JobStore keeps jobs and their logs; *store.DB is one. AppendJobLog
// numbers the entries and also records every marker as a typed event of
// the container, in one transaction with the log: a reader who sees a
// marker finds its event.
type JobStore interface {
	CreateJob(ctx context.Context, p store.Plan) (store.Job, store.Container, error)
	Job(ctx context.Context, userID, jobID string) (store.Job, error)
	SaveJob(ctx context.Context, j store.Job) error
	// SaveJobPlan replaces the saved plan of a failed or interrupted job
	// (with the scripts its owner chose to take from the template's
	// current version); any other state is refused.
	SaveJobPlan(ctx context.Context, userID, jobID string, p store.Plan) error
	ActiveJobs(ctx context.Context) ([]store.Job, error)
	AppendJobLog(ctx context.Context, userID, jobID string, entries []store.LogEntry) ([]store.LogEntry, error)
	JobLog(ctx context.Context, userID, jobID string, after uint64) ([]store.LogEntry, error)
}

// ProxmoxOps are the Proxmox calls the pipeline makes on the node that
// holds the container. Errors of a dropped connection should match
// ErrDropped, and a missing container ErrGuestMissing.
type ProxmoxOps interface {
	// CreateLXC sends the plan's create request with a random root password
	// that is discarded and notes as the container's description, and
	// returns the task's UPID.
	CreateLXC(ctx context.Context, p store.Plan, notes string) (string, error)
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

// connector opens a user's node: its API and an SSH connection to its host.
type connector interface {
	Proxmox(ctx context.Context, userID, nodeID string) (ProxmoxOps, error)
	Shell(ctx context.Context, userID, nodeID string) (Shell, error)
}

// Errors the connector reports.
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
