package proxmox

import (
	"context"
	"sync"
	"time"
)

// MemVMIDStore is the in-memory VMIDStore, the default when no Redis is
// configured (a Raspberry Pi needs nothing else). It is safe for concurrent use.
type MemVMIDStore struct {
	now func() time.Time

	mu      sync.RWMutex
	entries map[string]*memVMIDEntry
}

type memVMIDEntry struct {
	at     time.Time
	guests map[int]VMIDHolder
}

// NewMemVMIDStore returns an empty store; now is the clock (nil = time.Now),
// injectable so tests can expire entries without sleeping.
func NewMemVMIDStore(now func() time.Time) *MemVMIDStore {
	if now == nil {
		now = time.Now
	}
	return &MemVMIDStore{now: now, entries: map[string]*memVMIDEntry{}}
}

// Put implements VMIDStore.
func (m *MemVMIDStore) Put(_ context.Context, key string, guests map[int]VMIDHolder) error {
	m.putAt(key, m.now(), guests)
	return nil
}

func (m *MemVMIDStore) putAt(key string, at time.Time, guests map[int]VMIDHolder) {
	own := make(map[int]VMIDHolder, len(guests)) // Note* change it later
	for id, h := range guests {
		own[id] = h
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Drop expired clusters here, so a cluster nobody points at any more
	// does not stay in memory forever.
	for k, e := range m.entries {
		if !m.fresh(e) {
			delete(m.entries, k)
		}
	}
	m.entries[key] = &memVMIDEntry{at: at, guests: own}
}

func (m *MemVMIDStore) fresh(e *memVMIDEntry) bool {
	return e != nil && m.now().Sub(e.at) < VMIDTTL
}

// Lookup implements VMIDStore.
func (m *MemVMIDStore) Lookup(_ context.Context, key string, vmid int) (VMIDLookup, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e := m.entries[key]
	if !m.fresh(e) {
		return VMIDLookup{}, ErrVMIDMiss
	}
	h, taken := e.guests[vmid]
	return VMIDLookup{Taken: taken, Holder: h}, nil
}

// Age implements VMIDStore.
func (m *MemVMIDStore) Age(_ context.Context, key string) (time.Duration, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e := m.entries[key]
	if !m.fresh(e) {
		return 0, ErrVMIDMiss
	}
	return m.now().Sub(e.at), nil
}

// NoteCreated implements VMIDStore.
func (m *MemVMIDStore) NoteCreated(_ context.Context, key string, vmid int, h VMIDHolder) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[key]; m.fresh(e) {
		e.guests[vmid] = h
	}
	return nil
}

// NoteDeleted implements VMIDStore.
func (m *MemVMIDStore) NoteDeleted(_ context.Context, key string, vmid int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[key]; m.fresh(e) {
		delete(e.guests, vmid)
	}
	return nil
}

// snapshot returns every fresh entry, for copying into Redis when it returns.
func (m *MemVMIDStore) snapshot() map[string]memVMIDEntry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]memVMIDEntry, len(m.entries))
	for k, e := range m.entries {
		if m.fresh(e) {
			g := make(map[int]VMIDHolder, len(e.guests))
			for id, h := range e.guests {
				g[id] = h
			}
			out[k] = memVMIDEntry{at: e.at, guests: g}
		}
	}
	return out
}
