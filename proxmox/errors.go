package proxmox

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Kind says what went wrong, in terms a user can act on.
type Kind int

// The kinds of failure a call can end in.
const (
	KindUnknown       Kind = iota
	KindUnreachable        // DNS failure, connection refused or dropped, connect timeout
	KindTLSMismatch        // the certificate differs from the pinned fingerprint
	KindTLSUntrusted       // CA verification failed (UseCA) or the TLS handshake broke
	KindUnauthorized       // 401: token unknown, wrong secret, expired or disabled
	KindForbidden          // 403: the token lacks a privilege
	KindNotFound           // the guest, storage, task or endpoint does not exist
	KindRefused            // Proxmox answered with an error of its own (400, 500, ...)
	KindProxyTimeout       // 595/596: the API node could not reach the node in the path
	KindTimeout            // no answer before the deadline
	KindCanceled           // the caller gave up
	KindTaskFailed         // a task ended with an exit status other than OK or WARNINGS
	KindBadResponse        // the answer could not be decoded
	KindLocked             // another task holds the guest's lock (backup, snapshot, …) or its config file
	KindConfigChanged      // the config changed since its digest was read
)

var kindNames = [...]string{
	KindUnknown:       "unknown",
	KindUnreachable:   "unreachable",
	KindTLSMismatch:   "tls mismatch",
	KindTLSUntrusted:  "tls untrusted",
	KindUnauthorized:  "unauthorized",
	KindForbidden:     "forbidden",
	KindNotFound:      "not found",
	KindRefused:       "refused",
	KindProxyTimeout:  "proxy timeout",
	KindTimeout:       "timeout",
	KindCanceled:      "canceled",
	KindTaskFailed:    "task failed",
	KindBadResponse:   "bad response",
	KindLocked:        "locked",
	KindConfigChanged: "config changed",
}

// String returns the kind's short name.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Sentinels for errors.Is; every *Error matches the one of its Kind.
var (
	ErrUnreachable  = errors.New("proxmox: host unreachable")
	ErrTLSMismatch  = errors.New("proxmox: tls certificate mismatch")
	ErrTLSUntrusted = errors.New("proxmox: tls certificate not trusted")
	ErrUnauthorized = errors.New("proxmox: unauthorized")
	ErrForbidden    = errors.New("proxmox: forbidden")
	ErrNotFound     = errors.New("proxmox: not found")
	ErrRefused      = errors.New("proxmox: refused")
	ErrProxyTimeout = errors.New("proxmox: proxy timeout")
	ErrTimeout      = errors.New("proxmox: timeout")
	ErrCanceled     = errors.New("proxmox: canceled")
	ErrTaskFailed   = errors.New("proxmox: task failed")
	ErrBadResponse  = errors.New("proxmox: bad response")
	// ErrLocked also matches a task that failed because of a lock.
	ErrLocked        = errors.New("proxmox: guest locked")
	ErrConfigChanged = errors.New("proxmox: config changed meanwhile")
)

func (k Kind) sentinel() error {
	switch k {
	case KindUnreachable:
		return ErrUnreachable
	case KindTLSMismatch:
		return ErrTLSMismatch
	case KindTLSUntrusted:
		return ErrTLSUntrusted
	case KindUnauthorized:
		return ErrUnauthorized
	case KindForbidden:
		return ErrForbidden
	case KindNotFound:
		return ErrNotFound
	case KindRefused:
		return ErrRefused
	case KindProxyTimeout:
		return ErrProxyTimeout
	case KindTimeout:
		return ErrTimeout
	case KindCanceled:
		return ErrCanceled
	case KindTaskFailed:
		return ErrTaskFailed
	case KindBadResponse:
		return ErrBadResponse
	case KindLocked:
		return ErrLocked
	case KindConfigChanged:
		return ErrConfigChanged
	}
	return nil
}

// Error is the one error type the client returns. It never holds the token
// secret: only the host, the request line and what Proxmox said.
type Error struct {
	Kind   Kind
	Host   string // host:port of the node the client talks to
	Method string // HTTP method, empty for task failures
	Path   string // API path below /api2/json, without query
	Status int    // HTTP status, 0 when there was no response

	// Message is Proxmox's own text, verbatim (reason phrase, else the body's
	// "message"), or a short description of a transport failure.
	Message string
	// Params holds per-parameter errors of a 400 answer.
	Params map[string]string

	// ACLPath and Privilege are parsed from a 403 "Permission check failed
	// (/vms/100, VM.Audit)"; both empty when Proxmox gave free text.
	ACLPath   string
	Privilege string

	// Expected and Actual are the pinned and the presented fingerprints (TLS kinds).
	Expected string
	Actual   string

	// UPID and ExitStatus describe a failed task (KindTaskFailed).
	UPID       string
	ExitStatus string

	// Lock names what holds the guest when a lock stopped the call or its
	// task: a config lock (backup, snapshot, snapshot-delete, rollback,
	// create, destroyed, mounted, migrate, disk, fstrim) or "config" for
	// the config file lock a running resize or restore holds.
	Lock string

	Err error // underlying cause, if any
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("proxmox")
	if e.Host != "" {
		b.WriteString(" " + e.Host)
	}
	if e.Method != "" {
		b.WriteString(": " + e.Method + " " + e.Path)
	} else if e.UPID != "" {
		b.WriteString(": task " + e.UPID)
	}
	b.WriteString(": " + e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (%d)", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if p := e.paramText(); p != "" {
		b.WriteString(" [" + p + "]")
	}
	if e.Kind == KindTLSMismatch {
		fmt.Fprintf(&b, " (expected %s, got %s)", e.Expected, e.Actual)
	}
	if e.Err != nil && e.Message == "" {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's Kind; a failed task
// that a lock stopped is also ErrLocked.
func (e *Error) Is(target error) bool {
	if target == ErrLocked && e.Lock != "" {
		return true
	}
	s := e.Kind.sentinel()
	return s != nil && target == s
}

// paramText joins the parameter errors in a stable order.
func (e *Error) paramText() string {
	if len(e.Params) == 0 {
		return ""
	}
	keys := make([]string, 0, len(e.Params))
	for k := range e.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+strings.TrimSpace(e.Params[k]))
	}
	return strings.Join(parts, "; ")
}

// UserMessage says in plain words what went wrong and on which host.
func (e *Error) UserMessage() string {
	h := e.Host
	if h == "" {
		h = "the Proxmox host"
	}
	switch e.Kind {
	case KindUnreachable:
		return fmt.Sprintf("Cannot reach %s: %s.", h, e.Message)
	case KindTLSMismatch:
		return fmt.Sprintf("The TLS certificate of %s has changed: it was pinned as %s but the server now presents %s.", h, e.Expected, e.Actual)
	case KindTLSUntrusted:
		return fmt.Sprintf("The TLS certificate of %s is not trusted: %s.", h, e.Message)
	case KindUnauthorized:
		return fmt.Sprintf("%s rejected the API token (%s).", h, orDefault(e.Message, "authentication failed"))
	case KindForbidden:
		if e.Privilege != "" {
			return fmt.Sprintf("The API token may not do this on %s: it lacks %s on %s.", h, e.Privilege, e.ACLPath)
		}
		return fmt.Sprintf("The API token may not do this on %s: %s.", h, orDefault(e.Message, "permission denied"))
	case KindNotFound:
		return fmt.Sprintf("%s says it does not exist: %s.", h, orDefault(e.Message, e.Path))
	case KindRefused:
		msg := orDefault(e.Message, "request refused")
		if p := e.paramText(); p != "" {
			msg += " " + p
		}
		return fmt.Sprintf("%s refused the request: %s", h, strings.TrimSuffix(msg, ".")+".")
	case KindProxyTimeout:
		return fmt.Sprintf("%s could not reach the cluster node that holds this resource (%s).", h, orDefault(e.Message, "proxy timeout"))
	case KindTimeout:
		return fmt.Sprintf("%s did not answer in time.", h)
	case KindCanceled:
		return fmt.Sprintf("The request to %s was canceled.", h)
	case KindTaskFailed:
		if e.Lock != "" {
			return fmt.Sprintf("A task on %s could not run: %s.", h, lockWords(e.Lock))
		}
		msg := e.ExitStatus
		if e.Message != "" && e.Message != e.ExitStatus {
			msg = e.Message
		}
		return fmt.Sprintf("A task on %s failed: %s.", h, strings.TrimSuffix(msg, "."))
	case KindLocked:
		return fmt.Sprintf("The container is busy on %s: %s.", h, lockWords(e.Lock))
	case KindConfigChanged:
		return fmt.Sprintf("The container's configuration on %s changed after you opened it, so your change was not applied.", h)
	case KindBadResponse:
		return fmt.Sprintf("%s sent an answer Corral does not understand.", h)
	}
	return fmt.Sprintf("The request to %s failed.", h)
}

// Hint says what the user should check to fix the problem.
func (e *Error) Hint() string {
	switch e.Kind {
	case KindUnreachable:
		return "Check the host name and port (8006 by default), that the node is powered on, and that no firewall blocks it."
	case KindTLSMismatch:
		return "If you renewed or replaced the node's certificate, compare the new fingerprint with the one under Datacenter > node > System > Certificates and pin it again; otherwise someone may be intercepting the connection."
	case KindTLSUntrusted:
		return "Pin the certificate's fingerprint instead of relying on a CA, or install a certificate signed by a CA this machine trusts."
	case KindUnauthorized:
		return "Check the token ID (user@realm!name) and secret, and that the token and its user are enabled and not expired."
	case KindForbidden:
		return "Grant the missing privilege to both the user and the token (a privilege-separated token gets the intersection), e.g. with pveum acl modify."
	case KindNotFound:
		return "It may have been deleted or moved to another node; refresh and try again."
	case KindRefused:
		return "Proxmox's message above says why; fix that and retry."
	case KindProxyTimeout:
		return "Check that every cluster node is online and can reach the others."
	case KindTimeout:
		return "The node may be overloaded or the network slow; try again in a moment."
	case KindTaskFailed:
		if e.Lock != "" {
			return lockHint
		}
		return "Open the task log on the node for details."
	case KindLocked:
		return lockHint
	case KindConfigChanged:
		return "Reload the page to see the current values, then make your change again."
	case KindBadResponse:
		return "Check that the address points to a Proxmox VE API (port 8006)."
	}
	return ""
}

// lockHint is what to do about a lock.
const lockHint = "Wait for that task to finish (the node's task list shows it) and try again. " +
	"A lock left behind by a task that crashed can be removed on the node with pct unlock VMID."

// lockWords says in plain words what a lock means.
func lockWords(lock string) string {
	switch lock {
	case "backup":
		return "a backup of it is running"
	case "snapshot":
		return "a snapshot of it is being taken"
	case "snapshot-delete":
		return "one of its snapshots is being deleted"
	case "rollback":
		return "it is being rolled back to a snapshot"
	case "create":
		return "it is being created or restored"
	case "destroyed":
		return "it is being deleted"
	case "mounted":
		return "its disks are mounted on the host (pct mount)"
	case "migrate":
		return "it is being moved to another node"
	case "disk":
		return "one of its disks is being moved"
	case "fstrim":
		return "its disks are being trimmed"
	case "config":
		return "another change to its configuration is still running, such as a disk resize or a restore"
	}
	return "it is locked (" + lock + ")"
}

var (
	// lockPattern finds PVE's check_lock message, also inside longer ones
	// ("unable to restore CT 105 - CT is locked (backup)").
	lockPattern = regexp.MustCompile(`(?:CT|VM) is locked \(([a-z-]+)\)`)
	// lockFilePattern is lock_config giving up after 10 s.
	lockFilePattern = regexp.MustCompile(`can't lock file '[^']*pve-config-\d+\.lock' - got timeout`)
)

// lockIn returns the lock a message reports, "" for none.
func lockIn(msg string) string {
	if m := lockPattern.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	if lockFilePattern.MatchString(msg) {
		return "config"
	}
	return ""
}

// configChangedMessage is assert_if_modified's refusal of a stale digest.
const configChangedMessage = "detected modified configuration - file changed by other user? Try again."

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// asError is errors.As for *Error.
func asError(err error, target **Error) bool { return errors.As(err, target) }

// Describe is err in plain words for a page: an *Error's UserMessage, "no
// answer in time" for a deadline that passed, else the error's text.
func Describe(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.UserMessage()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return err.Error()
}
