package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Container lifecycles.
const (
	LifecycleCreating = "creating"
	LifecycleReady    = "ready"
	LifecycleError    = "error"
)

// Container is an LXC container that Corral created on one of the user's
// nodes.
type Container struct {
	ID           string
	UserID       string
	NodeID       string
	VMID         int
	Hostname     string
	TemplateID   string
	TemplateName string
	Lifecycle    string // LifecycleCreating, LifecycleReady or LifecycleError
	JobID        string
	Created      time.Time
	Updated      time.Time
}

type containerRecord struct {
	V            int       `json:"v"`
	Seq          uint64    `json:"seq"`
	ID           string    `json:"id"`
	NodeID       string    `json:"node_id"`
	VMID         int       `json:"vmid"`
	Hostname     string    `json:"hostname"`
	TemplateID   string    `json:"template_id,omitempty"`
	TemplateName string    `json:"template_name,omitempty"`
	Lifecycle    string    `json:"lifecycle"`
	JobID        string    `json:"job_id,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

func (r containerRecord) container(userID string) Container {
	return Container{
		ID: r.ID, UserID: userID, NodeID: r.NodeID, VMID: r.VMID, Hostname: r.Hostname,
		TemplateID: r.TemplateID, TemplateName: r.TemplateName, Lifecycle: r.Lifecycle,
		JobID: r.JobID, Created: r.Created, Updated: r.Updated,
	}
}

func (r *containerRecord) fill(c Container) {
	r.NodeID, r.VMID, r.Hostname = c.NodeID, c.VMID, c.Hostname
	r.TemplateID, r.TemplateName, r.Lifecycle, r.JobID = c.TemplateID, c.TemplateName, c.Lifecycle, c.JobID
}

// The VMID range Proxmox accepts. Package exec, which imports nothing of
// Corral's, keeps its own copy for the commands it quotes.
const (
	MinVMID = 100
	MaxVMID = 999_999_999
)

// putNewContainer stores a new container record of userID on one of the
// user's nodes (ErrNotFound for anyone else's), numbering it in creation
// order.
func putNewContainer(tx *bolt.Tx, userID string, rec *containerRecord) error {
	if _, err := nodeRecordByID(tx, userID, rec.NodeID); err != nil {
		return fmt.Errorf("node %q: %w", rec.NodeID, err)
	}
	b, err := createUserBucket(tx, bucketContainers, userID)
	if err != nil {
		return err
	}
	if rec.Seq, err = b.NextSequence(); err != nil {
		return err
	}
	return put(b, []byte(rec.ID), *rec)
}

func validateContainer(c *Container) error {
	if c.Lifecycle == "" {
		c.Lifecycle = LifecycleCreating
	}
	switch {
	case c.VMID < MinVMID || c.VMID > MaxVMID:
		return fmt.Errorf("%w: vmid must be between %d and %d", ErrInvalid, MinVMID, MaxVMID)
	case c.Lifecycle != LifecycleCreating && c.Lifecycle != LifecycleReady && c.Lifecycle != LifecycleError:
		return fmt.Errorf("%w: unknown lifecycle %q", ErrInvalid, c.Lifecycle)
	}
	return nil
}

// CreateContainer records a container on one of c.UserID's nodes (the node
// must exist: ErrNotFound) and returns it with ID and Created set. An empty
// Lifecycle means LifecycleCreating.
func (db *DB) CreateContainer(ctx context.Context, c Container) (Container, error) {
	if err := validateContainer(&c); err != nil {
		return Container{}, err
	}
	now := db.now().UTC()
	rec := containerRecord{V: recordVersion, ID: newID(), Created: now, Updated: now}
	rec.fill(c)
	err := db.bolt.Update(func(tx *bolt.Tx) error { return putNewContainer(tx, c.UserID, &rec) })
	if err != nil {
		return Container{}, fmt.Errorf("store: create container %d: %w", c.VMID, err)
	}
	return rec.container(c.UserID), nil
}

// Containers returns the user's containers, oldest first.
func (db *DB) Containers(ctx context.Context, userID string) ([]Container, error) {
	var out []Container
	err := db.bolt.View(func(tx *bolt.Tx) error {
		recs, err := containerRecords(tx, userID)
		for _, r := range recs {
			out = append(out, r.container(userID))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: containers: %w", err)
	}
	return out, nil
}

// UpdateContainer replaces the fields of the user's container c.ID; Created
// is kept and Updated set. Another user's id gives ErrNotFound.
func (db *DB) UpdateContainer(ctx context.Context, userID string, c Container) error {
	if err := validateContainer(&c); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := containerRecordByID(tx, userID, c.ID)
		if err != nil {
			return err
		}
		if c.NodeID != rec.NodeID {
			if _, err := nodeRecordByID(tx, userID, c.NodeID); err != nil {
				return fmt.Errorf("node %q: %w", c.NodeID, err)
			}
		}
		rec.fill(c)
		rec.Updated = db.now().UTC()
		return put(userBucket(tx, bucketContainers, userID), []byte(rec.ID), rec)
	})
	if err != nil {
		return fmt.Errorf("store: update container %q: %w", c.ID, err)
	}
	return nil
}

// DeleteContainer removes the user's container record and, unless it still
// runs, ends the job that created it as deleted: a job page must not offer
// to retry or delete a container that is gone (its VMID may soon hold
// another).
func (db *DB) DeleteContainer(ctx context.Context, userID, id string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := containerRecordByID(tx, userID, id)
		if err != nil {
			return err
		}
		if err := endJobOfDeleted(tx, userID, rec.JobID, db.now().UTC()); err != nil {
			return err
		}
		return userBucket(tx, bucketContainers, userID).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: delete container %q: %w", id, err)
	}
	return nil
}

// CountContainersOnNode returns how many of the user's containers live on
// nodeID.
func (db *DB) CountContainersOnNode(ctx context.Context, userID, nodeID string) (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = countContainersOnNode(tx, userID, nodeID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: count containers on %q: %w", nodeID, err)
	}
	return n, nil
}

func countContainersOnNode(tx *bolt.Tx, userID, nodeID string) (int, error) {
	recs, err := containerRecords(tx, userID)
	n := 0
	for _, r := range recs {
		if r.NodeID == nodeID {
			n++
		}
	}
	return n, err
}

func containerRecords(tx *bolt.Tx, userID string) ([]containerRecord, error) {
	b := userBucket(tx, bucketContainers, userID)
	if b == nil {
		return nil, nil
	}
	var recs []containerRecord
	err := b.ForEach(func(_, v []byte) error {
		var r containerRecord
		if err := decode(v, &r); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	})
	slices.SortFunc(recs, func(a, b containerRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	return recs, err
}

func containerRecordByID(tx *bolt.Tx, userID, id string) (containerRecord, error) {
	return ownedRecord[containerRecord](tx, bucketContainers, userID, id)
}
