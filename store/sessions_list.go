package store

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// SeenInterval is how stale a session's "last seen" may get before Seen
// writes it again: often enough to tell which browser is in use, rare
// enough that browsing does not keep a Pi's SD card busy.
const SeenInterval = time.Minute

// maxAgentLen bounds the stored User-Agent; browsers send ~150 bytes.
const maxAgentLen = 256

// SessionInfo is one signed-in browser as the account page lists it. ID
// names the session to RevokeSession; it is derived from the database key
// and cannot be turned back into a cookie.
type SessionInfo struct {
	ID       string
	Agent    string
	Remote   string
	Created  time.Time
	LastSeen time.Time
	Expires  time.Time
	Current  bool // the session whose cookie was passed to UserSessions
}

// Seen records that the session with cookie value id was just used, from
// remote with the given User-Agent. It writes at most once per
// SeenInterval per session, unless the address or browser changed.
func (s *SessionStore) Seen(ctx context.Context, id, remote, agent string) error {
	key, ok := sessionKey(id)
	if !ok {
		return nil
	}
	now := s.db.now()
	agent = truncateValid(agent, maxAgentLen)
	s.seenMu.Lock()
	last, known := s.seen[string(key)]
	fresh := known && now.Sub(last) < SeenInterval
	s.seenMu.Unlock()
	if fresh {
		return nil
	}
	err := s.db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSessions))
		v := b.Get(key)
		if v == nil {
			return nil
		}
		var rec sessionRecord
		if err := decode(v, &rec); err != nil {
			return err
		}
		rec.LastSeen, rec.Remote, rec.Agent = now.UTC(), remote, agent
		return put(b, key, rec)
	})
	if err != nil {
		return fmt.Errorf("store: session seen: %w", err)
	}
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	s.seen[string(key)] = now
	// Forget sessions not seen lately, so the map stays as small as the
	// number of active browsers.
	if len(s.seen) > 64 {
		for k, t := range s.seen {
			if now.Sub(t) >= SeenInterval {
				delete(s.seen, k)
			}
		}
	}
	return nil
}

// UserSessions lists the user's live sessions, the most recently used
// first, marking the one whose cookie value is current.
func (db *DB) UserSessions(ctx context.Context, userID, current string) ([]SessionInfo, error) {
	cur, _ := sessionKey(current)
	now := db.now()
	var out []SessionInfo
	err := db.bolt.View(func(tx *bolt.Tx) error {
		idx := userBucket(tx, bucketUserSessions, userID)
		if idx == nil {
			return nil
		}
		sess := tx.Bucket([]byte(bucketSessions))
		return idx.ForEach(func(k, _ []byte) error {
			v := sess.Get(k)
			if v == nil {
				return nil
			}
			var rec sessionRecord
			if err := decode(v, &rec); err != nil {
				return err
			}
			if !now.Before(rec.Expires) {
				return nil
			}
			out = append(out, SessionInfo{
				ID: base64.RawURLEncoding.EncodeToString(k), Agent: rec.Agent, Remote: rec.Remote,
				Created: rec.Created, LastSeen: cmp.Or(rec.LastSeen, rec.Created), Expires: rec.Expires,
				Current: string(k) == string(cur),
			})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: sessions of %q: %w", userID, err)
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return b.LastSeen.Compare(a.LastSeen) })
	return out, nil
}

// RevokeSession ends one of the user's sessions by its SessionInfo.ID;
// another user's session, or none, is ErrNotFound.
func (db *DB) RevokeSession(ctx context.Context, userID, id string) error {
	key, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(key) != 32 {
		return fmt.Errorf("store: revoke session: %w", ErrNotFound)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		idx := userBucket(tx, bucketUserSessions, userID)
		if idx == nil || idx.Get(key) == nil || tx.Bucket([]byte(bucketSessions)).Get(key) == nil {
			return ErrNotFound
		}
		return deleteSession(tx, key)
	})
	if err != nil {
		return fmt.Errorf("store: revoke session: %w", err)
	}
	return nil
}

// RevokeOtherSessions ends every session of the user except the one whose
// cookie value is keep, and returns how many ended.
func (db *DB) RevokeOtherSessions(ctx context.Context, userID, keep string) (int, error) {
	k, ok := sessionKey(keep)
	if !ok {
		k = nil
	}
	var n int
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteUserSessionsExcept(tx, userID, k)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: revoke other sessions of %q: %w", userID, err)
	}
	return n, nil
}

// truncateValid cuts s to at most n bytes without splitting a character.
func truncateValid(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
