package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// MaxLogEntrys bounds each job's log: older lines are dropped first.
const MaxLogEntrys = 2000

// EntryLog is the kind of a job log entry that is command output. Every
// other kind is a marker, and is the type of the container event it is
// recorded as too: EventStepStarted, EventStepDone, EventScriptDone,
// EventServiceReady, EventServices, EventError, EventReady,
// EventInterrupted, EventRetried or EventDeleted.
const EntryLog = "log"

// LogEntry is one entry of a job's log: an output line (Kind EntryLog) or
// a marker. Seq numbers a job's entries from 1 without gaps, so a reader
// can resume after the last one it saw; AppendJobLog assigns it.
type LogEntry struct {
	Seq    uint64    `json:"-"`
	Time   time.Time `json:"t"`
	Kind   string    `json:"k"`
	Step   string    `json:"s,omitempty"` // step key
	Script string    `json:"sc,omitempty"`
	Text   string    `json:"x"`
	// Data is added to the data of a marker's container event (e.g. the
	// services a discovery found); the log itself does not keep it.
	Data map[string]string `json:"-"`
}

// Terminal reports whether e ends a run of its job.
func (e LogEntry) Terminal() bool {
	switch e.Kind {
	case EventReady, EventError, EventInterrupted, EventDeleted:
		return true
	}
	return false
}

// AppendJobLog appends lines to the user's job log, numbering them, and
// trims the log to MaxLogEntrys. Each marker is also recorded as an event
// of the job's container (type Kind, message Text, data step, script,
// log_seq and EventData) in the same transaction, so whoever reads a
// marker in the log finds its event too. It returns the lines with Seq
// (and a zero Time) set.
func (db *DB) AppendJobLog(ctx context.Context, userID, jobID string, lines []LogEntry) ([]LogEntry, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	now := db.now().UTC()
	out := make([]LogEntry, len(lines))
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		job, err := jobRecordByID(tx, userID, jobID)
		if err != nil {
			return err
		}
		b, err := tx.Bucket([]byte(bucketJobLogs)).CreateBucketIfNotExists([]byte(jobID))
		if err != nil {
			return err
		}
		var last uint64
		for i, l := range lines {
			if last, err = b.NextSequence(); err != nil {
				return err
			}
			if l.Time.IsZero() {
				l.Time = now
			}
			l.Seq = last
			if err := put(b, u64(last), l); err != nil {
				return err
			}
			if l.Kind != EntryLog {
				e := markerEvent(userID, job, l)
				if err := validEvent(e); err != nil {
					return err
				}
				if _, err := putEvent(tx, e); err != nil {
					return err
				}
			}
			out[i] = l
		}
		return trimLog(b, last)
	})
	if err != nil {
		return nil, fmt.Errorf("store: append job %q log: %w", jobID, err)
	}
	return out, nil
}

// markerEvent is the container event a marker line of job records.
func markerEvent(userID string, job jobRecord, l LogEntry) Event {
	data := map[string]string{"step": l.Step, "log_seq": strconv.FormatUint(l.Seq, 10)}
	if l.Script != "" {
		data["script"] = l.Script
	}
	maps.Copy(data, l.Data)
	return Event{
		UserID: userID, NodeID: job.NodeID, VMID: job.VMID, ContainerID: job.ContainerID, JobID: job.ID,
		Type: l.Kind, Message: l.Text, Time: l.Time, Data: data,
	}
}

// trimLog deletes lines numbered last-MaxLogEntrys and below.
func trimLog(b *bolt.Bucket, last uint64) error {
	if last <= MaxLogEntrys {
		return nil
	}
	keep := last - MaxLogEntrys + 1
	// Collect first: deleting under a cursor can make it skip keys.
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) < keep; k, _ = c.Next() {
		old = append(old, k)
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// JobLog returns the user's job log lines with Seq > after, oldest first.
func (db *DB) JobLog(ctx context.Context, userID, jobID string, after uint64) ([]LogEntry, error) {
	var out []LogEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if _, err := jobRecordByID(tx, userID, jobID); err != nil {
			return err
		}
		b := tx.Bucket([]byte(bucketJobLogs)).Bucket([]byte(jobID))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
			var l LogEntry
			if err := decode(v, &l); err != nil {
				return err
			}
			l.Seq = binary.BigEndian.Uint64(k)
			out = append(out, l)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: job %q log: %w", jobID, err)
	}
	return out, nil
}
