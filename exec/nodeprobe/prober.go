package nodeprobe

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"corral/exec"
	"corral/exec/access"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
)

// probeBudget bounds each probe (TLS and API, privileges and cluster, SSH)
// on its own, so a dead host answers within seconds, not minutes.
const probeBudget = 5 * time.Second

// Scan is what the credential-free first phase saw: the keys the user
// is asked to confirm.
type Scan struct {
	TLS proxmox.ProbeResult
	SSH exec.HostKeyInfo
}

// Empty reports whether the scan lacks the certificate or the host key, as
// on a held retry, which has nothing awaiting confirmation.
func (s Scan) Empty() bool { return s.TLS.Fingerprint == "" || s.SSH.AuthorizedKey == "" }

// Pin makes n trust exactly the scanned keys.
func (s Scan) Pin(n *store.Node) {
	n.TLSFingerprint, n.TLSUseCA, n.SSHHostKey = s.TLS.Fingerprint, false, s.SSH.AuthorizedKey
}

// Pinned reports whether n already trusts exactly the scanned keys.
func (s Scan) Pinned(n store.Node) bool {
	return !n.TLSUseCA && strings.EqualFold(n.TLSFingerprint, s.TLS.Fingerprint) && n.SSHHostKey == s.SSH.AuthorizedKey
}

// Result is what the authenticated checks found.
type Result struct {
	Version     string   // e.g. 9.1.2
	ClusterName string   // "" for a standalone node
	ClusterKey  string   // proxmox.ClusterKey
	PVENodeName string   // the node's own name inside Proxmox
	Missing     []string // privileges Corral lacks, "Priv on /path"
}

// Apply copies what the probe learnt onto the node record to be stored.
func (p Result) Apply(n *store.Node) {
	n.PVEVersion, n.ClusterName, n.ClusterKey = p.Version, p.ClusterName, p.ClusterKey
	if p.PVENodeName != "" {
		n.PVENodeName = p.PVENodeName
	}
}

// Health states of a stored node, as the list shows them.
const (
	HealthOK             = "reachable"
	HealthUnreachable    = "unreachable"
	HealthTLSChanged     = "certificate changed"
	HealthTokenRejected  = "token rejected"
	HealthForbidden      = "token lacks privileges"
	HealthHostKeyChanged = "host key changed"
	HealthSSHFailed      = "ssh login refused"
	HealthSSHUnreachable = "ssh unreachable"
	HealthPctMissing     = "pct missing"
	HealthError          = "error"
)

// Health is the live status of a stored node.
type Health struct {
	State   string // one of the Health constants
	Message string // plain words, naming the host
	Version string // PVE version when the API answered
}

// Prober tests Proxmox nodes in two phases, so that no secret ever goes
// to a certificate or host key the user has not confirmed: Scan reads the
// keys without credentials, the user compares and confirms them, and only
// then Probe logs in over exactly those keys. Check is the live status of a
// stored node over its pinned trust.
type Prober struct {
	log  *slog.Logger
	opts []proxmox.Option
}

// New returns a prober; opts go to every Proxmox client it builds (tests
// pass a resolver or root CAs).
func New(log *slog.Logger, opts ...proxmox.Option) *Prober {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Prober{log: log, opts: opts}
}

func (p *Prober) clientOpts() []proxmox.Option {
	// One attempt: a probe reports what happened rather than retrying.
	return append([]proxmox.Option{proxmox.WithLogger(p.log), proxmox.WithRetry(proxmox.Retry{Attempts: 1})}, p.opts...)
}

// client is a new client for n within the probe budget. Not the cached
// ones: a probe tests exactly the settings it is given, once.
func (p *Prober) client(n store.Node) (*proxmox.Client, error) {
	cfg := clusters.Config(n)
	cfg.Timeout = probeBudget
	return proxmox.New(cfg, p.clientOpts()...)
}

// Scan reads the TLS certificate of n's API and the host key of its SSH
// port without sending any credential.
func (p *Prober) Scan(ctx context.Context, n store.Node) (Scan, error) {
	var out Scan
	tctx, cancel := context.WithTimeout(ctx, probeBudget)
	defer cancel()
	tlsRes, err := proxmox.Probe(tctx, n.Host, n.Port, p.clientOpts()...)
	if err != nil {
		p.log.Info("node scan failed", "step", "api", "host", n.Host, "err", err)
		return out, apiProblem(n, err)
	}
	out.TLS = *tlsRes
	out.SSH, err = exec.FetchHostKey(ctx, n.Host, n.SSHPort) // its own 5 s budget
	if err != nil {
		p.log.Info("node scan failed", "step", "ssh", "host", n.Host, "err", err)
		return out, sshProblem(n, err)
	}
	return out, nil
}

// errUnpinned is a programming error: Probe was asked to send secrets to
// keys nobody confirmed.
var errUnpinned = errors.New("nodeprobe: probe of a node without a pinned certificate and host key")

// Probe runs the authenticated checks over n's pinned certificate and host
// key (n.TLSFingerprint, n.SSHHostKey; it refuses a node without them):
// /version with the token, the token's privileges, the cluster, then SSH
// login and `pct list`. An endpoint presenting anything else gets no
// secret. A failure is an *Error.
func (p *Prober) Probe(ctx context.Context, n store.Node) (Result, error) {
	var out Result
	if n.TLSFingerprint == "" || n.TLSUseCA || strings.TrimSpace(n.SSHHostKey) == "" {
		return out, errUnpinned
	}
	if err := p.probeAPI(ctx, n, &out); err != nil {
		p.log.Info("node probe failed", "step", "api", "host", n.Host, "err", err)
		return out, err
	}
	// access.HostTarget carries the pinned key: another key gets no password.
	if _, err := exec.ProbeHost(ctx, access.HostTarget(n)); err != nil { // its own 5 s budget
		p.log.Info("node probe failed", "step", "ssh", "host", n.Host, "err", err)
		return out, sshProblem(n, err)
	}
	return out, nil
}

// probeAPI checks the token, its privileges and the cluster over a client
// pinned to n's certificate.
func (p *Prober) probeAPI(ctx context.Context, n store.Node, out *Result) error {
	ctx, cancel := context.WithTimeout(ctx, probeBudget)
	defer cancel()
	c, err := p.client(n)
	if err != nil {
		return apiProblem(n, err)
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		return apiProblem(n, err)
	}
	out.Version = v.Version
	perms, err := c.Permissions(ctx, "")
	if err != nil {
		return apiProblem(n, err)
	}
	out.Missing = perms.MissingForCorral()
	if len(perms) == 0 || len(out.Missing) == len(corralRequirements()) {
		return noPrivilegesProblem(n, out.Missing)
	}
	st, err := c.ClusterStatus(ctx)
	if err != nil {
		return apiProblem(n, err)
	}
	out.ClusterName = st.Name
	out.ClusterKey = proxmox.ClusterKey(st, n.TLSFingerprint)
	for _, m := range st.Nodes {
		if m.Local {
			out.PVENodeName = m.Name
		}
	}
	if out.PVENodeName == "" && len(st.Nodes) == 1 {
		out.PVENodeName = st.Nodes[0].Name
	}
	return nil
}

// Rekeyed is the user's other nodes of saved's cluster with saved's key,
// for the caller to store. A cluster's key names its members, so it
// changes when one joins: nodes added before then kept the old key, and the
// estate split in two, every container shown twice. Each old key is
// checked against a node that holds it, asked through its own pinned API
// which cluster it is in now, so an unrelated cluster of the same name
// keeps its own key.
func (p *Prober) Rekeyed(ctx context.Context, saved store.Node, nodes []store.Node) []store.Node {
	if saved.ClusterName == "" {
		return nil
	}
	var out []store.Node
	answered := map[string]bool{} // old keys a node of theirs answered for
	for _, o := range nodes {
		if o.ID == saved.ID || o.ClusterName != saved.ClusterName || o.ClusterKey == saved.ClusterKey || answered[o.ClusterKey] {
			continue
		}
		key, err := p.clusterKeyNow(ctx, o)
		if err != nil {
			p.log.DebugContext(ctx, "cluster key not re-checked", "node", o.Name, "err", err)
			continue // another node holding the old key may answer
		}
		answered[o.ClusterKey] = true
		if key != saved.ClusterKey {
			continue
		}
		for _, m := range nodes {
			if m.ID != saved.ID && m.ClusterKey == o.ClusterKey {
				m.ClusterKey = key
				out = append(out, m)
			}
		}
	}
	return out
}

// clusterKeyNow asks n's API (pinned, with its token) which cluster it is
// in now, as proxmox.ClusterKey.
func (p *Prober) clusterKeyNow(ctx context.Context, n store.Node) (string, error) {
	c, err := p.client(n)
	if err != nil {
		return "", err
	}
	defer c.Close()
	st, err := c.ClusterStatus(ctx)
	if err != nil {
		return "", err
	}
	return proxmox.ClusterKey(st, n.TLSFingerprint), nil
}

// corralRequirements is everything MissingForCorral can report: what an
// empty permission set lacks.
func corralRequirements() []string { return proxmox.Permissions{}.MissingForCorral() }

// Check is the live status of a stored node over its pinned trust: the API
// and SSH are tried at once, and the API's problem is reported first.
func (p *Prober) Check(ctx context.Context, n store.Node) Health {
	api := make(chan Health, 1)
	go func() { api <- p.checkAPI(ctx, n) }()
	sshH := p.checkSSH(ctx, n)
	apiH := <-api
	if apiH.State != HealthOK {
		return apiH
	}
	if sshH.State != HealthOK {
		sshH.Version = apiH.Version
		return sshH
	}
	return apiH
}

func (p *Prober) checkAPI(ctx context.Context, n store.Node) Health {
	ctx, cancel := context.WithTimeout(ctx, probeBudget)
	defer cancel()
	c, err := p.client(n)
	if err != nil {
		return Health{State: HealthError, Message: err.Error()}
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		h := Health{State: HealthError, Message: apiProblem(n, err).Message}
		var pe *proxmox.Error
		if asProxmoxError(err, &pe) {
			switch pe.Kind {
			case proxmox.KindTLSMismatch:
				h.State = HealthTLSChanged
			case proxmox.KindUnauthorized:
				h.State = HealthTokenRejected
			case proxmox.KindForbidden:
				h.State = HealthForbidden
			case proxmox.KindUnreachable, proxmox.KindTimeout:
				h.State = HealthUnreachable
			}
		}
		return h
	}
	return Health{State: HealthOK, Message: "The API of " + APIAddr(n) + " answers.", Version: v.Version}
}

func (p *Prober) checkSSH(ctx context.Context, n store.Node) Health {
	if strings.TrimSpace(n.SSHHostKey) == "" {
		return Health{State: HealthError, Message: "No SSH host key is pinned for " + n.Host + ": edit the node to test and pin it."}
	}
	_, err := exec.ProbeHost(ctx, access.HostTarget(n)) // ProbeHost has its own 5 s budget
	if err == nil {
		return Health{State: HealthOK}
	}
	prob := sshProblem(n, err)
	h := Health{State: HealthError, Message: prob.Message}
	switch {
	case isHostKeyChanged(err):
		h.State = HealthHostKeyChanged
	case isAuthFailed(err):
		h.State = HealthSSHFailed
	case isPctMissing(err):
		h.State = HealthPctMissing
	case isSSHUnreachable(err):
		h.State = HealthSSHUnreachable
	}
	return h
}

// SSHKeyFingerprint turns a pinned authorized_keys line into the SHA256
// fingerprint ssh shows, or "" when there is none.
func SSHKeyFingerprint(authorized string) string {
	if strings.TrimSpace(authorized) == "" {
		return ""
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(k)
}
