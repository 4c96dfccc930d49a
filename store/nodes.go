package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Node is a Proxmox host registered by a user. TokenSecret, SSHPassword
// and SSHKey are plaintext only in memory; they are sealed at rest.
type Node struct {
	ID     string
	UserID string
	Name   string
	Host   string
	Port   int // Proxmox API port, default 8006

	TokenID     string // USER@REALM!TOKENID
	TokenSecret string

	SSHUser     string
	SSHPort     int // default 22
	SSHPassword string
	SSHKey      string // PEM private key; at most one of SSHPassword and SSHKey is set

	TLSFingerprint string // pinned SHA-256 certificate fingerprint, colon hex
	TLSUseCA       bool   // verify with system CAs instead of the pin
	SSHHostKey     string // pinned host key, authorized_keys format

	ClusterName string
	ClusterKey  string // identifies the cluster across nodes and users (VMIDs are unique per cluster)
	PVEVersion  string
	PVENodeName string // the node's name inside Proxmox, e.g. "pve1"

	IsDefault bool
	Created   time.Time
	Updated   time.Time
}

const (
	defaultAPIPort  = 8006
	defaultSSHPort  = 22
	maxNodeNameLen  = 64
	sealTokenSecret = "token_secret"
	sealSSHPassword = "ssh_password"
	sealSSHKey      = "ssh_key"
)

type nodeRecord struct {
	V              int       `json:"v"`
	Seq            uint64    `json:"seq"` // creation order, per user
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Host           string    `json:"host"`
	Port           int       `json:"port"`
	TokenID        string    `json:"token_id"`
	TokenSecret    []byte    `json:"token_secret,omitempty"` // sealed
	SSHUser        string    `json:"ssh_user"`
	SSHPort        int       `json:"ssh_port"`
	SSHPassword    []byte    `json:"ssh_password,omitempty"` // sealed
	SSHKey         []byte    `json:"ssh_key,omitempty"`      // sealed
	TLSFingerprint string    `json:"tls_fingerprint,omitempty"`
	TLSUseCA       bool      `json:"tls_use_ca,omitempty"`
	SSHHostKey     string    `json:"ssh_host_key,omitempty"`
	ClusterName    string    `json:"cluster_name,omitempty"`
	ClusterKey     string    `json:"cluster_key,omitempty"`
	PVEVersion     string    `json:"pve_version,omitempty"`
	PVENodeName    string    `json:"pve_node_name,omitempty"`
	IsDefault      bool      `json:"is_default"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
}

// sealAD binds a sealed value to its owner, record and field.
func sealAD(userID, nodeID, field string) string {
	return userID + "/" + nodeID + "/" + field
}

// normalizeNode applies defaults and checks the fields a user types in.
func normalizeNode(n *Node) error {
	n.Name, n.Host = strings.TrimSpace(n.Name), strings.TrimSpace(n.Host)
	if n.Port == 0 {
		n.Port = defaultAPIPort
	}
	if n.SSHPort == 0 {
		n.SSHPort = defaultSSHPort
	}
	switch {
	case n.Name == "" || len(n.Name) > maxNodeNameLen:
		return fmt.Errorf("%w: node name must be 1 to %d characters", ErrInvalid, maxNodeNameLen)
	case n.Host == "" || strings.ContainsAny(n.Host, " /"):
		return fmt.Errorf("%w: host must be a hostname or IP address", ErrInvalid)
	case n.Port < 1 || n.Port > 65535:
		return fmt.Errorf("%w: port must be between 1 and 65535", ErrInvalid)
	case n.SSHPort < 1 || n.SSHPort > 65535:
		return fmt.Errorf("%w: ssh port must be between 1 and 65535", ErrInvalid)
	case n.SSHPassword != "" && n.SSHKey != "":
		return fmt.Errorf("%w: give either an ssh password or an ssh key, not both", ErrInvalid)
	}
	return nil
}

// fill copies the non-secret fields of n into the record and seals the
// secrets that n carries; empty secrets leave the stored ones alone.
func (db *DB) fill(rec *nodeRecord, userID string, n Node) {
	rec.Name, rec.Host, rec.Port = n.Name, n.Host, n.Port
	rec.TokenID, rec.SSHUser, rec.SSHPort = n.TokenID, n.SSHUser, n.SSHPort
	rec.TLSFingerprint, rec.TLSUseCA, rec.SSHHostKey = n.TLSFingerprint, n.TLSUseCA, n.SSHHostKey
	rec.ClusterName, rec.PVEVersion, rec.PVENodeName = n.ClusterName, n.PVEVersion, n.PVENodeName
	rec.ClusterKey = n.ClusterKey
	if n.TokenSecret != "" {
		rec.TokenSecret = db.seal.seal(n.TokenSecret, sealAD(userID, rec.ID, sealTokenSecret))
	}
	// A new password replaces a stored key and vice versa: one SSH method.
	if n.SSHPassword != "" {
		rec.SSHPassword = db.seal.seal(n.SSHPassword, sealAD(userID, rec.ID, sealSSHPassword))
		rec.SSHKey = nil
	}
	if n.SSHKey != "" {
		rec.SSHKey = db.seal.seal(n.SSHKey, sealAD(userID, rec.ID, sealSSHKey))
		rec.SSHPassword = nil
	}
}

// node opens the record's secrets into a Node.
func (db *DB) node(userID string, rec nodeRecord) (Node, error) {
	n := Node{
		ID: rec.ID, UserID: userID, Name: rec.Name, Host: rec.Host, Port: rec.Port,
		TokenID: rec.TokenID, SSHUser: rec.SSHUser, SSHPort: rec.SSHPort,
		TLSFingerprint: rec.TLSFingerprint, TLSUseCA: rec.TLSUseCA, SSHHostKey: rec.SSHHostKey,
		ClusterName: rec.ClusterName, ClusterKey: rec.ClusterKey, PVEVersion: rec.PVEVersion, PVENodeName: rec.PVENodeName,
		IsDefault: rec.IsDefault, Created: rec.Created, Updated: rec.Updated,
	}
	for _, s := range []struct {
		dst    *string
		sealed []byte
		field  string
	}{
		{&n.TokenSecret, rec.TokenSecret, sealTokenSecret},
		{&n.SSHPassword, rec.SSHPassword, sealSSHPassword},
		{&n.SSHKey, rec.SSHKey, sealSSHKey},
	} {
		pt, err := db.seal.open(s.sealed, sealAD(userID, rec.ID, s.field))
		if err != nil {
			return Node{}, fmt.Errorf("node %q %s: %w", rec.Name, s.field, err)
		}
		*s.dst = pt
	}
	return n, nil
}

// CreateNode registers a node for n.UserID and returns it with ID, Created
// and IsDefault set. Names are unique per user in any letter case
// (ErrConflict); the user's first node becomes the default.
func (db *DB) CreateNode(ctx context.Context, n Node) (Node, error) {
	if err := normalizeNode(&n); err != nil {
		return Node{}, err
	}
	now := db.now().UTC()
	rec := nodeRecord{V: recordVersion, ID: newID(), Created: now, Updated: now}
	db.fill(&rec, n.UserID, n)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := userByID(tx, n.UserID); err != nil {
			return fmt.Errorf("user %q: %w", n.UserID, err)
		}
		b, err := createUserBucket(tx, bucketNodes, n.UserID)
		if err != nil {
			return err
		}
		recs, err := nodeRecords(b)
		if err != nil {
			return err
		}
		if err := checkNodeName(recs, rec.ID, rec.Name); err != nil {
			return err
		}
		rec.IsDefault = len(recs) == 0
		if rec.Seq, err = b.NextSequence(); err != nil {
			return err
		}
		return put(b, []byte(rec.ID), rec)
	})
	if err != nil {
		return Node{}, fmt.Errorf("store: create node: %w", err)
	}
	n, err = db.node(n.UserID, rec)
	if err != nil {
		return Node{}, fmt.Errorf("store: create node: %w", err)
	}
	return n, nil
}

// Nodes returns the user's nodes, oldest first, with secrets opened.
func (db *DB) Nodes(ctx context.Context, userID string) ([]Node, error) {
	var out []Node
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = db.userNodes(tx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	return out, nil
}

// Node returns one of the user's nodes; another user's node id gives
// ErrNotFound.
func (db *DB) Node(ctx context.Context, userID, nodeID string) (Node, error) {
	var n Node
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rec, err := nodeRecordByID(tx, userID, nodeID)
		if err != nil {
			return err
		}
		n, err = db.node(userID, rec)
		return err
	})
	if err != nil {
		return Node{}, fmt.Errorf("store: node %q: %w", nodeID, err)
	}
	return n, nil
}

// UpdateNode replaces the editable fields of the user's node n.ID. Empty
// secret fields keep the stored secret; a new SSH password drops a stored
// SSH key and vice versa. IsDefault and Created are not changed here (see
// SetDefaultNode).
func (db *DB) UpdateNode(ctx context.Context, userID string, n Node) (Node, error) {
	if err := normalizeNode(&n); err != nil {
		return Node{}, err
	}
	var rec nodeRecord
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		if rec, err = nodeRecordByID(tx, userID, n.ID); err != nil {
			return err
		}
		b := userBucket(tx, bucketNodes, userID)
		recs, err := nodeRecords(b)
		if err != nil {
			return err
		}
		if err := checkNodeName(recs, rec.ID, n.Name); err != nil {
			return err
		}
		db.fill(&rec, userID, n)
		rec.Updated = db.now().UTC()
		return put(b, []byte(rec.ID), rec)
	})
	if err != nil {
		return Node{}, fmt.Errorf("store: update node %q: %w", n.ID, err)
	}
	n, err = db.node(userID, rec)
	if err != nil {
		return Node{}, fmt.Errorf("store: update node: %w", err)
	}
	return n, nil
}

// SetDefaultNode makes nodeID the user's only default node.
func (db *DB) SetDefaultNode(ctx context.Context, userID, nodeID string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := nodeRecordByID(tx, userID, nodeID); err != nil {
			return err
		}
		return setDefault(userBucket(tx, bucketNodes, userID), nodeID)
	})
	if err != nil {
		return fmt.Errorf("store: set default node %q: %w", nodeID, err)
	}
	return nil
}

// DeleteNode removes the user's node. It fails with ErrNodeInUse while
// containers created by Corral reference it. Deleting the default node
// makes the oldest remaining node the default.
func (db *DB) DeleteNode(ctx context.Context, userID, nodeID string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := nodeRecordByID(tx, userID, nodeID)
		if err != nil {
			return err
		}
		used, err := countContainersOnNode(tx, userID, nodeID)
		if err != nil {
			return err
		}
		if used > 0 {
			return fmt.Errorf("%w: %d container(s) created by corral still live on %q", ErrNodeInUse, used, rec.Name)
		}
		b := userBucket(tx, bucketNodes, userID)
		if err := b.Delete([]byte(nodeID)); err != nil {
			return err
		}
		if !rec.IsDefault {
			return nil
		}
		rest, err := nodeRecords(b)
		if err != nil || len(rest) == 0 {
			return err
		}
		return setDefault(b, rest[0].ID)
	})
	if err != nil {
		return fmt.Errorf("store: delete node %q: %w", nodeID, err)
	}
	return nil
}

// AllNodes returns every user's nodes, for background jobs such as the
// cluster refresh.
func (db *DB) AllNodes(ctx context.Context) ([]Node, error) {
	var out []Node
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketNodes)).ForEachBucket(func(uid []byte) error {
			nodes, err := db.userNodes(tx, string(uid))
			out = append(out, nodes...)
			if err != nil {
				return err
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: all nodes: %w", err)
	}
	return out, nil
}

func (db *DB) userNodes(tx *bolt.Tx, userID string) ([]Node, error) {
	recs, err := nodeRecords(userBucket(tx, bucketNodes, userID))
	if err != nil {
		return nil, err
	}
	out := make([]Node, 0, len(recs))
	for _, rec := range recs {
		n, err := db.node(userID, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// nodeRecords returns the records of one user's bucket (nil allowed) in
// creation order.
func nodeRecords(b *bolt.Bucket) ([]nodeRecord, error) {
	if b == nil {
		return nil, nil
	}
	var recs []nodeRecord
	err := b.ForEach(func(_, v []byte) error {
		var rec nodeRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		recs = append(recs, rec)
		return nil
	})
	slices.SortFunc(recs, func(a, b nodeRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	return recs, err
}

func nodeRecordByID(tx *bolt.Tx, userID, nodeID string) (nodeRecord, error) {
	return ownedRecord[nodeRecord](tx, bucketNodes, userID, nodeID)
}

func checkNodeName(recs []nodeRecord, selfID, name string) error {
	for _, r := range recs {
		if r.ID != selfID && strings.EqualFold(r.Name, name) {
			return fmt.Errorf("%w: you already have a node named %q", ErrConflict, r.Name)
		}
	}
	return nil
}

// setDefault marks nodeID as default and clears every other flag, writing
// only the records that change.
func setDefault(b *bolt.Bucket, nodeID string) error {
	recs, err := nodeRecords(b)
	if err != nil {
		return err
	}
	for _, r := range recs {
		want := r.ID == nodeID
		if r.IsDefault == want {
			continue
		}
		r.IsDefault = want
		if err := put(b, []byte(r.ID), r); err != nil {
			return err
		}
	}
	return nil
}
