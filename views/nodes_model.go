package views

import "time"

// NodeList is the /settings/nodes page: the user's nodes and the add form.
type NodeList struct {
	CSRF    string
	Rows    []NodeRow
	Groups  []NodeGroup // the rows by cluster, standalone nodes last
	Form    NodeForm
	Problem *NodeProblem // e.g. a refused delete, shown above the list
}

// NodeRow is one node in the list. The live status is loaded separately.
type NodeRow struct {
	ID         string
	Name       string
	Addr       string // host:port
	Cluster    string // "homelab (2 of your nodes)", "standalone"
	Version    string
	IsDefault  bool
	Containers int
}

// NodeForm is the add or edit form. Secrets are never part of it: only
// whether one is kept server-side, and where from.
type NodeForm struct {
	CSRF    string
	Action  string // where the form posts
	Editing bool
	ID      string

	Name, Host, Port, TokenID, SSHUser, SSHPort string

	// What an empty secret field stands for: SecretNone, SecretStored or
	// SecretHeld.
	TokenSecretKept, SSHPasswordKept, SSHKeyKept string
	// Pending is the id under which an earlier try is held server-side (its
	// typed secrets, the keys the user confirmed), for the retry.
	Pending string

	Privileges    []string // what the token needs, "VM.Audit, … on /vms"
	SetupCommands []string // pveum commands creating such a token

	Errors  map[string]string // by field name
	Problem *NodeProblem      // a failed connection test
}

// What an empty secret field of the node form stands for.
const (
	SecretNone   = ""
	SecretStored = "stored" // the node's stored secret, for its unchanged address
	SecretHeld   = "held"   // typed in an earlier try, kept server-side for the retry
)

// NodeProblem is a failure explained: title, what happened, what to check,
// and commands that fix it.
type NodeProblem struct {
	Title    string
	Message  string
	Hint     string
	Commands []string
}

// NodeConfirm is the page where the user checks the keys a node presented
// before Corral sends it any secret and pins them.
type NodeConfirm struct {
	CSRF      string
	PendingID string
	Mode      string // add, edit, retrust
	Name      string
	Addr      string // API host:port
	SSHAddr   string
	SSHUser   string
	TokenID   string

	TLS CertFacts
	SSH HostKeyFacts
}

// CertFacts describe the TLS certificate a node presents.
type CertFacts struct {
	Fingerprint string
	Subject     string
	Issuer      string
	NotBefore   time.Time
	NotAfter    time.Time
	Old         string // the pinned fingerprint when editing
	Changed     bool
}

// HostKeyFacts describe the SSH host key a node presents.
type HostKeyFacts struct {
	KeyType     string
	Fingerprint string
	Old         string
	Changed     bool
}

// NodeStatus is the live status cell of one node.
type NodeStatus struct {
	CSRF    string
	ID      string
	Label   string // reachable, unreachable, certificate changed, ...
	Level   string // ok, warn, bad
	Message string
	Version string
	Retrust bool   // the certificate or host key changed: offer to review
	Tested  string // "tested at 15:04:05" after Test again
}

// NodeStatusID is the element id of a node's status cell.
func NodeStatusID(nodeID string) string { return "node-status-" + nodeID }

func (c NodeConfirm) title() string {
	switch c.Mode {
	case "retrust":
		return "Review the new keys of " + c.Name
	case "edit":
		return "Confirm the changes to " + c.Name
	}
	return "Check and trust " + c.Name
}

// NodeGroup is the user's nodes of one cluster (Name "" for the
// standalone nodes), with what the cluster says of itself.
type NodeGroup struct {
	CSRF    string
	Name    string
	ViaID   string // a registered node of the cluster, to add members through
	Known   bool   // the cluster's status was read
	Quorate bool
	Members int    // members of the cluster, registered or not
	Problem string // why the status could not be read
	Rows    []NodeRow
	Others  []ClusterMember // members the user has not added
}

// ClusterMember is a member of a cluster the user has not added.
type ClusterMember struct {
	Name, IP string
	Online   bool
	New      bool // joined after every member the user added
}

// MembersConfirm is the page where the user checks the keys of the
// members about to be added, before Corral sends them anything secret.
type MembersConfirm struct {
	CSRF      string
	PendingID string
	Cluster   string
	Via       string // the registered node whose token and login they share
	TokenID   string
	Members   []MemberConfirm
	Ready     int // members whose keys could be fetched
}

// MemberConfirm is one member's keys, or why they could not be fetched.
type MemberConfirm struct {
	Name, Member  string // name in Corral, name in Proxmox
	Addr, SSHAddr string
	SSHUser       string
	OwnLogin      bool // a login of its own rather than the shared one
	TLS           CertFacts
	SSH           HostKeyFacts
	Problem       *NodeProblem
}
