package gateway

import (
	"context"
	"net"
	"time"

	"corral/exec"

	"golang.org/x/crypto/ssh"
)

// UserRef identifies a Corral user who logged in to the gateway.
type UserRef struct {
	ID   string
	Name string // the canonical user name, e.g. "alice"
}

// Authenticator checks gateway logins against Corral's users. Both methods
// return an error for a wrong password, an unknown user or an unregistered
// key alike. PublicKeyLogin may be called for keys the client only offers;
// the login is final only when Auditor receives EventAuthOK.
type Authenticator interface {
	PasswordLogin(ctx context.Context, user, password string, remote net.Addr) (UserRef, error)
	PublicKeyLogin(ctx context.Context, user string, key ssh.PublicKey, remote net.Addr) (UserRef, error)
}

// Guest is one of a user's containers as the gateway needs it.
type Guest struct {
	VMID   int
	Name   string
	Node   string // node name shown to the user
	NodeID string
	Status string // "running", "stopped", …
	// Host reaches the Proxmox host that currently holds the container,
	// with the node's credentials and pinned host key.
	Host exec.HostTarget
}

// Directory lists a user's containers across all of that user's nodes, and
// only that user's.
type Directory interface {
	Containers(ctx context.Context, userID string) ([]Guest, error)
}

// Event kinds the gateway audits.
const (
	EventAuthOK         = "ssh.auth.success"
	EventAuthFailed     = "ssh.auth.failure"
	EventAuthLocked     = "ssh.auth.locked"
	EventSessionStart   = "ssh.session.start"
	EventSessionEnd     = "ssh.session.end"
	EventDenied         = "ssh.denied"
	EventHostKeyChanged = "ssh.upstream.hostkey_mismatch"
	// The browser console's sessions take the same path; their kinds say
	// which door they came through.
	EventConsoleStart  = "ssh.console.start"
	EventConsoleEnd    = "ssh.console.end"
	EventConsoleDenied = "ssh.console.denied"
)

// Event is one audit record of the gateway.
type Event struct {
	Kind        string
	Time        time.Time
	UserID      string // empty when no user is known
	User        string // the user name as typed (may be unknown)
	Remote      string
	Method      string // "password" or "publickey" for auth events
	Fingerprint string // the key used, for publickey logins
	VMID        int
	Node        string
	NodeID      string
	Command     string // for exec sessions, the program name (see Config.AuditCommands)
	ExitStatus  int
	Duration    time.Duration
	Reason      string
}

// Auditor records gateway events. It must not block for long.
type Auditor interface {
	Audit(ctx context.Context, e Event) error
}

// Limiter throttles password logins like the web login's limiter; keys are
// "ip:ADDR" and "user:NAME". Public keys are never throttled.
type Limiter interface {
	// Reserve counts a password attempt against every key before the
	// password is checked, so concurrent attempts cannot all get past the
	// limit; judged tells it whether the password was right (given back)
	// or wrong (a failure). While any key has used up its tries, Reserve
	// counts nothing and reports ok false.
	Reserve(ctx context.Context, keys ...string) (judged func(right bool), ok bool)
	// Success forgets key's failures (the account logged in).
	Success(key string)
}
