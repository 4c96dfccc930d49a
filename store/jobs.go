package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Job states. A job is active while queued or running; every other state is
// final until the user retries (failed, interrupted) or deletes it.
const (
	JobQueued      = "queued"
	JobRunning     = "running"
	JobFailed      = "failed"
	JobInterrupted = "interrupted"
	JobDone        = "done"
	JobDeleted     = "deleted" // the container was deleted from the progress page
)

// Job is a container creation job. Plan is the creation plan as the
// pipeline encoded it (opaque here, so the store does not depend on exec).
type Job struct {
	ID       string
	UserID   string
	NodeID   string
	VMID     int
	Hostname string
	// TemplateID and TemplateName name the template the plan was made
	// from ("" from scratch); CreateJob records them on the container too.
	TemplateID   string
	TemplateName string
	ContainerID  string
	State        string
	Step         string   // key of the step running or last run
	Done         []string // keys of completed steps, in order
	Attempts     int
	CreateUPID   string // the create task, so a restart waits for it instead of creating twice
	Error        *JobError
	Services     []JobService
	Plan         []byte
	Created      time.Time
	Updated      time.Time
}

// JobError is why a job stopped: the step, the command and its exit code,
// and the last lines it printed.
type JobError struct {
	Step     string   `json:"step"`
	Message  string   `json:"message"`
	Command  string   `json:"command,omitempty"`
	ExitCode int      `json:"exit_code,omitempty"`
	Output   []string `json:"output,omitempty"`
}

// JobService is a service found at the end of a job. Credential values stay
// inside the container; only their keys are recorded.
type JobService struct {
	Name           string   `json:"name"`
	Unit           string   `json:"unit,omitempty"`
	Status         string   `json:"status,omitempty"`
	Ports          []int    `json:"ports,omitempty"`
	System         bool     `json:"system,omitempty"`
	CredentialKeys []string `json:"credential_keys,omitempty"`
}

type jobRecord struct {
	V            int          `json:"v"`
	ID           string       `json:"id"`
	NodeID       string       `json:"node_id"`
	VMID         int          `json:"vmid"`
	Hostname     string       `json:"hostname"`
	TemplateID   string       `json:"template_id,omitempty"`
	TemplateName string       `json:"template_name,omitempty"`
	ContainerID  string       `json:"ct_id,omitempty"`
	State        string       `json:"state"`
	Step         string       `json:"step,omitempty"`
	Done         []string     `json:"done,omitempty"`
	Attempts     int          `json:"attempts"`
	CreateUPID   string       `json:"create_upid,omitempty"`
	Error        *JobError    `json:"error,omitempty"`
	Services     []JobService `json:"services,omitempty"`
	Plan         []byte       `json:"plan"`
	Created      time.Time    `json:"created"`
	Updated      time.Time    `json:"updated"`
}

func (r jobRecord) job(userID string) Job {
	return Job{
		ID: r.ID, UserID: userID, NodeID: r.NodeID, VMID: r.VMID, Hostname: r.Hostname,
		TemplateID: r.TemplateID, TemplateName: r.TemplateName, ContainerID: r.ContainerID, State: r.State, Step: r.Step, Done: r.Done, Attempts: r.Attempts,
		CreateUPID: r.CreateUPID, Error: r.Error, Services: r.Services, Plan: r.Plan,
		Created: r.Created, Updated: r.Updated,
	}
}

func (r *jobRecord) fill(j Job) {
	r.State, r.Step, r.Done, r.Attempts = j.State, j.Step, j.Done, j.Attempts
	r.CreateUPID, r.Error, r.Services = j.CreateUPID, j.Error, j.Services
}

func validJobState(s string) bool {
	return slices.Contains([]string{JobQueued, JobRunning, JobFailed, JobInterrupted, JobDone, JobDeleted}, s)
}

// lifecycleFor is the container lifecycle a job state implies, so a
// container can never stay "creating" once its job has ended.
func lifecycleFor(state string) string {
	switch state {
	case JobDone:
		return LifecycleReady
	case JobFailed, JobInterrupted:
		return LifecycleError
	}
	return LifecycleCreating
}

// CreateJob stores a new queued job together with its container record
// (lifecycle creating, with the job's template id and name), linked both
// ways, in one transaction. j needs UserID, NodeID (one of the user's
// nodes), VMID and Plan.
func (db *DB) CreateJob(ctx context.Context, j Job) (Job, Container, error) {
	now := db.now().UTC()
	j.ID, j.State, j.Created, j.Updated = newID(), JobQueued, now, now
	c := Container{
		UserID: j.UserID, NodeID: j.NodeID, VMID: j.VMID, Hostname: j.Hostname,
		TemplateID: j.TemplateID, TemplateName: j.TemplateName,
		Lifecycle: LifecycleCreating, JobID: j.ID,
	}
	if err := validateContainer(&c); err != nil {
		return Job{}, Container{}, fmt.Errorf("store: create job: %w", err)
	}
	if len(j.Plan) == 0 {
		return Job{}, Container{}, fmt.Errorf("store: create job: %w: plan is required", ErrInvalid)
	}
	crec := containerRecord{V: recordVersion, ID: newID(), Created: now, Updated: now}
	crec.fill(c)
	j.ContainerID = crec.ID
	rec := jobRecord{V: recordVersion, ID: j.ID, NodeID: j.NodeID, VMID: j.VMID, Hostname: j.Hostname,
		TemplateID: j.TemplateID, TemplateName: j.TemplateName,
		ContainerID: j.ContainerID, Plan: j.Plan, Created: now, Updated: now}
	rec.fill(j)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := nodeRecordByID(tx, j.UserID, j.NodeID); err != nil {
			return fmt.Errorf("node %q: %w", j.NodeID, err)
		}
		cb, err := createUserBucket(tx, bucketContainers, j.UserID)
		if err != nil {
			return err
		}
		if crec.Seq, err = cb.NextSequence(); err != nil {
			return err
		}
		if err := put(cb, []byte(crec.ID), crec); err != nil {
			return err
		}
		jb, err := createUserBucket(tx, bucketJobs, j.UserID)
		if err != nil {
			return err
		}
		return put(jb, []byte(j.ID), rec)
	})
	if err != nil {
		return Job{}, Container{}, fmt.Errorf("store: create job for %d: %w", j.VMID, err)
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
	if !validJobState(j.State) {
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
// Another state gives ErrConflict.
func (db *DB) SaveJobPlan(ctx context.Context, userID, id string, plan []byte) error {
	if len(plan) == 0 {
		return fmt.Errorf("store: save plan of job %q: %w: plan is required", id, ErrInvalid)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := jobRecordByID(tx, userID, id)
		if err != nil {
			return err
		}
		if rec.State != JobFailed && rec.State != JobInterrupted {
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
	if rec.State == JobQueued || rec.State == JobRunning || rec.State == JobDeleted {
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
				if rec.State == JobQueued || rec.State == JobRunning {
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
