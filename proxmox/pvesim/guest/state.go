package guest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// maxJournal bounds the persisted journal; older entries are dropped.
const maxJournal = 5000

// state is everything about the container that is not a file: what the
// package stand-ins installed, the systemd view of units, the journal and
// file owners. It lives in the root as JSON so that a Guest re-created on the
// same root (the simulator may make one per command) sees it.
type state struct {
	Packages map[string][]string       `json:"packages"` // manager -> sorted names
	Versions map[string]string         `json:"versions"` // "apt:nginx" -> version
	Units    map[string]*unitState     `json:"units"`
	Journal  []journalEntry            `json:"journal"`
	Owners   map[string]string         `json:"owners"` // container path -> "user:group"
	NextPID  int                       `json:"next_pid"`
	Address  string                    `json:"address"`             // eth0 IPv4 CIDR
	Debconf  map[string]*debconfAnswer `json:"debconf,omitempty"`   // question -> answer
	AptLists []string                  `json:"apt_lists,omitempty"` // third-party repositories the last apt-get update fetched, "REPO SUITE"
}

type unitState struct {
	Enabled bool      `json:"enabled"`
	Active  string    `json:"active"` // active, inactive, failed
	PID     int       `json:"pid,omitempty"`
	Proc    string    `json:"proc,omitempty"`
	Listen  []listen  `json:"listen,omitempty"`
	Since   time.Time `json:"since"`
}

// listen is one listening TCP socket; Addr is as ss prints it ("0.0.0.0",
// "[::]", "127.0.0.1").
type listen struct {
	Addr string `json:"addr"`
	Port int    `json:"port"`
}

type journalEntry struct {
	Time  time.Time `json:"time"`
	Unit  string    `json:"unit,omitempty"`
	Ident string    `json:"ident"`
	PID   int       `json:"pid"`
	Msg   string    `json:"msg"`
}

func newState() *state {
	return &state{
		Packages: map[string][]string{},
		Versions: map[string]string{},
		Units:    map[string]*unitState{},
		Owners:   map[string]string{},
		Debconf:  map[string]*debconfAnswer{},
		NextPID:  100,
	}
}

func (st *state) addPackage(mgr, name, version string) bool {
	list := st.Packages[mgr]
	if slices.Contains(list, name) {
		return false
	}
	list = append(list, name)
	slices.Sort(list)
	st.Packages[mgr] = list
	st.Versions[mgr+":"+name] = version
	return true
}

func (st *state) removePackage(mgr, name string) bool {
	list := st.Packages[mgr]
	i := slices.Index(list, name)
	if i < 0 {
		return false
	}
	st.Packages[mgr] = slices.Delete(list, i, i+1)
	delete(st.Versions, mgr+":"+name)
	return true
}

func (st *state) hasPackage(mgr, name string) bool {
	return slices.Contains(st.Packages[mgr], name)
}

func (st *state) unit(name string) *unitState {
	u := st.Units[name]
	if u == nil {
		u = &unitState{Active: "inactive"}
		st.Units[name] = u
	}
	return u
}

func (st *state) log(t time.Time, unit, ident string, pid int, msg string) {
	st.Journal = append(st.Journal, journalEntry{Time: t, Unit: unit, Ident: ident, PID: pid, Msg: msg})
	if n := len(st.Journal); n > maxJournal {
		st.Journal = slices.Clone(st.Journal[n-maxJournal:])
	}
}

func (st *state) pid() int {
	st.NextPID++
	return st.NextPID
}

// update runs fn on the persisted state under both the Guest's mutex and an
// flock on the lock file, so that goroutines and other Guests on the same
// root serialise, and writes the result back atomically.
func (g *Guest) update(fn func(st *state) error) error {
	return g.withState(true, fn)
}

// view runs fn on a snapshot of the state.
func (g *Guest) view(fn func(st *state)) error {
	return g.withState(false, func(st *state) error { fn(st); return nil })
}

func (g *Guest) withState(write bool, fn func(st *state) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	unlock, err := lockPath(filepath.Join(g.dir, lockFile))
	if err != nil {
		return fmt.Errorf("guest: lock state: %w", err)
	}
	defer unlock()
	st, err := g.readState()
	if err != nil {
		return err
	}
	if err := fn(st); err != nil || !write {
		return err
	}
	return g.writeState(st)
}

func (g *Guest) readState() (*state, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("guest: read state: %w", err)
	}
	st := newState()
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("guest: decode state: %w", err)
	}
	return st, nil
}

func (g *Guest) writeState(st *state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("guest: encode state: %w", err)
	}
	tmp := filepath.Join(g.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("guest: write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(g.dir, stateFile)); err != nil {
		return fmt.Errorf("guest: write state: %w", err)
	}
	return nil
}
