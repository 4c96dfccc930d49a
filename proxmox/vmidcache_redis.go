package proxmox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// VMIDKeyPrefix prefixes every Redis key of the VMID cache.
const VMIDKeyPrefix = "corral:vmid:"

// vmidAtField holds the refresh time (unix nanoseconds) inside a cluster's
// hash; every other field is a VMID.
const vmidAtField = "at"

// RedisVMIDStore is the VMIDStore in Redis: one hash per cluster, VMID →
// holder, plus the refresh time. Freshness is judged by that time against
// the store's clock; the key's Redis expiry only reclaims memory.
type RedisVMIDStore struct {
	rdb   redis.UniversalClient
	now   func() time.Time
	patch *redis.Script
}

// NewRedisVMIDStore uses rdb; now is the clock (nil = time.Now).
func NewRedisVMIDStore(rdb redis.UniversalClient, now func() time.Time) *RedisVMIDStore {
	if now == nil {
		now = time.Now
	}
	return &RedisVMIDStore{rdb: rdb, now: now, patch: redis.NewScript(patchIfPresent)}
}

// NewRedisClient opens a client for a redis:// URL with short timeouts, so a
// Redis that went away costs a request little before the cache falls back.
func NewRedisClient(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("proxmox: redis url: %w", err)
	}
	opt.DialTimeout = time.Second
	opt.ReadTimeout = time.Second
	opt.WriteTimeout = time.Second
	opt.MaxRetries = 1 // one retry replaces a pooled connection a restart killed
	return redis.NewClient(opt), nil
}

func vmidKey(cluster string) string { return VMIDKeyPrefix + cluster }

// Put implements VMIDStore.
func (r *RedisVMIDStore) Put(ctx context.Context, key string, guests map[int]VMIDHolder) error {
	return r.putAt(ctx, key, r.now(), guests)
}

func (r *RedisVMIDStore) putAt(ctx context.Context, key string, at time.Time, guests map[int]VMIDHolder) error {
	left := VMIDTTL - r.now().Sub(at)
	if left <= 0 {
		return nil
	}
	fields := make([]any, 0, 2*len(guests)+2)
	fields = append(fields, vmidAtField, strconv.FormatInt(at.UnixNano(), 10))
	for id, h := range guests {
		b, err := json.Marshal(h)
		if err != nil {
			return fmt.Errorf("proxmox: vmid cache: %w", err)
		}
		fields = append(fields, strconv.Itoa(id), b)
	}
	k := vmidKey(key)
	// MULTI/EXEC: a reader sees the old list or the new one, never half.
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		p.HSet(ctx, k, fields...)
		p.PExpire(ctx, k, left)
		return nil
	})
	if err != nil {
		return fmt.Errorf("proxmox: vmid cache: put %s: %w", key, err)
	}
	return nil
}

// fresh parses the refresh time and says whether it is within VMIDTTL.
func (r *RedisVMIDStore) fresh(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	at := time.Unix(0, ns)
	return at, r.now().Sub(at) < VMIDTTL
}

// Lookup implements VMIDStore with one HMGET.
func (r *RedisVMIDStore) Lookup(ctx context.Context, key string, vmid int) (VMIDLookup, error) {
	vals, err := r.rdb.HMGet(ctx, vmidKey(key), vmidAtField, strconv.Itoa(vmid)).Result()
	if err != nil {
		return VMIDLookup{}, fmt.Errorf("proxmox: vmid cache: lookup %s: %w", key, err)
	}
	if _, ok := r.fresh(vals[0]); !ok {
		return VMIDLookup{}, ErrVMIDMiss
	}
	s, taken := vals[1].(string)
	if !taken {
		return VMIDLookup{}, nil
	}
	var h VMIDHolder
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return VMIDLookup{}, fmt.Errorf("proxmox: vmid cache: holder of %d in %s: %w", vmid, key, err)
	}
	return VMIDLookup{Taken: true, Holder: h}, nil
}

// Age implements VMIDStore.
func (r *RedisVMIDStore) Age(ctx context.Context, key string) (time.Duration, error) {
	s, err := r.rdb.HGet(ctx, vmidKey(key), vmidAtField).Result()
	if errors.Is(err, redis.Nil) {
		return 0, ErrVMIDMiss
	}
	if err != nil {
		return 0, fmt.Errorf("proxmox: vmid cache: age %s: %w", key, err)
	}
	at, ok := r.fresh(s)
	if !ok {
		return 0, ErrVMIDMiss
	}
	return r.now().Sub(at), nil
}

// patchIfPresent sets one field only when the cluster has an entry, so a
// note never creates a partial list.
const patchIfPresent = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
	redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
end
return 0`

// NoteCreated implements VMIDStore.
func (r *RedisVMIDStore) NoteCreated(ctx context.Context, key string, vmid int, h VMIDHolder) error {
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("proxmox: vmid cache: %w", err)
	}
	err = r.patch.Run(ctx, r.rdb, []string{vmidKey(key)}, vmidAtField, strconv.Itoa(vmid), b).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("proxmox: vmid cache: note %d created in %s: %w", vmid, key, err)
	}
	return nil
}

// NoteDeleted implements VMIDStore.
func (r *RedisVMIDStore) NoteDeleted(ctx context.Context, key string, vmid int) error {
	if err := r.rdb.HDel(ctx, vmidKey(key), strconv.Itoa(vmid)).Err(); err != nil {
		return fmt.Errorf("proxmox: vmid cache: note %d deleted in %s: %w", vmid, key, err)
	}
	return nil
}

// load reads a cluster's whole fresh entry (to warm a memory copy).
func (r *RedisVMIDStore) load(ctx context.Context, key string) (time.Time, map[int]VMIDHolder, error) {
	all, err := r.rdb.HGetAll(ctx, vmidKey(key)).Result()
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("proxmox: vmid cache: load %s: %w", key, err)
	}
	at, ok := r.fresh(all[vmidAtField])
	if !ok {
		return time.Time{}, nil, ErrVMIDMiss
	}
	guests := make(map[int]VMIDHolder, len(all)-1)
	for f, v := range all {
		if f == vmidAtField {
			continue
		}
		id, err := strconv.Atoi(f)
		if err != nil {
			continue // not ours
		}
		var h VMIDHolder
		if err := json.Unmarshal([]byte(v), &h); err != nil {
			return time.Time{}, nil, fmt.Errorf("proxmox: vmid cache: holder of %d in %s: %w", id, key, err)
		}
		guests[id] = h
	}
	return at, guests, nil
}
