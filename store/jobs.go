package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// JobState is where a container creation job stands.
type JobState string

// Job states. A job is active while queued or running; every other state is
// final until the user retries (failed, interrupted) or deletes it.
const (
	JobQueued      JobState = "queued"
	JobRunning     JobState = "running"
	JobFailed      JobState = "failed"
	JobInterrupted JobState = "interrupted"
	JobDone        JobState = "done"
	JobDeleted     JobState = "deleted" // the container was deleted from the progress page
)

// Active reports whether the job is queued or running.
func (s JobState) Active() bool { return s == JobQueued || s == JobRunning }

// Stopped reports whether the job failed or was interrupted: the states a
// user may retry or delete.
func (s JobState) Stopped() bool { return s == JobFailed || s == JobInterrupted }

func (s JobState) valid() bool {
	return slices.Contains([]JobState{JobQueued, JobRunning, JobFailed, JobInterrupted, JobDone, JobDeleted}, s)
}

// Job is a container creation job: the plan as the user reviewed it, and
// how far the provisioning pipeline got with it.
type Job struct {
	ID          string
	UserID      string
	ContainerID string // the container record CreateJob made with the job
	Plan        Plan
	State       JobState
	Step        string   // key of the step running or last run
	Done        []string // keys of completed steps, in order
	Attempts    int
	CreateUPID  string // the create task, so a restart waits for it instead of creating twice
	Error       *StepError
	Services    []Service // what the discovery step found
	Created     time.Time
	Updated     time.Time
}

// IsDone reports whether step key has completed.
func (j Job) IsDone(key string) bool { return slices.Contains(j.Done, key) }

// StepError is why a job stopped: the step, what went wrong, the command
// as a user would type it with its exit code, and its last output lines.
type StepError struct {
	Step     string   `json:"step"`
	Message  string   `json:"message"`
	Command  string   `json:"command,omitempty"`
	ExitCode int      `json:"exit_code,omitempty"` // 0 when the failure was not a command's exit
	Output   []string `json:"output,omitempty"`
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

// jobRecord is a job as stored. Node, VMID, hostname and template repeat
// the plan's, for the container and event records made from the job.
type jobRecord struct {
	V            int        `json:"v"`
	ID           string     `json:"id"`
	NodeID       string     `json:"node_id"`
	VMID         int        `json:"vmid"`
	Hostname     string     `json:"hostname"`
	TemplateID   string     `json:"template_id,omitempty"`
	TemplateName string     `json:"template_name,omitempty"`
	ContainerID  string     `json:"ct_id,omitempty"`
	State        JobState   `json:"state"`
	Step         string     `json:"step,omitempty"`
	Done         []string   `json:"done,omitempty"`
	Attempts     int        `json:"attempts"`
	CreateUPID   string     `json:"create_upid,omitempty"`
	Error        *StepError `json:"error,omitempty"`
	Services     []Service  `json:"services,omitempty"`
	Plan         Plan       `json:"plan"`
	Created      time.Time  `json:"created"`
	Updated      time.Time  `json:"updated"`
}

func (r jobRecord) job(userID string) Job {
	return Job{
		ID: r.ID, UserID: userID, ContainerID: r.ContainerID, Plan: r.Plan, State: r.State, Step: r.Step,
		Done: r.Done, Attempts: r.Attempts, CreateUPID: r.CreateUPID, Error: r.Error, Services: r.Services,
		Created: r.Created, Updated: r.Updated,
	}
}

func (r *jobRecord) fill(j Job) {
	r.State, r.Step, r.Done, r.Attempts = j.State, j.Step, j.Done, j.Attempts
	r.CreateUPID, r.Error, r.Services = j.CreateUPID, j.Error, j.Services
}

// lifecycleFor is the container lifecycle a job state implies, so a
// container can never stay "creating" once its job has ended.
func lifecycleFor(state JobState) string {
	switch state {
	case JobDone:
		return LifecycleReady
	case JobFailed, JobInterrupted:
		return LifecycleError
	}
	return LifecycleCreating
}

// CreateJob stores a new queued job for plan together with its container
// record (lifecycle creating, with the plan's template id and name), linked
// both ways, in one transaction. The plan needs UserID, NodeID (one of the
// user's nodes), VMID and Hostname.
func (db *DB) CreateJob(ctx context.Context, plan Plan) (Job, Container, error) {
	now := db.now().UTC()
	j := Job{ID: newID(), UserID: plan.UserID, Plan: plan, State: JobQueued, Created: now, Updated: now}
	c := Container{
		UserID: plan.UserID, NodeID: plan.NodeID, VMID: plan.VMID, Hostname: plan.Hostname,
		TemplateID: plan.TemplateID, TemplateName: plan.TemplateName,
		Lifecycle: LifecycleCreating, JobID: j.ID,
	}
	if err := validateContainer(&c); err != nil {
		return Job{}, Container{}, fmt.Errorf("store: create job: %w", err)
	}
	crec := containerRecord{V: recordVersion, ID: newID(), Created: now, Updated: now}
	crec.fill(c)
	j.ContainerID = crec.ID
	rec := jobRecord{V: recordVersion, ID: j.ID, NodeID: plan.NodeID, VMID: plan.VMID, Hostname: plan.Hostname,
		TemplateID: plan.TemplateID, TemplateName: plan.TemplateName,
		ContainerID: j.ContainerID, Plan: plan, Created: now, Updated: now}
	rec.fill(j)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := putNewContainer(tx, j.UserID, &crec); err != nil {
			return err
		}
		jb, err := createUserBucket(tx, bucketJobs, j.UserID)
		if err != nil {
			return err
		}
		return put(jb, []byte(j.ID), rec)
	})
	if err != nil {
		return Job{}, Container{}, fmt.Errorf("store: create job for %d: %w", plan.VMID, err)
	}
	return j, crec.container(j.UserID), nil
}

// Job returns one of the user's jobs; another user's id gives ErrNotFound.
func (db *DB) Job(ctx context.Context, userID, id string) (Job, error) {
	var j Job
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rec, err := jobRecordByID(tx, userID, id)
		j = rec.job(userID)
		return err
	})
	if err != nil {
		return Job{}, fmt.Errorf("store: job %q: %w", id, err)
	}
	return j, nil
}

// SaveJob writes the mutable fields of the user's job j (state, step, done
// steps, attempts, create task, error, services) and, in the same
// transaction, the lifecycle of its container: done → ready, failed or
// interrupted → error, deleted → the container record is removed.
func (db *DB) SaveJob(ctx context.Context, j Job) error {
	if !j.State.valid() {
		return fmt.Errorf("store: save job: %w: unknown state %q", ErrInvalid, j.State)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := jobRecordByID(tx, j.UserID, j.ID)
		if err != nil {
			return err
		}
		rec.fill(j)
		rec.Updated = db.now().UTC()
		if err := put(userBucket(tx, bucketJobs, j.UserID), []byte(rec.ID), rec); err != nil {
			return err
		}
		return syncContainer(tx, j.UserID, rec, rec.Updated)
	})
	if err != nil {
		return fmt.Errorf("store: save job %q: %w", j.ID, err)
	}
	return nil
}

// SaveJobPlan replaces the plan of the user's job, which must be failed or
// interrupted: only a retry the user asked for may change what a stopped
// job will still run, and a job that runs or has finished keeps its plan.
// Another state gives ErrConflict. The plan must still be for the same
// container (owner, node, VMID and hostname), else ErrInvalid.
func (db *DB) SaveJobPlan(ctx context.Context, userID, id string, plan Plan) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := jobRecordByID(tx, userID, id)
		if err != nil {
			return err
		}
		if plan.UserID != userID || plan.NodeID != rec.NodeID || plan.VMID != rec.VMID || plan.Hostname != rec.Hostname {
			return fmt.Errorf("%w: the plan is for another container", ErrInvalid)
		}
		if !rec.State.Stopped() {
			return fmt.Errorf("%w: the job is %s", ErrConflict, rec.State)
		}
		rec.Plan, rec.Updated = plan, db.now().UTC()
		return put(userBucket(tx, bucketJobs, userID), []byte(rec.ID), rec)
	})
	if err != nil {
		return fmt.Errorf("store: save plan of job %q: %w", id, err)
	}
	return nil
}

// syncContainer applies a job's state to its container record. A container
// record the user already removed stays removed.
func syncContainer(tx *bolt.Tx, userID string, rec jobRecord, now time.Time) error {
	crec, err := containerRecordByID(tx, userID, rec.ContainerID)
	if err == ErrNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	b := userBucket(tx, bucketContainers, userID)
	if rec.State == JobDeleted {
		return b.Delete([]byte(crec.ID))
	}
	if lc := lifecycleFor(rec.State); crec.Lifecycle != lc {
		crec.Lifecycle, crec.Updated = lc, now
		return put(b, []byte(crec.ID), crec)
	}
	return nil
}

// endJobOfDeleted marks the user's job jobID deleted when its container
// record goes, unless the job is queued or running (the pipeline then
// fails on its own). A job that is gone already is fine.
func endJobOfDeleted(tx *bolt.Tx, userID, jobID string, now time.Time) error {
	if jobID == "" {
		return nil
	}
	rec, err := jobRecordByID(tx, userID, jobID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rec.State.Active() || rec.State == JobDeleted {
		return nil
	}
	rec.State, rec.Updated = JobDeleted, now
	return put(userBucket(tx, bucketJobs, userID), []byte(rec.ID), rec)
}

// ActiveJobs returns every user's queued or running jobs, oldest first: the
// work a restarted Corral must resume.
func (db *DB) ActiveJobs(ctx context.Context) ([]Job, error) {
	var out []Job
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketJobs)).ForEachBucket(func(uid []byte) error {
			return tx.Bucket([]byte(bucketJobs)).Bucket(uid).ForEach(func(_, v []byte) error {
				var rec jobRecord
				if err := decode(v, &rec); err != nil {
					return err
				}
				if rec.State.Active() {
					out = append(out, rec.job(string(uid)))
				}
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: active jobs: %w", err)
	}
	slices.SortFunc(out, func(a, b Job) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func jobRecordByID(tx *bolt.Tx, userID, id string) (jobRecord, error) {
	return ownedRecord[jobRecord](tx, bucketJobs, userID, id)
}
