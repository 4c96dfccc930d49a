package pvesim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sync"
	"time"
)

// Sim is a running simulated Proxmox estate. Create it with New and stop it with Close.
type Sim struct {
	opts    Options
	log     *slog.Logger
	dir     string
	ownsDir bool
	seed    uint64

	estates []*estate
	nodesMu sync.RWMutex // guards nodes and order: AddClusterNode adds while the estate runs
	nodes   map[string]*Node
	order   []string // node names in creation order

	ctx    context.Context // cancelled by Close; running tasks stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	routeTable  []route
	proxyClient *http.Client
	requests    requestCounts // served requests by node and route: requests.go

	pidMu   sync.Mutex
	nextPID uint32

	restored *savedState // what New read back (Options.Persist), or nil
	saveMu   sync.Mutex  // one save at a time
	built    bool        // New completed; only a whole estate is saved
}

var nodeNameRe = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?$`)

// New starts every node of opts, each with its own HTTPS and SSH listener on 127.0.0.1.
func New(opts Options) (*Sim, error) {
	if len(opts.Clusters) == 0 && len(opts.Standalone) == 0 {
		opts.Standalone = []string{"pve"}
	}
	if opts.TaskDuration == 0 {
		opts.TaskDuration = 300 * time.Millisecond
	}
	if opts.TaskDuration < 0 {
		opts.TaskDuration = 0
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 10 * time.Second
	}
	if opts.Templates == nil {
		opts.Templates = DefaultTemplates
	}
	if opts.RootPassword == "" {
		opts.RootPassword = "pvesim"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Sim{opts: opts, log: log.With("component", "pvesim"), nodes: map[string]*Node{},
		seed: uint64(opts.Seed), nextPID: 0x1000 + uint32(opts.Seed%0x1000)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.routeTable = buildRoutes()
	// Nodes reach each other over loopback only; pinning is the client's job,
	// not the cluster-internal proxy's.
	s.proxyClient = &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback between simulated nodes
		DisableKeepAlives: true,
		ForceAttemptHTTP2: false,
	}}

	s.dir = opts.Dir
	if s.dir == "" {
		d, err := os.MkdirTemp("", "pvesim-*")
		if err != nil {
			return nil, fmt.Errorf("pvesim: %w", err)
		}
		s.dir, s.ownsDir = d, true
	}
	if opts.Persist && opts.Dir == "" {
		return nil, errors.New("pvesim: Persist needs a Dir")
	}
	if err := s.loadState(); err != nil {
		return nil, err
	}
	if err := s.build(); err != nil {
		s.Close()
		return nil, err
	}
	s.built = true
	s.changed()
	return s, nil
}

// build creates the estates, nodes and guests, then starts the listeners.
func (s *Sim) build() error {
	specs := append([]ClusterSpec(nil), s.opts.Clusters...)
	for _, name := range s.opts.Standalone {
		specs = append(specs, ClusterSpec{Name: name, Nodes: []string{name}})
	}
	for i, spec := range specs {
		standalone := i >= len(s.opts.Clusters)
		if err := s.addEstate(spec, standalone); err != nil {
			return err
		}
	}
	if err := s.restoreMembers(); err != nil {
		return err
	}
	for _, t := range s.opts.Tokens {
		s.AddToken(t)
	}
	if restored, err := s.restoreGuests(); restored || err != nil {
		return err
	}
	for _, g := range s.opts.Guests {
		if err := s.AddGuest(g); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sim) addEstate(spec ClusterSpec, standalone bool) error {
	if len(spec.Nodes) == 0 {
		return fmt.Errorf("pvesim: cluster %q has no nodes", spec.Name)
	}
	ca, err := s.savedCA(spec.Name)
	if ca == nil && err == nil {
		ca, err = newCA(s.now())
	}
	if err != nil {
		return err
	}
	e := &estate{name: spec.Name, standalone: standalone, ca: ca, guests: map[int]*guest{}, tokens: map[string]*token{},
		subnet: s.estateSubnet(spec.Name)}
	s.estates = append(s.estates, e)
	for _, name := range spec.Nodes {
		if _, err := s.addNode(e, name); err != nil {
			return err
		}
	}
	return nil
}

// Close stops every listener and task and removes the temporary directory.
func (s *Sim) Close() error {
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, name := range s.Nodes() {
		s.Node(name).close(ctx)
	}
	s.wg.Wait()
	if s.built {
		s.changed() // after the tasks: what they left is what comes back
	}
	if s.ownsDir {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// Node returns the named node, or nil if there is none.
func (s *Sim) Node(name string) *Node {
	s.nodesMu.RLock()
	defer s.nodesMu.RUnlock()
	return s.nodes[name]
}

// Nodes returns every node name in creation order.
func (s *Sim) Nodes() []string {
	s.nodesMu.RLock()
	defer s.nodesMu.RUnlock()
	return append([]string(nil), s.order...)
}

// AddToken registers an API token with every cluster and standalone node.
func (s *Sim) AddToken(spec TokenSpec) {
	for _, e := range s.estates {
		e.mu.Lock()
		e.tokens[spec.FullID()] = newToken(spec)
		e.mu.Unlock()
	}
}

// RemoveToken revokes a token (full id user@realm!name) everywhere.
func (s *Sim) RemoveToken(fullID string) {
	for _, e := range s.estates {
		e.mu.Lock()
		delete(e.tokens, fullID)
		e.mu.Unlock()
	}
}

// ErrNoSuchNode is returned for a node name the simulator does not have.
var ErrNoSuchNode = errors.New("pvesim: no such node")

func (s *Sim) now() time.Time { return s.opts.Now() }

// pid hands out task "process ids".
func (s *Sim) pid() uint32 {
	s.pidMu.Lock()
	defer s.pidMu.Unlock()
	s.nextPID += 7
	return s.nextPID
}

// sleep waits d or until the Sim closes; it reports false when closed.
func (s *Sim) sleep(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}
