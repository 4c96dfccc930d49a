package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"corral/exec/nodeprobe"
	"corral/store"
	"corral/views"
)

// Bounds of the probes awaiting confirmation. They live in memory only: a
// restart just asks the user to test again.
const (
	pendingTTL     = 10 * time.Minute
	pendingMax     = 256 // in all
	pendingPerUser = 4
)

// PendingNode is a node test in progress, held between the steps of the
// form. Node holds secrets, so it never leaves the server; pages get only
// the id.
//
// An entry either awaits the user's confirmation of the keys in Scan (the
// confirm page), or keeps what a failed test was given so a retry need not
// ask for the secrets again (Scan empty; the form carries the id).
type PendingNode struct {
	// Node is the record to store (ID empty when adding), its secrets
	// included. Its TLSFingerprint and SSHHostKey are the keys its secrets
	// may go to: the pinned ones, or ones the user confirmed in this flow.
	Node  store.Node
	Typed NodeSecrets    // what the user typed in this flow, as opposed to stored
	Scan  nodeprobe.Scan // keys awaiting confirmation; empty on a retry entry
	Old   store.Node     // the stored record when editing or re-trusting; the member added through
	Mode  string         // add, edit, retrust, members
	// Members are the candidates of a members add, each with its scan or
	// the Problem that kept it from being scanned.
	Members []PendingNode
	Problem *views.NodeProblem
	Return  string // a local path to go to once the members are added
}

// NodeSecrets are the secrets of a node's form.
type NodeSecrets struct {
	TokenSecret, SSHPassword, SSHKey string
}

type pendingEntry struct {
	userID  string
	expires time.Time
	node    PendingNode
}

// PendingNodes is a small, size-bounded, expiring map of probes awaiting
// confirmation, bound to the user who made them. Safe for concurrent use.
type PendingNodes struct {
	mu      sync.Mutex
	entries map[string]pendingEntry
}

// NewPendingNodes returns an empty map.
func NewPendingNodes() *PendingNodes {
	return &PendingNodes{entries: map[string]pendingEntry{}}
}

// Hold keeps p for userID until pendingTTL after now and returns its id. A
// user's oldest entries, then everyone's oldest, make room when full.
func (m *PendingNodes) Hold(now time.Time, userID string, p PendingNode) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(now)
	for m.count(userID) >= pendingPerUser {
		m.evictOldest(userID)
	}
	for len(m.entries) >= pendingMax {
		m.evictOldest("")
	}
	id := pendingID()
	m.entries[id] = pendingEntry{userID: userID, expires: now.Add(pendingTTL), node: p}
	return id
}

// Take returns and forgets the entry id if it belongs to userID and has not
// expired. Another user's id is simply not found, and stays for its owner.
func (m *PendingNodes) Take(now time.Time, userID, id string) (PendingNode, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[id]
	if !ok || e.userID != userID {
		return PendingNode{}, false
	}
	delete(m.entries, id)
	if !now.Before(e.expires) {
		return PendingNode{}, false
	}
	return e.node, true
}

// Len reports how many entries are held (for tests and metrics).
func (m *PendingNodes) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

func (m *PendingNodes) prune(now time.Time) {
	for id, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, id)
		}
	}
}

func (m *PendingNodes) count(userID string) int {
	n := 0
	for _, e := range m.entries {
		if e.userID == userID {
			n++
		}
	}
	return n
}

// evictOldest drops the entry expiring first, among userID's ("" = anyone's).
func (m *PendingNodes) evictOldest(userID string) {
	var oldest string
	var at time.Time
	for id, e := range m.entries {
		if userID != "" && e.userID != userID {
			continue
		}
		if oldest == "" || e.expires.Before(at) {
			oldest, at = id, e.expires
		}
	}
	delete(m.entries, oldest)
}

func pendingID() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}
