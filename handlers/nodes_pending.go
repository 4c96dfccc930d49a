package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"corral/store"
)

// Bounds of the probes awaiting confirmation. They live in memory only: a
// restart just asks the user to test again.
const (
	pendingTTL     = 10 * time.Minute
	pendingMax     = 256 // in all
	pendingPerUser = 4
)

// PendingNode is a probed node the user has not confirmed yet. Node holds
// the secrets, so it never leaves the server; the page gets only the id.
type PendingNode struct {
	Node  store.Node // the record to store, NodeID empty when adding
	Probe NodeProbe
	Old   store.Node // the stored record when editing or re-trusting
	Mode  string     // add, edit, retrust
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
