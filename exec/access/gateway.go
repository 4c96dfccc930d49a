package access

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/exec/gateway"
	"corral/proxmox/clusters"
	"corral/store"
)

// The SSH gateway (package exec/gateway) declares what it needs; these
// adapters give it Corral's users, keys, audit log and login limiter.

// GatewayAccounts is the part of the store the gateway's logins use.
type GatewayAccounts interface {
	Authenticate(ctx context.Context, username, password string) (store.User, error)
	UserForSSHKey(ctx context.Context, username string, key []byte) (store.User, error)
}

// GatewayAuth checks gateway logins against Corral's accounts.
type GatewayAuth struct{ Accounts GatewayAccounts }

// PasswordLogin accepts the user's Corral password. A disabled account is
// refused even with the right password.
func (a GatewayAuth) PasswordLogin(ctx context.Context, user, password string, _ net.Addr) (gateway.UserRef, error) {
	u, err := a.Accounts.Authenticate(ctx, user, password)
	if err != nil {
		return gateway.UserRef{}, disabledBanner(err)
	}
	return gateway.UserRef{ID: u.ID, Name: u.Username}, nil
}

// PublicKeyLogin accepts a key the user registered at /settings/ssh-keys,
// unless the account is disabled.
func (a GatewayAuth) PublicKeyLogin(ctx context.Context, user string, key ssh.PublicKey, _ net.Addr) (gateway.UserRef, error) {
	u, err := a.Accounts.UserForSSHKey(ctx, user, key.Marshal())
	if err != nil {
		return gateway.UserRef{}, disabledBanner(err)
	}
	return gateway.UserRef{ID: u.ID, Name: u.Username}, nil
}

// disabledBanner tells the ssh client why a disabled account is refused;
// the store says so only after the password or key was right.
func disabledBanner(err error) error {
	if errors.Is(err, store.ErrDisabled) {
		return &ssh.BannerError{Err: err, Message: "corral: this account is disabled; ask a Corral administrator\n"}
	}
	return err
}

// GatewayAuditor writes gateway events into Corral's audit log, marks a
// key as used when a login with it completed, and notes the sign-in on the
// account.
type GatewayAuditor struct {
	Log interface {
		Audit(ctx context.Context, e store.AuditEntry) error
	}
	Keys interface {
		TouchSSHKey(ctx context.Context, userID, fingerprint string) error
	}
	SignIns interface {
		RecordSignIn(ctx context.Context, userID string) error
	}
}

// Audit records one gateway event.
func (a GatewayAuditor) Audit(ctx context.Context, e gateway.Event) error {
	if e.Kind == gateway.EventAuthOK && e.Fingerprint != "" && e.UserID != "" && a.Keys != nil {
		if err := a.Keys.TouchSSHKey(ctx, e.UserID, e.Fingerprint); err != nil {
			return err
		}
	}
	if e.Kind == gateway.EventAuthOK && e.UserID != "" && a.SignIns != nil {
		if err := a.SignIns.RecordSignIn(ctx, e.UserID); err != nil {
			return err
		}
	}
	target := ""
	if e.VMID != 0 {
		target = e.Node + "/" + strconv.Itoa(e.VMID)
	}
	detail := e.Method
	ended := ""
	if e.Kind == gateway.EventSessionEnd || e.Kind == gateway.EventConsoleEnd {
		// How long and how it ended; never what was typed.
		ended = "after " + e.Duration.Round(time.Second).String()
		if e.ExitStatus >= 0 {
			ended += ", exit status " + strconv.Itoa(e.ExitStatus)
		}
	}
	for _, s := range []string{e.Fingerprint, e.Command, e.Reason, ended} {
		if s != "" {
			detail = strings.TrimSpace(detail + " " + s)
		}
	}
	return a.Log.Audit(ctx, store.AuditEntry{
		Time: e.Time, Kind: e.Kind, UserID: e.UserID, Username: e.User, Remote: e.Remote,
		Target: target, Detail: detail,
	})
}

// GatewayLimiter lets the gateway share the web login's limiter, so a guesser
// cannot get more tries by switching between the browser and ssh.
type GatewayLimiter struct{ L *LoginLimiter }

// limiterKey maps the gateway's "ip:ADDR" and "user:NAME" keys onto the web
// login's "addr:ADDR" and "user:name".
func limiterKey(k string) string {
	if a, ok := strings.CutPrefix(k, "ip:"); ok {
		return "addr:" + a
	}
	return strings.ToLower(k)
}

// Reserve counts a password attempt under keys before it is checked (see
// gateway.Limiter and LoginLimiter.Reserve).
func (g GatewayLimiter) Reserve(ctx context.Context, keys ...string) (judged func(right bool), ok bool) {
	mapped := make([]string, len(keys))
	for i, k := range keys {
		mapped[i] = limiterKey(k)
	}
	a, ok, _ := g.L.Reserve(ctx, mapped...)
	if !ok {
		return nil, false
	}
	return func(right bool) {
		if right {
			a.Release()
		} else {
			a.Fail()
		}
	}, true
}

// Success forgets the account's failures (not the address's).
func (g GatewayLimiter) Success(key string) {
	if strings.HasPrefix(key, "user:") {
		g.L.Reset(limiterKey(key))
	}
}

// Directory lists a user's containers for the SSH gateway with the same
// one-call-per-cluster read as the dashboard, each with the pinned SSH
// target of the node that holds it. Only nodes the user added are reachable.
type Directory struct {
	Nodes interface {
		Nodes(ctx context.Context, userID string) ([]store.Node, error)
	}
	Clusters interface {
		Read(ctx context.Context, nodes []store.Node) clusters.Estate
	}
}

var _ gateway.Directory = Directory{}

// Containers lists the user's containers on every cluster that answered; it
// fails only when none did.
func (d Directory) Containers(ctx context.Context, userID string) ([]gateway.Guest, error) {
	nodes, err := d.Nodes.Nodes(ctx, userID)
	if err != nil {
		return nil, err
	}
	est := d.Clusters.Read(ctx, nodes)
	if len(est.Guests) == 0 && len(est.Problems) > 0 {
		p := est.Problems[0]
		return nil, fmt.Errorf("node %s could not be read: %s", p.Node.Name, p.Message)
	}
	out := make([]gateway.Guest, 0, len(est.Guests))
	for _, r := range est.Guests {
		if !r.Registered {
			continue // on a member the user did not add: no SSH login there
		}
		out = append(out, gateway.Guest{
			VMID: int(r.Res.VMID), Name: r.Res.Name, Node: clusters.PVEName(*r.Node), NodeID: r.Node.ID,
			Status: r.Res.Status, Host: HostTarget(*r.Node),
		})
	}
	return out, nil
}
