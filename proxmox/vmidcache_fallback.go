package proxmox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// VMIDRedisRetry is how often the cache tries Redis again while it is away.
const VMIDRedisRetry = 5 * time.Second

// FallbackVMIDStore is the cache when Redis is configured: memory in front,
// Redis behind. Every write goes to both; reads are answered from memory and
// go to Redis only for a cluster memory lacks (after a restart, or one that
// another Corral refreshed), whose whole entry is then copied into memory.
// Memory holds everything this process wrote, so reading it first is as
// fresh as the refresh interval allows anyway (guests made outside Corral
// only show up at the next refresh too), and it keeps a Redis round trip off
// every keystroke. While Redis is away, memory and live reads keep answering;
// when it returns, what was learned meanwhile is copied back before Redis is
// used again. One warning is logged per outage.
type FallbackVMIDStore struct {
	redis *RedisVMIDStore
	mem   *MemVMIDStore
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	down    bool
	nextTry time.Time // while down, when one caller may try Redis again
}

// NewFallbackVMIDStore combines the two stores; now is the clock (nil = time.Now).
func NewFallbackVMIDStore(r *RedisVMIDStore, m *MemVMIDStore, log *slog.Logger, now func() time.Time) *FallbackVMIDStore {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &FallbackVMIDStore{redis: r, mem: m, log: log, now: now}
}

// useRedis says whether to ask Redis. While it is down, one caller per
// VMIDRedisRetry probes it by copying the memory entries back.
func (f *FallbackVMIDStore) useRedis(ctx context.Context) bool {
	f.mu.Lock()
	if !f.down {
		f.mu.Unlock()
		return true
	}
	if f.now().Before(f.nextTry) {
		f.mu.Unlock()
		return false
	}
	f.nextTry = f.now().Add(VMIDRedisRetry)
	f.mu.Unlock()

	if err := f.redis.rdb.Ping(ctx).Err(); err != nil {
		return false
	}
	for key, e := range f.mem.snapshot() {
		if err := f.redis.putAt(ctx, key, e.at, e.guests); err != nil {
			return false
		}
	}
	f.mu.Lock()
	f.down = false
	f.mu.Unlock()
	f.log.Info("vmid cache: redis is back, using it again")
	return true
}

// failed records a Redis error and reports whether to fall back to memory;
// the caller's own cancellation is not Redis's fault.
func (f *FallbackVMIDStore) failed(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, ErrVMIDMiss) {
		return false
	}
	if ctx.Err() != nil {
		return false
	}
	f.mu.Lock()
	wasUp := !f.down
	f.down = true
	f.nextTry = f.now().Add(VMIDRedisRetry)
	f.mu.Unlock()
	if wasUp {
		f.log.Warn("vmid cache: redis unavailable, using memory until it returns", "err", err)
	}
	return true
}

// Put implements VMIDStore.
func (f *FallbackVMIDStore) Put(ctx context.Context, key string, guests map[int]VMIDHolder) error {
	f.mem.Put(ctx, key, guests)
	if f.useRedis(ctx) {
		if err := f.redis.Put(ctx, key, guests); err != nil && !f.failed(ctx, err) {
			return err
		}
	}
	return nil
}

// Lookup implements VMIDStore.
func (f *FallbackVMIDStore) Lookup(ctx context.Context, key string, vmid int) (VMIDLookup, error) {
	if l, err := f.mem.Lookup(ctx, key, vmid); err == nil {
		return l, nil
	}
	if err := f.warm(ctx, key); err != nil {
		return VMIDLookup{}, err
	}
	return f.mem.Lookup(ctx, key, vmid)
}

// Age implements VMIDStore.
func (f *FallbackVMIDStore) Age(ctx context.Context, key string) (time.Duration, error) {
	if a, err := f.mem.Age(ctx, key); err == nil {
		return a, nil
	}
	if err := f.warm(ctx, key); err != nil {
		return 0, err
	}
	return f.mem.Age(ctx, key)
}

// warm copies a cluster's fresh Redis entry into memory. It returns
// ErrVMIDMiss when Redis has none or cannot be asked, and only the caller's
// own cancellation otherwise.
func (f *FallbackVMIDStore) warm(ctx context.Context, key string) error {
	if !f.useRedis(ctx) {
		return ErrVMIDMiss
	}
	at, guests, err := f.redis.load(ctx, key)
	if err != nil {
		if errors.Is(err, ErrVMIDMiss) || f.failed(ctx, err) {
			return ErrVMIDMiss
		}
		return err
	}
	f.mem.putAt(key, at, guests)
	return nil
}

// NoteCreated implements VMIDStore.
func (f *FallbackVMIDStore) NoteCreated(ctx context.Context, key string, vmid int, h VMIDHolder) error {
	f.mem.NoteCreated(ctx, key, vmid, h)
	if f.useRedis(ctx) {
		if err := f.redis.NoteCreated(ctx, key, vmid, h); err != nil && !f.failed(ctx, err) {
			return err
		}
	}
	return nil
}

// NoteDeleted implements VMIDStore.
func (f *FallbackVMIDStore) NoteDeleted(ctx context.Context, key string, vmid int) error {
	f.mem.NoteDeleted(ctx, key, vmid)
	if f.useRedis(ctx) {
		if err := f.redis.NoteDeleted(ctx, key, vmid); err != nil && !f.failed(ctx, err) {
			return err
		}
	}
	return nil
}
