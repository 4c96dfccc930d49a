package nodeprobe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"corral/exec"
	"corral/exec/access"
	"corral/proxmox"
	"corral/store"
)

// Error is a failed node probe in words a user can act on: which host,
// what went wrong, what to check. It never carries a secret.
type Error struct {
	Step     string   // api, privileges, ssh
	Title    string   // a few words, e.g. "API token rejected"
	Message  string   // what happened, naming the host
	Hint     string   // what to check
	Commands []string // shell commands that fix it, to run on the node
	Err      error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Title + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Title + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// APIAddr is host:port of n's Proxmox API.
func APIAddr(n store.Node) string {
	port := n.Port
	if port == 0 {
		port = proxmox.DefaultPort
	}
	return net.JoinHostPort(n.Host, strconv.Itoa(port))
}

// SSHAddr is host:port of n's SSH.
func SSHAddr(n store.Node) string {
	return access.HostTarget(n).Addr()
}

func asProxmoxError(err error, pe **proxmox.Error) bool { return errors.As(err, pe) }

// apiProblem explains a failure of the Proxmox API side of a probe.
func apiProblem(n store.Node, err error) *Error {
	addr := APIAddr(n)
	pr := &Error{Step: "api", Err: err}
	var pe *proxmox.Error
	if !asProxmoxError(err, &pe) {
		pr.Title = "Connection test failed"
		pr.Message = fmt.Sprintf("Testing %s failed: %v.", addr, err)
		return pr
	}
	var dns *net.DNSError
	switch {
	case pe.Kind == proxmox.KindUnreachable && errors.As(err, &dns):
		pr.Title = "Host not found"
		pr.Message = fmt.Sprintf("Corral cannot find the host %q: the name does not resolve (DNS).", n.Host)
		pr.Hint = "Check the spelling, or enter the node's IP address (the one you open the Proxmox web interface with)."
	case pe.Kind == proxmox.KindUnreachable && errors.Is(err, syscall.ECONNREFUSED):
		pr.Title = "Connection refused"
		pr.Message = fmt.Sprintf("%s refused the connection: nothing listens on port %d there.", n.Host, n.Port)
		pr.Hint = "The Proxmox API listens on port 8006. Check the port, and that pveproxy runs on the node (systemctl status pveproxy)."
	case pe.Kind == proxmox.KindUnreachable && strings.Contains(pe.Message, "timed out"),
		pe.Kind == proxmox.KindTimeout:
		pr.Title = "No answer"
		pr.Message = fmt.Sprintf("%s did not answer within %s.", addr, probeBudget)
		pr.Hint = "Check that the node is powered on, the address is right, and no firewall blocks port " + strconv.Itoa(n.Port) + "."
	case pe.Kind == proxmox.KindTLSMismatch:
		pr.Title = "Certificate changed"
		pr.Message = fmt.Sprintf("The TLS certificate of %s is no longer the one Corral pinned (pinned %s, now %s).", addr, pe.Expected, pe.Actual)
		pr.Hint = "If you renewed the node's certificate, review and trust the new one; otherwise someone may be intercepting the connection."
	case pe.Kind == proxmox.KindUnauthorized:
		pr.Title = "API token rejected"
		pr.Message = fmt.Sprintf("%s rejected the API token %q (401 Authentication failed).", addr, n.TokenID)
		pr.Hint = "Check that the token ID is written user@realm!name (for example root@pam!corral) and that the secret is the UUID Proxmox showed once when the token was created. The token or its user may also be disabled, expired or deleted (Datacenter > Permissions > API Tokens)."
	case pe.Kind == proxmox.KindForbidden:
		pr.Step = "privileges"
		pr.Title = "The API token lacks a privilege"
		pr.Message = pe.UserMessage()
		if pe.Privilege != "" {
			pr.Commands = pveumCommands(n.TokenID, []string{pe.Privilege + " on " + orSlash(pe.ACLPath)})
		}
		pr.Hint = "Grant it to both the user and the token (a privilege-separated token gets only what both have), then try again:"
	default:
		pr.Title = "Connection test failed"
		pr.Message, pr.Hint = pe.UserMessage(), pe.Hint()
	}
	return pr
}

func orSlash(path string) string {
	if path == "" {
		return "/"
	}
	return path
}

// noPrivilegesProblem explains the newcomer trap: a privilege-separated
// token (the default) without ACLs of its own can do nothing.
func noPrivilegesProblem(n store.Node, missing []string) *Error {
	return &Error{
		Step:  "privileges",
		Title: "The API token has no privileges",
		Message: fmt.Sprintf("%s accepted the token %q, but the token may do nothing. "+
			"Tokens are created with \"Privilege Separation\" on: their rights are only what both the user and the token itself were granted, "+
			"and a fresh token has been granted nothing, so Corral would see no containers, storages or cluster.", APIAddr(n), n.TokenID),
		Hint:     "Run these commands on the node as root (or create the token with Privilege Separation unchecked), then try again. Corral needs: " + strings.Join(missing, ", ") + ".",
		Commands: pveumCommands(n.TokenID, missing),
	}
}

// pveumCommands grants the missing privileges ("Priv on /path") through a
// role, to the token and (unless it is root) to its user.
func pveumCommands(tokenID string, missing []string) []string {
	var privs []string
	for _, m := range missing {
		priv, _, _ := strings.Cut(m, " on ")
		if !slices.Contains(privs, priv) {
			privs = append(privs, priv)
		}
	}
	if len(privs) == 0 {
		return nil
	}
	user, _, _ := strings.Cut(tokenID, "!")
	// The role usually exists already (made with an older Corral's list):
	// then it is extended instead of created.
	list := strings.Join(privs, " ")
	cmds := []string{fmt.Sprintf("pveum role add Corral --privs %q || pveum role modify Corral --append 1 --privs %q", list, list)}
	if user != "" && user != "root@pam" {
		cmds = append(cmds, "pveum acl modify / --users "+shellQuote(user)+" --roles Corral")
	}
	if tokenID != "" {
		cmds = append(cmds, "pveum acl modify / --tokens "+shellQuote(tokenID)+" --roles Corral")
	}
	return cmds
}

// TokenSetupCommands create a user, a role with every privilege Corral
// uses and a privilege-separated token, as the node form explains them
// (../shared/reference/proxmox-api.md, section 11). With privilege
// separation the token may do only what both it and its user were granted,
// so both get the role.
func TokenSetupCommands() []string {
	return []string{
		fmt.Sprintf("pveum role add Corral --privs %q", strings.Join(proxmox.CorralRole(), " ")),
		"pveum user add corral@pve",
		"pveum acl modify / --users corral@pve --roles Corral",
		"pveum user token add corral@pve corral --privsep 1",
		"pveum acl modify / --tokens 'corral@pve!corral' --roles Corral",
	}
}

// PrivilegeLines groups what Corral needs by ACL path, for the form:
// "VM.Audit, VM.PowerMgmt, … on /vms".
func PrivilegeLines() []string {
	var paths []string
	byPath := map[string][]string{}
	for _, m := range corralRequirements() {
		priv, path, _ := strings.Cut(m, " on ")
		if _, ok := byPath[path]; !ok {
			paths = append(paths, path)
		}
		byPath[path] = append(byPath[path], priv)
	}
	out := make([]string, 0, len(paths))
	for _, path := range paths {
		out = append(out, strings.Join(byPath[path], ", ")+" on "+path)
	}
	return out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// sshProblem explains a failure of the SSH side of a probe.
func sshProblem(n store.Node, err error) *Error {
	addr := SSHAddr(n)
	how := "password"
	if n.SSHKey != "" {
		how = "private key"
	}
	pr := &Error{Step: "ssh", Err: err}
	var changed *exec.HostKeyChangedError
	switch {
	case errors.As(err, &changed):
		pr.Title = "SSH host key changed"
		pr.Message = fmt.Sprintf("The SSH host key of %s is not the one Corral pinned (pinned %s, now %s).", addr, changed.Pinned, changed.Got)
		pr.Hint = "If the node was reinstalled or its keys regenerated, review and trust the new key; otherwise someone may be intercepting the connection."
	case strings.Contains(err.Error(), "parse private key"):
		pr.Title = "SSH key unreadable"
		pr.Message = "The SSH private key could not be read."
		pr.Hint = "Paste the whole key, including the BEGIN and END lines, in OpenSSH or PEM format and without a passphrase."
	case isAuthFailed(err):
		pr.Title = "SSH login refused"
		pr.Message = fmt.Sprintf("%s refused the SSH login of user %q with the %s you gave.", addr, n.SSHUser, how)
		pr.Hint = "This is the node's Linux login (as in ssh " + n.SSHUser + "@" + n.Host + "), not the API token: check the user name and the " + how + ", and that sshd allows this user to log in (PermitRootLogin)."
	case isPctMissing(err):
		pr.Title = "pct not found"
		pr.Message = fmt.Sprintf("Corral logged in to %s over SSH as %q, but the pct command is not available there.", addr, n.SSHUser)
		pr.Hint = "Corral runs pct exec over SSH to reach inside containers. Check that this address is a Proxmox VE node and that the SSH user is root (or may run /usr/sbin/pct)."
	case isSSHUnreachable(err):
		pr.Title = "SSH not reachable"
		pr.Message = fmt.Sprintf("Nothing answered for SSH at %s.", addr)
		pr.Hint = "Check the SSH port (22 by default), that sshd runs on the node, and that no firewall blocks it."
	default:
		pr.Title = "SSH test failed"
		pr.Message = fmt.Sprintf("Testing SSH at %s as %q failed: %v.", addr, n.SSHUser, err)
		pr.Hint = "Check the SSH settings; the node must run sshd and have pct."
	}
	return pr
}

func isAuthFailed(err error) bool     { return errors.Is(err, exec.ErrAuthFailed) }
func isPctMissing(err error) bool     { return errors.Is(err, exec.ErrPctMissing) }
func isSSHUnreachable(err error) bool { return errors.Is(err, exec.ErrUnreachable) }
func isHostKeyChanged(err error) bool { return errors.Is(err, exec.ErrHostKeyChanged) }

// ValidHost accepts a host name or an IP address, as typed in the form.
func ValidHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}
