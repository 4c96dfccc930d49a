package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Event types. Step events come from the provisioning pipeline; the
// lifecycle ones (started, stopped, ...) from container actions.
const (
	EventCreated      = "created"
	EventStarted      = "started"
	EventStopped      = "stopped"
	EventShutdown     = "shutdown"
	EventRebooted     = "rebooted"
	EventDeleted      = "deleted"
	EventError        = "error"
	EventStepStarted  = "step_started"
	EventStepDone     = "step_done"
	EventScriptDone   = "script_done"
	EventServiceReady = "service_ready"
	EventReady        = "ready"
	EventInterrupted  = "interrupted"
	EventRetried      = "retried"
	// EventServices holds a whole discovery of a container's services
	// (see EncodeServices); the newest one is what its pages show.
	EventServices = "services"
)

// Event is one persisted thing that happened to a container or a job. Seq
// is assigned by AppendEvent and grows monotonically across all events.
type Event struct {
	Seq         uint64
	UserID      string
	NodeID      string
	VMID        int
	ContainerID string
	JobID       string
	Type        string
	Message     string
	Time        time.Time
	Data        map[string]string
}

type eventRecord struct {
	V           int               `json:"v"`
	UserID      string            `json:"uid"`
	NodeID      string            `json:"node_id,omitempty"`
	VMID        int               `json:"vmid,omitempty"`
	ContainerID string            `json:"ct_id,omitempty"`
	JobID       string            `json:"job_id,omitempty"`
	Type        string            `json:"type"`
	Message     string            `json:"msg,omitempty"`
	Time        time.Time         `json:"time"`
	Data        map[string]string `json:"data,omitempty"`
}

func (r eventRecord) event(seq uint64) Event {
	return Event{
		Seq: seq, UserID: r.UserID, NodeID: r.NodeID, VMID: r.VMID, ContainerID: r.ContainerID,
		JobID: r.JobID, Type: r.Type, Message: r.Message, Time: r.Time, Data: r.Data,
	}
}

// ctEventPrefix is the index prefix of one container's events. Ids never
// contain NUL, so the prefix cannot match another user's or node's keys.
func ctEventPrefix(userID, nodeID string, vmid int) []byte {
	k := []byte(userID + "\x00" + nodeID + "\x00")
	return binary.BigEndian.AppendUint64(k, uint64(vmid))
}

func jobEventPrefix(userID, jobID string) []byte {
	return []byte(userID + "\x00" + jobID + "\x00")
}

// AppendEvent stores e, setting its Seq and (when zero) its Time, and
// indexes it by container (when NodeID and VMID are set) and by job (when
// JobID is set).
func (db *DB) AppendEvent(ctx context.Context, e Event) (Event, error) {
	if err := validEvent(e); err != nil {
		return Event{}, fmt.Errorf("store: append event: %w", err)
	}
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		e, err = putEvent(tx, e)
		return err
	})
	if err != nil {
		return Event{}, fmt.Errorf("store: append %s event: %w", e.Type, err)
	}
	return e, nil
}

func validEvent(e Event) error {
	switch {
	case e.UserID == "" || e.Type == "":
		return fmt.Errorf("%w: user and type are required", ErrInvalid)
	case strings.ContainsRune(e.UserID+e.NodeID+e.JobID, 0):
		return fmt.Errorf("%w: ids must not contain NUL", ErrInvalid)
	}
	return nil
}

// putEvent writes a valid event with a set Time and its indexes inside tx,
// and returns it with Seq set.
func putEvent(tx *bolt.Tx, e Event) (Event, error) {
	e.Time = e.Time.UTC()
	rec := eventRecord{
		V: recordVersion, UserID: e.UserID, NodeID: e.NodeID, VMID: e.VMID, ContainerID: e.ContainerID,
		JobID: e.JobID, Type: e.Type, Message: e.Message, Time: e.Time, Data: e.Data,
	}
	b := tx.Bucket([]byte(bucketEvents))
	seq, err := b.NextSequence()
	if err != nil {
		return e, err
	}
	e.Seq = seq
	if err := put(b, u64(seq), rec); err != nil {
		return e, err
	}
	if e.NodeID != "" && e.VMID > 0 {
		k := binary.BigEndian.AppendUint64(ctEventPrefix(e.UserID, e.NodeID, e.VMID), seq)
		if err := tx.Bucket([]byte(bucketEventsByCt)).Put(k, []byte(e.Type)); err != nil {
			return e, err
		}
	}
	if e.JobID != "" {
		k := binary.BigEndian.AppendUint64(jobEventPrefix(e.UserID, e.JobID), seq)
		if err := tx.Bucket([]byte(bucketEventsByJob)).Put(k, nil); err != nil {
			return e, err
		}
	}
	return e, nil
}

// ContainerEvents returns up to limit (<= 0: all) of the user's events for
// vmid on nodeID, newest first, keeping only the given types (empty: all).
func (db *DB) ContainerEvents(ctx context.Context, userID, nodeID string, vmid int, types []string, limit int) ([]Event, error) {
	var out []Event
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := ctEventPrefix(userID, nodeID, vmid)
		events := tx.Bucket([]byte(bucketEvents))
		c := tx.Bucket([]byte(bucketEventsByCt)).Cursor()
		// Seek past the prefix, then walk backwards for newest first.
		end := append(bytes.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
		k, v := c.Seek(end)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if limit > 0 && len(out) >= limit {
				break
			}
			if len(types) > 0 && !slices.Contains(types, string(v)) {
				continue
			}
			seq := binary.BigEndian.Uint64(k[len(prefix):])
			e, err := eventBySeq(events, seq)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: container %d events: %w", vmid, err)
	}
	return out, nil
}

// JobEvents returns the user's events of jobID with Seq > afterSeq, oldest
// first. Another user's job yields no events.
func (db *DB) JobEvents(ctx context.Context, userID, jobID string, afterSeq uint64) ([]Event, error) {
	var out []Event
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := jobEventPrefix(userID, jobID)
		events := tx.Bucket([]byte(bucketEvents))
		c := tx.Bucket([]byte(bucketEventsByJob)).Cursor()
		for k, _ := c.Seek(binary.BigEndian.AppendUint64(bytes.Clone(prefix), afterSeq+1)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			e, err := eventBySeq(events, binary.BigEndian.Uint64(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: job %s events: %w", jobID, err)
	}
	return out, nil
}

func eventBySeq(b *bolt.Bucket, seq uint64) (Event, error) {
	v := b.Get(u64(seq))
	if v == nil {
		return Event{}, fmt.Errorf("event %d: %w", seq, ErrNotFound)
	}
	var rec eventRecord
	if err := decode(v, &rec); err != nil {
		return Event{}, err
	}
	return rec.event(seq), nil
}
