package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/sessions"
	bolt "go.etcd.io/bbolt"
)

// SessionUserKey is the session value that holds the signed-in user's id;
// Save indexes the session under it so DeleteUserSessions finds it.
const SessionUserKey = "uid"

// DefaultSessionMaxAge applies when Sessions is given no lifetime.
const DefaultSessionMaxAge = 7 * 24 * time.Hour

const sessionIDLen = 32

type sessionRecord struct {
	V       int               `json:"v"`
	UserID  string            `json:"uid,omitempty"`
	Values  map[string]string `json:"values"`
	Created time.Time         `json:"created"`
	Expires time.Time         `json:"expires"`
	// What the account page lists, kept up to date by SessionStore.Seen.
	Agent    string    `json:"agent,omitempty"`
	Remote   string    `json:"remote,omitempty"`
	LastSeen time.Time `json:"last_seen"`
}

// SessionStore is a gorilla/sessions Store kept in bbolt. The cookie holds
// only a random 32-byte id; the database key is the SHA-256 of that id, so a
// copy of the database file yields no usable session cookie.
//
// Session values must be strings keyed by strings (session.Values["uid"] =
// userID); Save refuses anything else. Flashes (which gorilla stores as
// []interface{}) are therefore not supported.
type SessionStore struct {
	db     *DB
	name   string
	maxAge time.Duration

	// seen remembers when Seen last wrote each session, so a busy page
	// writes the database at most once per SeenInterval per session.
	seenMu sync.Mutex
	seen   map[string]time.Time
}

// Sessions returns a SessionStore for the named cookie. Sessions expire
// maxAge after their last Save; maxAge <= 0 means DefaultSessionMaxAge.
func (db *DB) Sessions(cookieName string, maxAge time.Duration) *SessionStore {
	if maxAge <= 0 {
		maxAge = DefaultSessionMaxAge
	}
	return &SessionStore{db: db, name: cookieName, maxAge: maxAge, seen: map[string]time.Time{}}
}

// Get returns the request's session, cached per request by gorilla's
// registry.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie. A missing, unknown,
// expired or malformed cookie gives a fresh session with IsNew set and no
// error; only a database failure returns an error (with a fresh session).
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = &sessions.Options{Path: "/", MaxAge: int(s.maxAge / time.Second)}
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	key, ok := sessionKey(c.Value)
	if !ok {
		return sess, nil
	}
	var rec sessionRecord
	var found bool
	err = s.db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketSessions)).Get(key)
		if v == nil {
			return nil
		}
		found = true
		return decode(v, &rec)
	})
	if err != nil {
		return sess, fmt.Errorf("store: load session: %w", err)
	}
	if !found || !s.db.now().Before(rec.Expires) {
		return sess, nil
	}
	sess.ID = c.Value
	sess.IsNew = false
	for k, v := range rec.Values {
		sess.Values[k] = v
	}
	return sess, nil
}

// Save persists the session and sets its cookie. A negative
// Options.MaxAge deletes the record and expires the cookie (logout).
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	return s.save(r, w, sess, false)
}

// Rotate gives the session a new id: it deletes the old record and saves
// the values under a fresh id in one transaction. Call it on login so a
// session id planted before sign-in is worthless afterwards.
func (s *SessionStore) Rotate(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	return s.save(r, w, sess, true)
}

func (s *SessionStore) save(r *http.Request, w http.ResponseWriter, sess *sessions.Session, rotate bool) error {
	opts := sessions.Options{}
	if sess.Options != nil {
		opts = *sess.Options
	}
	opts.Path, opts.HttpOnly, opts.SameSite, opts.Secure = "/", true, http.SameSiteLaxMode, r.TLS != nil

	oldKey, hadOld := sessionKey(sess.ID)
	if opts.MaxAge < 0 {
		if hadOld {
			if err := s.db.bolt.Update(func(tx *bolt.Tx) error { return deleteSession(tx, oldKey) }); err != nil {
				return fmt.Errorf("store: delete session: %w", err)
			}
		}
		sess.ID = ""
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", &opts))
		return nil
	}

	rec := sessionRecord{V: recordVersion, Values: make(map[string]string, len(sess.Values))}
	for k, v := range sess.Values {
		ks, kok := k.(string)
		vs, vok := v.(string)
		if !kok || !vok {
			return fmt.Errorf("store: save session: %w: values must be strings keyed by strings, got %T=%T", ErrInvalid, k, v)
		}
		rec.Values[ks] = vs
	}
	rec.UserID = rec.Values[SessionUserKey]
	life := s.maxAge
	if opts.MaxAge > 0 {
		life = time.Duration(opts.MaxAge) * time.Second
	}
	now := s.db.now().UTC()
	rec.Created, rec.Expires = now, now.Add(life)

	id := sess.ID
	if id == "" || !hadOld || rotate {
		id = newSessionID()
	}
	newKey, _ := sessionKey(id)
	err := s.db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSessions))
		if hadOld {
			if v := b.Get(oldKey); v != nil {
				var old sessionRecord
				if err := decode(v, &old); err == nil && !rotate {
					rec.Created, rec.Agent, rec.Remote, rec.LastSeen = old.Created, old.Agent, old.Remote, old.LastSeen
				}
				if err := deleteSession(tx, oldKey); err != nil {
					return err
				}
			}
		}
		return putSession(tx, newKey, rec)
	})
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	sess.ID = id
	http.SetCookie(w, sessions.NewCookie(sess.Name(), id, &opts))
	return nil
}

// DeleteSession removes the session whose cookie value is id.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	key, ok := sessionKey(id)
	if !ok {
		return nil
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error { return deleteSession(tx, key) })
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions removes every session of a user and returns how many
// there were. It reads the per-user index, not every session.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	var n int
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteUserSessions(tx, userID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete sessions of %q: %w", userID, err)
	}
	return n, nil
}

// PurgeExpiredSessions deletes expired sessions and returns how many.
func (db *DB) PurgeExpiredSessions(ctx context.Context) (int, error) {
	now := db.now()
	var n int
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var expired [][]byte
		err := tx.Bucket([]byte(bucketSessions)).ForEach(func(k, v []byte) error {
			var rec sessionRecord
			if err := decode(v, &rec); err != nil || !now.Before(rec.Expires) {
				expired = append(expired, append([]byte(nil), k...))
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		// Delete after the walk: deleting under ForEach skips keys.
		for _, k := range expired {
			if err := deleteSession(tx, k); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge sessions: %w", err)
	}
	return n, nil
}

func newSessionID() string {
	b := make([]byte, sessionIDLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionKey hashes a cookie value into its database key; ok is false for
// a value that is not a well-formed session id.
func sessionKey(id string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != sessionIDLen {
		return nil, false
	}
	sum := sha256.Sum256([]byte(id))
	return sum[:], true
}

func putSession(tx *bolt.Tx, key []byte, rec sessionRecord) error {
	if err := put(tx.Bucket([]byte(bucketSessions)), key, rec); err != nil {
		return err
	}
	if rec.UserID == "" {
		return nil
	}
	idx, err := createUserBucket(tx, bucketUserSessions, rec.UserID)
	if err != nil {
		return err
	}
	return idx.Put(key, nil)
}

// deleteSession removes a session and its index entry; a missing one is
// not an error.
func deleteSession(tx *bolt.Tx, key []byte) error {
	b := tx.Bucket([]byte(bucketSessions))
	v := b.Get(key)
	if v == nil {
		return nil
	}
	var rec sessionRecord
	if err := decode(v, &rec); err == nil && rec.UserID != "" {
		if idx := userBucket(tx, bucketUserSessions, rec.UserID); idx != nil {
			if err := idx.Delete(key); err != nil {
				return err
			}
		}
	}
	return b.Delete(key)
}

func deleteUserSessions(tx *bolt.Tx, userID string) (int, error) {
	return deleteUserSessionsExcept(tx, userID, nil)
}

// deleteUserSessionsExcept removes every session of a user but the one
// stored under keep (nil: none is kept).
func deleteUserSessionsExcept(tx *bolt.Tx, userID string, keep []byte) (int, error) {
	idx := userBucket(tx, bucketUserSessions, userID)
	if idx == nil {
		return 0, nil
	}
	sess := tx.Bucket([]byte(bucketSessions))
	var n int
	kept := false
	err := idx.ForEach(func(k, _ []byte) error {
		if keep != nil && bytes.Equal(k, keep) {
			kept = sess.Get(k) != nil
			return nil
		}
		if sess.Get(k) != nil {
			n++
		}
		return sess.Delete(k)
	})
	if err != nil {
		return 0, err
	}
	if err := tx.Bucket([]byte(bucketUserSessions)).DeleteBucket([]byte(userID)); err != nil {
		return 0, err
	}
	if kept {
		idx, err := createUserBucket(tx, bucketUserSessions, userID)
		if err != nil {
			return 0, err
		}
		return n, idx.Put(keep, nil)
	}
	return n, nil
}
