// Package handlers holds Corral's HTTP routes and middleware. Handlers are
// thin: they parse the request, call a store or service through a small
// interface declared here, and render a view.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"corral/exec/access"
	"corral/exec/nodeprobe"
	"corral/proxmox/clusters"
	"corral/store"
)

// Accounts is what the sign-in pages need from the user store.
type Accounts interface {
	CountUsers(ctx context.Context) (int, error)
	CreateFirstUser(ctx context.Context, username, password string) (store.User, error)
	Authenticate(ctx context.Context, username, password string) (store.User, error)
	UserByID(ctx context.Context, id string) (store.User, error)
	RecordSignIn(ctx context.Context, userID string) error
}

// NodeProber tests nodes in two phases, so that no secret ever goes to a
// certificate or host key the user has not confirmed; *nodeprobe.Prober is
// the real one (its methods say what each does).
type NodeProber interface {
	Scan(ctx context.Context, n store.Node) (nodeprobe.Scan, error)
	Probe(ctx context.Context, n store.Node) (nodeprobe.Result, error)
	Check(ctx context.Context, n store.Node) nodeprobe.Health
	Rekeyed(ctx context.Context, saved store.Node, nodes []store.Node) []store.Node
}

// ClusterReader reads a user's clusters, one read per cluster;
// *clusters.Reader is one.
type ClusterReader interface {
	Read(ctx context.Context, nodes []store.Node) clusters.Estate
	ReadCluster(ctx context.Context, members []store.Node) clusters.Cluster
	// Members reads /cluster/status through the first member that answers.
	Members(ctx context.Context, members []store.Node) clusters.Membership
	// Forget drops shared reads of n's cluster after Corral changed it.
	Forget(n store.Node)
}

// SessionStore is a gorilla/sessions store that can also rotate a session id.
type SessionStore interface {
	sessions.Store
	Rotate(r *http.Request, w http.ResponseWriter, s *sessions.Session) error
	// Seen notes that the session with cookie value id is in use, from
	// remote with the given User-Agent (throttled by the store).
	Seen(ctx context.Context, id, remote, agent string) error
}

// Auditor records security-relevant events.
type Auditor interface {
	Audit(ctx context.Context, e store.AuditEntry) error
}

// Deps are the Handler's collaborators; main fills them in.
type Deps struct {
	Accounts  Accounts
	Sessions  SessionStore
	Audit     Auditor
	Limiter   *access.LoginLimiter
	Templates TemplateStore
	Proxmox   clusters.Clients // every node's API, shared per node settings
	Clusters  ClusterReader    // reads a user's clusters; from Proxmox when nil

	// One field per area; each area's file declares its interface.
	Nodes       NodeStore
	Prober      NodeProber    // tests candidate nodes and checks stored ones
	Pending     *PendingNodes // node tests awaiting the user's confirmation; new when nil
	Containers  ContainerStore
	VMIDs       VMIDCache
	Provisioner Provisioner
	SSHKeys     SSHKeyStore
	Events      EventStore
	Services    ServiceInspector
	Locks       *ContainerLocks
	SSHGateway  SSHGatewayInfo
	Console     ConsoleShells // the browser console; the Console tab says it is unavailable when nil
	Users       UserAdmin     // account management and invite links
	Account     AccountSelf   // a user's own password and sessions
	Activity    AuditLog      // the audit log, read a page at a time
	AuditTTL    time.Duration // how long audit entries are kept; zero: DefaultAuditRetention
	Cookies     CookiePolicy  // when cookies are Secure
	Logger      *slog.Logger
	Version     string
	Now         func() time.Time

	// DashboardRefresh is how often the dashboard polls; 10 s when zero.
	// Browser tests set it long and trigger refreshes themselves.
	DashboardRefresh time.Duration
}

// DefaultAuditRetention is how long audit entries are kept unless
// configured otherwise.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Handler serves every route. Build it with New and mount it with Register.
type Handler struct {
	Deps
	gateway GatewaySessions // set by UseGateway once the gateway exists
	tickets *consoleTickets // the browser console's WebSocket tickets
}

// New checks the dependencies and returns a Handler.
func New(d Deps) *Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Clusters == nil && d.Proxmox != nil {
		d.Clusters = clusters.NewReader(d.Proxmox)
	}
	if d.Limiter == nil {
		d.Limiter = access.NewLoginLimiter(5, time.Minute, d.Now)
	}
	if d.Events == nil {
		if es, ok := d.Containers.(EventStore); ok {
			d.Events = es
		}
	}
	if d.Services == nil {
		d.Services = NewSSHInspector()
	}
	if d.Locks == nil {
		d.Locks = NewContainerLocks()
	}
	if d.DashboardRefresh <= 0 {
		d.DashboardRefresh = 10 * time.Second
	}
	// The store is usually all three; tests and serve may pass their own.
	if u, ok := d.Accounts.(UserAdmin); ok && d.Users == nil {
		d.Users = u
	}
	if a, ok := d.Accounts.(AccountSelf); ok && d.Account == nil {
		d.Account = a
	}
	if l, ok := d.Audit.(AuditLog); ok && d.Activity == nil {
		d.Activity = l
	}
	if d.AuditTTL <= 0 {
		d.AuditTTL = DefaultAuditRetention
	}
	if d.Pending == nil {
		d.Pending = NewPendingNodes()
	}
	return &Handler{Deps: d, tickets: newConsoleTickets(d.Now)}
}
