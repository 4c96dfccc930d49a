package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"corral/handlers"
	"corral/store"
)

// The isolation net: every route the server registers, asked by account B
// (signed in, with his valid CSRF token, as a plain and as an htmx request)
// with account A's ids, must answer as it does for an id nobody holds (404
// unless the row says otherwise), show nothing of A's in its body or
// headers, reach none of A's nodes, and change none of A's data. Every
// state-changing route is also asked with a forged CSRF token and must
// refuse it (403), which shows it was B's token that let the walk through.
//
// Adding a route? Add its row to isoRoutes, keyed "METHOD /path" exactly as
// Echo lists it (":param" included). A route without a row fails
// TestIsolation and TestIsolationRouteTable with a message naming it, as
// does a row whose route is gone. A row is one of:
//
//   - isoPublic("why"): the route serves no account's data (sign-in,
//     assets). Its GET is still asked as B and checked for leaks; other
//     methods are not asked.
//   - isoOwn("why", field, value, …): the route takes no id; B gets his own
//     data. It is asked as B (a POST with the given fields) and checked for
//     leaks and for a 5xx.
//   - isoCases(isoCase{…}, …): the route takes ids. A case names the filler
//     of every path parameter (path) and of every form or query field that
//     carries an id (form); every combination of their values is asked.
//     fixed adds fields that get the request past its input checks ("{vmid}"
//     in a value becomes the vmid filled in). Fillers give A's ids
//     (isoANode("id"), isoAContainer for :node and :vmid, isoAJob("id"),
//     isoATemplate("id"), isoABucket, isoAPending, isoAKey, isoAUPID) or B's
//     own where a case mixes them (isoBNode("node_id")). want lists the
//     statuses allowed (404 when empty; isoRedirected for 303 or htmx's 204;
//     isoAsUnknown for "whatever an unknown id gets"). The same request with
//     ids nobody holds in A's places must get the same status and redirect,
//     so the answer tells B nothing about A. shared is what A's shared
//     template gets where isoATemplate fills (empty: refused like her
//     private one).
//
// A new kind of id (a snapshot name, a session id, a user id) needs a new
// filler next to the others, backed by something A owns in the estate
// (isolation_estate_test.go: create it there and add its names to
// sentinels and its records to snapshot), so there is a real one of A's to
// aim at.
var isoRoutes = map[string]isoRow{
	"GET /healthz":               isoPublic("liveness answer, the same for everyone"),
	"GET /static/*":              isoPublic("embedded CSS and scripts"),
	"GET /":                      isoOwn("sends the caller to their own start page"),
	"GET /setup":                 isoPublic("first-account form, closed once an account exists"),
	"POST /setup":                isoPublic("first-account form, closed once an account exists"),
	"GET /login":                 isoPublic("sign-in form"),
	"POST /login":                isoPublic("sign-in form"),
	"POST /logout":               isoPublic("ends the caller's own session and takes no id (not asked: it would end B's walk)"),
	"GET /templates":             isoOwn("the caller's templates, the built-ins and shared ones"),
	"GET /templates/new":         isoOwn("an empty template form"),
	"POST /templates/import":     isoOwn("makes a template for the caller from an uploaded file"),
	"POST /templates/import-dir": isoOwn("imports the configured directory into the caller's templates"),
	"GET /templates/buckets":     isoOwn("the caller's package buckets"),
	"POST /templates/buckets":    isoOwn("creates a bucket for the caller", "name", "bravo-new-bucket"),
	"GET /settings/nodes":        isoOwn("the caller's nodes"),
	"GET /settings/ssh-keys":     isoOwn("the caller's SSH keys"),
	"POST /settings/ssh-keys":    isoOwn("adds a key to the caller's account", "key", "not a key"),

	// Nodes.
	"POST /settings/nodes": isoCases(isoCase{
		// A failed add comes back as the form, whatever the pending id was:
		// B's try takes nothing A typed.
		form:  isoFills(isoAPending("pending")),
		fixed: url.Values{"name": {"bravo-second-node"}},
		want:  []int{http.StatusOK, http.StatusUnprocessableEntity},
	}),
	"POST /settings/nodes/confirm": isoCases(isoCase{
		// Someone else's probe is "expired", like one that never was.
		form: isoFills(isoAPending("pending")),
		want: isoRedirected,
	}),
	"GET /settings/nodes/:id":            isoCases(isoCase{path: isoFills(isoANode("id"))}),
	"POST /settings/nodes/:id":           isoCases(isoCase{path: isoFills(isoANode("id")), form: isoFills(isoAPending("pending")), fixed: url.Values{"name": {"bravo-renamed"}}}),
	"GET /settings/nodes/:id/status":     isoCases(isoCase{path: isoFills(isoANode("id"))}),
	"POST /settings/nodes/:id/test":      isoCases(isoCase{path: isoFills(isoANode("id"))}),
	"GET /settings/nodes/:id/containers": isoCases(isoCase{path: isoFills(isoANode("id"))}),
	"POST /settings/nodes/:id/retrust":   isoCases(isoCase{path: isoFills(isoANode("id"))}),
	"POST /settings/nodes/:id/default":   isoCases(isoCase{path: isoFills(isoANode("id"))}),
	"POST /settings/nodes/:id/delete":    isoCases(isoCase{path: isoFills(isoANode("id"))}),
	// Adding members of A's cluster through A's node (issue 20).
	"POST /settings/nodes/:id/members": isoCases(isoCase{path: isoFills(isoANode("id")), fixed: url.Values{"member": {"alpha-pve3"}}}),

	// Containers.
	"GET /containers": isoCases(isoCase{
		// A filter for a node that is not B's shows B's own page.
		form: isoFills(isoANode("node")), want: []int{http.StatusOK},
	}),
	"GET /containers/:node/:vmid":                                isoContainerRoute(nil),
	"POST /containers/:node/:vmid/services/refresh":              isoContainerRoute(nil),
	"GET /containers/:node/:vmid/services/:service/logs":         isoContainerRoute(nil, isoService("service")),
	"POST /containers/:node/:vmid/services/:service/credentials": isoContainerRoute(nil, isoService("service")),
	"POST /containers/:node/:vmid/start":                         isoContainerRoute(nil),
	"POST /containers/:node/:vmid/stop":                          isoContainerRoute(nil),
	"POST /containers/:node/:vmid/shutdown":                      isoContainerRoute(nil),
	"POST /containers/:node/:vmid/reboot":                        isoContainerRoute(nil),
	// The browser console (issue 18): the ticket and the WebSocket.
	"POST /containers/:node/:vmid/console/ticket": isoContainerRoute(nil),
	"GET /containers/:node/:vmid/console/ws":      isoContainerRoute(url.Values{"ticket": {"x"}}),
	"POST /containers/:node/:vmid/delete":         isoContainerRoute(url.Values{"confirm_vmid": {"{vmid}"}}),
	// Accounts (issue 16). A is the first account and so an administrator;
	// B is a member, so the admin routes are 404 to him whatever they name.
	"GET /settings/account":                         isoOwn("B's own account page"),
	"POST /settings/account/password":               isoOwn("B's own password; a wrong current password changes nothing", "current", "not-bobs-password", "password", "new-password-1", "confirm", "new-password-1"),
	"POST /settings/account/sessions/revoke-others": isoOwn("B's own other sessions; keeps the caller's"),
	"POST /settings/account/sessions/:id/revoke":    isoCases(isoCase{path: isoFills(isoASession("id"))}),
	"GET /settings/activity":                        isoCases(isoCase{form: isoFills(isoAUser("user")), want: []int{http.StatusOK}}),
	"GET /settings/users":                           isoOwn("admin only: 404 to a member"),
	"POST /settings/users":                          isoOwn("admin only: 404 to a member", "username", "mallory", "role", "admin"),
	"POST /settings/users/:id/disable":              isoCases(isoCase{path: isoFills(isoAUser("id"))}),
	"POST /settings/users/:id/enable":               isoCases(isoCase{path: isoFills(isoAUser("id"))}),
	"POST /settings/users/:id/reset":                isoCases(isoCase{path: isoFills(isoAUser("id"))}),
	"POST /settings/users/:id/role":                 isoCases(isoCase{path: isoFills(isoAUser("id")), fixed: url.Values{"role": {"member"}}}),
	"POST /settings/users/:id/delete":               isoCases(isoCase{path: isoFills(isoAUser("id")), fixed: url.Values{"remove_nodes": {"1"}}}),
	"GET /invite/:token":                            isoPublic("the token is the credential; an unknown one is 404"),
	"POST /invite/:token":                           isoPublic("the token is the credential; an unknown one is 404"),
	// The confirmation pages for visitors without JavaScript.
	"GET /containers/:node/:vmid/stop":     isoContainerRoute(nil),
	"GET /containers/:node/:vmid/shutdown": isoContainerRoute(nil),
	"GET /containers/:node/:vmid/reboot":   isoContainerRoute(nil),
	"GET /containers/:node/:vmid/delete":   isoContainerRoute(nil),
	"POST /containers/vmid": isoCases(
		isoCase{form: isoFills(isoANode("node_id"), isoAVMID("vmid"))},
		// On B's own node, A's VMID is just a number: B's cluster decides,
		// and nothing A noted in her VMID cache shows.
		isoCase{form: isoFills(isoBNode("node_id"), isoAVMID("vmid")), want: []int{http.StatusOK}},
	),

	// The creation wizard.
	"GET /containers/new": isoCases(
		isoCase{form: isoFills(isoANode("node"))},
		// A's private template is no choice of B's; her shared one is.
		isoCase{form: isoFills(isoBNode("node"), isoATemplate("template")), want: []int{http.StatusOK}, shared: []int{http.StatusOK}},
	),
	"POST /containers/new": isoCases(
		isoCase{form: isoFills(isoANode("node_id")), fixed: url.Values{"step": {"configure"}}},
		isoCase{form: isoFills(isoBNode("node_id"), isoATemplate("template"), isoANode("settled_node")),
			fixed: url.Values{"at": {"template"}, "step": {"configure"}},
			want:  []int{http.StatusOK, http.StatusUnprocessableEntity}, shared: []int{http.StatusOK}},
		isoCase{form: isoFills(isoBNode("node_id"), isoAUPID("dl_upid")),
			fixed: url.Values{"template": {"scratch"}, "at": {"configure"}, "dl_file": {"debian-12-standard_12.12-1_amd64.tar.zst"}},
			want:  []int{http.StatusOK}},
	),
	"GET /containers/new/download": isoCases(
		isoCase{form: isoFills(isoANode("node_id"), isoAUPID("upid"))},
		isoCase{form: isoFills(isoBNode("node_id"), isoAUPID("upid")), want: []int{http.StatusOK}},
	),
	"POST /containers": isoCases(
		isoCase{form: isoFills(isoANode("node_id"), isoATemplate("template")), fixed: isoCreateForm()},
		// B's node with A's private template: the template is not B's to
		// use, so the plan cannot be the one reviewed; no job starts.
		isoCase{form: isoFills(isoBNode("node_id"), isoATemplate("template")), fixed: isoCreateForm(),
			want: []int{http.StatusOK, http.StatusUnprocessableEntity}, shared: []int{http.StatusOK, http.StatusUnprocessableEntity}},
	),

	// Creation jobs.
	"GET /jobs/:id":                 isoCases(isoCase{path: isoFills(isoAJob("id"))}),
	"GET /jobs/:id/events":          isoCases(isoCase{path: isoFills(isoAJob("id"))}),
	"POST /jobs/:id/retry":          isoCases(isoCase{path: isoFills(isoAJob("id"))}),
	"GET /jobs/:id/retry-template":  isoCases(isoCase{path: isoFills(isoAJob("id"))}),
	"POST /jobs/:id/retry-template": isoCases(isoCase{path: isoFills(isoAJob("id")), fixed: url.Values{"changes": {"x"}}}),
	"POST /jobs/:id/delete":         isoCases(isoCase{path: isoFills(isoAJob("id"))}),

	// Templates: A's shared one may be read, exported and copied, never changed.
	"POST /templates/new": isoCases(isoCase{
		// Ticking A's bucket copies nothing from it.
		form:  isoFills(isoABucket("bucket")),
		fixed: url.Values{"action": {"copy-buckets"}, "name": {"bravo-template"}},
		want:  []int{http.StatusOK},
	}),
	"GET /templates/:id":      isoCases(isoCase{path: isoFills(isoATemplate("id")), shared: []int{http.StatusOK}}),
	"GET /templates/:id/edit": isoCases(isoCase{path: isoFills(isoATemplate("id"))}),
	// Reset is for the owner's copy of a built-in: A's templates are 404.
	"GET /templates/:id/reset":   isoCases(isoCase{path: isoFills(isoATemplate("id"))}),
	"POST /templates/:id/reset":  isoCases(isoCase{path: isoFills(isoATemplate("id"))}),
	"GET /docs/:name":            isoPublic("documentation shipped with Corral; no account's data"),
	"POST /templates/:id/edit":   isoCases(isoCase{path: isoFills(isoATemplate("id")), form: isoFills(isoABucket("bucket")), fixed: url.Values{"name": {"bravo-took-it"}}}),
	"GET /templates/:id/export":  isoCases(isoCase{path: isoFills(isoATemplate("id")), shared: []int{http.StatusOK}}),
	"GET /templates/:id/delete":  isoCases(isoCase{path: isoFills(isoATemplate("id"))}),
	"POST /templates/:id/delete": isoCases(isoCase{path: isoFills(isoATemplate("id"))}),
	"POST /templates/:id/copy":   isoCases(isoCase{path: isoFills(isoATemplate("id")), shared: isoRedirected}),
	"POST /templates/:id/share": isoCases(
		isoCase{path: isoFills(isoATemplate("id")), fixed: url.Values{"shared": {"1"}}},
		isoCase{path: isoFills(isoATemplate("id")), fixed: url.Values{"shared": {"0"}}},
	),

	// Package buckets.
	"POST /templates/buckets/:id":        isoCases(isoCase{path: isoFills(isoABucket("id")), fixed: url.Values{"name": {"bravo-renamed"}}}),
	"POST /templates/buckets/:id/import": isoCases(isoCase{path: isoFills(isoABucket("id")), fixed: url.Values{"manager": {"apt"}, "packages": {"bravo-pkg"}}}),
	"POST /templates/buckets/:id/remove": isoCases(isoCase{path: isoFills(isoABucket("id")), fixed: url.Values{"manager": {"apt"}, "name": {"alpha-apt-package"}}}),
	"GET /templates/buckets/:id/delete":  isoCases(isoCase{path: isoFills(isoABucket("id"))}),
	"POST /templates/buckets/:id/delete": isoCases(isoCase{path: isoFills(isoABucket("id"))}),

	// SSH keys.
	"POST /settings/ssh-keys/delete": isoCases(isoCase{form: isoFills(isoAKey("fingerprint"))}),

	// Day two (issue 19): A's snapshot names, backup volumes and task ids
	// on her containers, or with B's node, answer as unknown ones.
	"GET /containers/:node/:vmid/settings": isoContainerRoute(nil),
	"POST /containers/:node/:vmid/settings": isoCases(
		isoDayTwoCases(url.Values{"op": {"settings"}, "step": {"apply"}, "digest": {"x"}, "memory": {"1024"}, "cores": {"2"}})...),
	"GET /containers/:node/:vmid/snapshots":                 isoContainerRoute(nil),
	"POST /containers/:node/:vmid/snapshots":                isoContainerRoute(url.Values{"snap_name": {"bravo-snap"}}),
	"GET /containers/:node/:vmid/snapshots/:name/:action":   isoContainerRoute(nil, isoASnapshotName("name"), isoWord("action", "rollback")),
	"POST /containers/:node/:vmid/snapshots/:name/rollback": isoContainerRoute(nil, isoASnapshotName("name")),
	"POST /containers/:node/:vmid/snapshots/:name/delete":   isoContainerRoute(nil, isoASnapshotName("name")),
	"GET /containers/:node/:vmid/backups":                   isoContainerRoute(url.Values{"storage": {"local"}}),
	"POST /containers/:node/:vmid/backups":                  isoContainerRoute(url.Values{"storage": {"local"}, "mode": {"stop"}}),
	"POST /containers/:node/:vmid/backups/restore": isoCases(
		isoCase{path: isoFills(isoAContainer), form: isoFills(isoABackup("archive")), fixed: url.Values{"target": {"over"}, "confirm_vmid": {"{vmid}"}}},
		isoCase{path: isoFills(isoBNodeAVMID), form: isoFills(isoABackup("archive")), fixed: url.Values{"target": {"over"}, "confirm_vmid": {"{vmid}"}}, want: isoAsUnknown},
		isoCase{path: isoFills(isoAContainer), form: isoFills(isoABackup("archive")), fixed: url.Values{"target": {"new"}, "vmid": {"9100"}, "restore_storage": {"local-lvm"}}},
		isoCase{path: isoFills(isoBNodeAVMID), form: isoFills(isoABackup("archive")), fixed: url.Values{"target": {"new"}, "vmid": {"9100"}, "restore_storage": {"local-lvm"}}, want: isoAsUnknown},
	),
	"GET /containers/:node/:vmid/services/:service/:action":  isoContainerRoute(nil, isoService("service"), isoWord("action", "restart")),
	"POST /containers/:node/:vmid/services/:service/:action": isoContainerRoute(nil, isoService("service"), isoWord("action", "stop")),
	"GET /containers/:node/:vmid/tasks/:upid":                isoContainerRoute(nil, isoAUPID("upid")),
	"GET /containers/:node/:vmid/tasks/:upid/events":         isoContainerRoute(nil, isoAUPID("upid")),
	"POST /jobs/:id/rollback-retry":                          isoCases(isoCase{path: isoFills(isoAJob("id"))}),
}

// isoRow is how B aims at one route; see isoRoutes.
type isoRow struct {
	public string // why the route serves no account's data
	own    string // why the route takes no id
	fixed  url.Values
	cases  []isoCase
}

// isoCase is one way of filling a route with ids.
type isoCase struct {
	path, form []isoFill
	fixed      url.Values // "{name}" in a value is replaced by the binding of name
	want       []int      // statuses for A's ids; empty: 404
	shared     []int      // statuses for A's shared template where isoATemplate fills; empty: as for her private one
}

func isoPublic(why string) isoRow { return isoRow{public: why} }

// isoOwn is a route without ids; kv are fixed form fields for a POST.
func isoOwn(why string, kv ...string) isoRow {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return isoRow{own: why, fixed: v}
}

func isoCases(cs ...isoCase) isoRow    { return isoRow{cases: cs} }
func isoFills(fs ...isoFill) []isoFill { return fs }

// isoContainerRoute is a route under /containers/:node/:vmid: A's
// containers on her nodes are not found; on B's own node, A's VMIDs answer
// as numbers B's Proxmox does not hold.
func isoContainerRoute(fixed url.Values, more ...isoFill) isoRow {
	return isoCases(
		isoCase{path: append(isoFills(isoAContainer), more...), fixed: fixed},
		isoCase{path: append(isoFills(isoBNodeAVMID), more...), fixed: fixed, want: isoAsUnknown},
	)
}

// isoRedirected is a redirect: 303, or 204 with HX-Redirect for htmx.
var isoRedirected = []int{http.StatusSeeOther, http.StatusNoContent}

// isoAsUnknown marks a case whose status is whatever an unknown id gets:
// B asks his own node about a number it does not hold.
var isoAsUnknown = []int{-1}

// isoCreateForm is a complete wizard form but for node and template.
func isoCreateForm() url.Values {
	return url.Values{"hostname": {"bravo-new"}, "vmid": {"9100"}, "os_template": {"local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst"},
		"cores": {"1"}, "memory": {"512"}, "swap": {"512"}, "disk": {"4"}, "storage": {"local-lvm"}, "bridge": {"vmbr0"},
		"net": {"dhcp"}, "unprivileged": {"on"}, "plan_digest": {"x"}}
}

// isoBinding is one set of values for named parameters. aliens are the
// names whose values are A's (the rest are B's own); shared marks A's
// shared template.
type isoBinding struct {
	vals   map[string]string
	aliens []string
	shared bool
}

// isoFill gives the bindings one filler offers.
type isoFill func(est *isoEstate) []isoBinding

func isoOne(name, v string) isoBinding {
	return isoBinding{vals: map[string]string{name: v}, aliens: []string{name}}
}

func isoANode(name string) isoFill {
	return func(est *isoEstate) (out []isoBinding) {
		for _, n := range est.aNodes {
			out = append(out, isoOne(name, n.ID))
		}
		return out
	}
}

func isoBNode(name string) isoFill {
	return func(est *isoEstate) []isoBinding {
		return []isoBinding{{vals: map[string]string{name: est.bNode.ID}}}
	}
}

// isoAContainer fills :node and :vmid with each of A's containers.
func isoAContainer(est *isoEstate) (out []isoBinding) {
	for _, ct := range est.aCTs {
		out = append(out, isoBinding{vals: map[string]string{"node": ct.NodeID, "vmid": strconv.Itoa(ct.VMID)}, aliens: []string{"node", "vmid"}})
	}
	return out
}

// isoBNodeAVMID fills :node with B's node and :vmid with each of A's VMIDs.
func isoBNodeAVMID(est *isoEstate) (out []isoBinding) {
	for _, ct := range est.aCTs {
		out = append(out, isoBinding{vals: map[string]string{"node": est.bNode.ID, "vmid": strconv.Itoa(ct.VMID)}, aliens: []string{"vmid"}})
	}
	return out
}

func isoAVMID(name string) isoFill {
	return func(est *isoEstate) (out []isoBinding) {
		for _, ct := range est.aCTs {
			out = append(out, isoOne(name, strconv.Itoa(ct.VMID)))
		}
		return out
	}
}

// isoService is a unit name; it is nobody's id, so it stays as it is.
func isoService(name string) isoFill {
	return func(*isoEstate) []isoBinding { return []isoBinding{{vals: map[string]string{name: isoAService}}} }
}

func isoAJob(name string) isoFill {
	return func(est *isoEstate) (out []isoBinding) {
		for _, j := range est.aJobs {
			out = append(out, isoOne(name, j.ID))
		}
		return out
	}
}

// isoAUser fills A's account id (admin routes).
func isoAUser(name string) isoFill {
	return func(est *isoEstate) []isoBinding { return []isoBinding{isoOne(name, est.alice.ID)} }
}

// isoASession fills the ids of A's live web sessions.
func isoASession(name string) isoFill {
	return func(est *isoEstate) (out []isoBinding) {
		list, err := est.srv.DB.UserSessions(context.Background(), est.alice.ID, "")
		if err != nil || len(list) == 0 {
			panic(fmt.Sprintf("A has no web session to fill %s with: %v", name, err))
		}
		for _, si := range list {
			out = append(out, isoOne(name, si.ID))
		}
		return out
	}
}

// isoATemplate fills A's private template, and her shared one marked so.
func isoATemplate(name string) isoFill {
	return func(est *isoEstate) []isoBinding {
		shared := isoOne(name, est.aShared.ID)
		shared.shared = true
		return []isoBinding{isoOne(name, est.aTemplate.ID), shared}
	}
}

func isoABucket(name string) isoFill {
	return func(est *isoEstate) []isoBinding { return []isoBinding{isoOne(name, est.aBucket.ID)} }
}

func isoAPending(name string) isoFill {
	return func(est *isoEstate) []isoBinding {
		return []isoBinding{isoOne(name, est.aPending), isoOne(name, est.aHeld)}
	}
}

func isoAKey(name string) isoFill {
	return func(est *isoEstate) []isoBinding { return []isoBinding{isoOne(name, est.aKey.Fingerprint)} }
}

func isoAUPID(name string) isoFill {
	return func(est *isoEstate) []isoBinding { return []isoBinding{isoOne(name, est.aUPID)} }
}

// isoCombine is every combination of the fillers' bindings.
func isoCombine(est *isoEstate, fills []isoFill) []isoBinding {
	out := []isoBinding{{vals: map[string]string{}}}
	for _, f := range fills {
		var next []isoBinding
		for _, acc := range out {
			for _, b := range f(est) {
				m := isoBinding{vals: map[string]string{}, aliens: slices.Concat(acc.aliens, b.aliens), shared: acc.shared || b.shared}
				for k, v := range acc.vals {
					m.vals[k] = v
				}
				for k, v := range b.vals {
					m.vals[k] = v
				}
				next = append(next, m)
			}
		}
		out = next
	}
	return out
}

// unknown is the binding with every one of A's values replaced by a value
// of the same kind that nobody holds.
func (b isoBinding) unknown() isoBinding {
	u := isoBinding{vals: map[string]string{}}
	for k, v := range b.vals {
		u.vals[k] = v
	}
	for _, k := range b.aliens {
		u.vals[k] = isoUnknownValue(b.vals[k])
	}
	return u
}

func isoUnknownValue(v string) string {
	if _, err := strconv.Atoi(v); err == nil {
		return "735791"
	}
	r := make([]byte, 16)
	rand.Read(r)
	s := base64.RawURLEncoding.EncodeToString(r)
	switch {
	case strings.HasPrefix(v, "SHA256:"):
		return "SHA256:" + s + s[:11]
	case strings.HasPrefix(v, "UPID:"):
		return "UPID:" + s
	}
	return s
}

// isoRequest is one request of the walk.
type isoRequest struct {
	method, path string
	form         url.Values
	htmx         bool
}

func (r isoRequest) String() string {
	mode := "plain"
	if r.htmx {
		mode = "htmx"
	}
	return fmt.Sprintf("%s %s %v (%s)", r.method, r.path, r.form, mode)
}

// isoBuild fills route with binding b (path parameters first, the rest as form
// or query fields) and fixed fields; it fails when a path parameter has no
// value.
func isoBuild(method, route string, b isoBinding, fixed url.Values, pathNames map[string]bool) (isoRequest, error) {
	var segs []string
	for _, s := range strings.Split(route, "/") {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			v, ok := b.vals[name]
			if !ok || !pathNames[name] {
				return isoRequest{}, fmt.Errorf("path parameter :%s has no filler", name)
			}
			s = url.PathEscape(v)
		}
		segs = append(segs, s)
	}
	form := url.Values{}
	for k, v := range b.vals {
		if !pathNames[k] {
			form.Set(k, v)
		}
	}
	for k, vs := range fixed {
		for _, v := range vs {
			for name, val := range b.vals {
				v = strings.ReplaceAll(v, "{"+name+"}", val)
			}
			form.Add(k, v)
		}
	}
	return isoRequest{method: method, path: strings.Join(segs, "/"), form: form}, nil
}

// isoAnswer is what a request got, reduced to what may be compared.
type isoAnswer struct {
	*response
	redirect string
}

// isoSend asks r as c, with csrf as the form's token.
func isoSend(t *testing.T, c *client, r isoRequest, csrf string) isoAnswer {
	t.Helper()
	// A stream that wrongly opened would never end: give up, and fail.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target := c.srv.URL + r.path
	var req *http.Request
	if r.method == http.MethodGet {
		if len(r.form) > 0 {
			target += "?" + r.form.Encode()
		}
		req, _ = http.NewRequestWithContext(ctx, r.method, target, nil)
	} else {
		form := url.Values{}
		for k, v := range r.form {
			form[k] = v
		}
		form.Set("_csrf", csrf)
		req, _ = http.NewRequestWithContext(ctx, r.method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.htmx {
		req.Header.Set("HX-Request", "true")
	}
	res := c.do(req)
	return isoAnswer{response: res, redirect: res.Header.Get("Location") + " " + res.Header.Get("HX-Redirect") + " " + res.Header.Get("HX-Location")}
}

// isoCheckedRoutes returns the rows of the routes e registers, or a
// message per route without a row and per row without a route.
func isoCheckedRoutes(e *echo.Echo, rows map[string]isoRow) ([]string, []string) {
	var keys, problems []string
	seen := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue // a group's catch-all 404, not a route
		}
		k := r.Method + " " + r.Path
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := rows[k]; !ok {
			problems = append(problems, fmt.Sprintf("route %q has no row in isoRoutes (handlers/isolation_test.go): "+
				"say which of account A's ids fill its path parameters and id-bearing form fields, or why it takes none (isoOwn) "+
				"or serves no account's data (isoPublic)", k))
			continue
		}
		keys = append(keys, k)
	}
	for k := range rows {
		if !seen[k] {
			problems = append(problems, fmt.Sprintf("isoRoutes has a row for %q, which the server no longer registers: remove it", k))
		}
	}
	sort.Strings(keys)
	sort.Strings(problems)
	return keys, problems
}

// TestIsolation walks every route as B with A's ids.
func TestIsolation(t *testing.T) { isolationWalk(t, false) }

// TestIsolationAsAdmin walks again with B an administrator: administrators
// manage accounts, and still see none of another account's nodes,
// containers, templates, jobs or secrets. The account pages, where an
// administrator acts on other accounts by design, are left out.
func TestIsolationAsAdmin(t *testing.T) { isolationWalk(t, true) }

// isoAdminPages are where an administrator rightly sees and changes other
// accounts (names, roles, the whole audit log).
var isoAdminPages = []string{"GET /settings/users", "POST /settings/users", "GET /settings/activity"}

func isolationWalk(t *testing.T, bobAdmin bool) {
	est := newIsoEstate(t)
	if bobAdmin {
		if err := est.srv.DB.SetUserRole(context.Background(), est.bob.ID, store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	before := est.snapshot(t)
	e := est.srv.Config.Handler.(*echo.Echo)
	keys, problems := isoCheckedRoutes(e, isoRoutes)
	for _, p := range problems {
		t.Error(p)
	}
	if bobAdmin {
		keys = slices.DeleteFunc(keys, func(k string) bool {
			return slices.ContainsFunc(isoAdminPages, func(p string) bool { return strings.HasPrefix(k, p) })
		})
	}

	bob := est.srv.client(t)
	bob.login("bob", isoBobPass)
	w := &isoWalker{est: est, bob: bob, leaks: est.sentinels()}
	w.checkCSRFControl(t)
	for _, k := range keys {
		method, route, _ := strings.Cut(k, " ")
		t.Run(k, func(t *testing.T) { w.walk(t, method, route, isoRoutes[k]) })
	}
	// Anything B started in the background (a retry, a deletion) has had
	// its chance to reach A's nodes.
	est.simA.WaitTasks()
	est.trip.arm(false)
	for _, hit := range est.trip.take() {
		t.Errorf("after the walk: %s", hit)
	}

	est.snapshot(t).sameAs(t, before)
	est.alicePendingIntact(t)
	// A's own pages still show her things.
	res := est.aliceWeb.get("/containers")
	expectStatus(t, res, http.StatusOK)
	for _, want := range []string{"alpha-web", "alpha-pihole", "alpha-solo-ct"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("A's dashboard lacks %s after B's walk", want)
		}
	}
}

type isoWalker struct {
	est   *isoEstate
	bob   *client
	leaks []string
}

// checkCSRFControl proves B's token is the one the server wants: a
// harmless POST passes with it and is refused without it, so a 404 in the
// walk comes from the route, not from CSRF.
func (w *isoWalker) checkCSRFControl(t *testing.T) {
	t.Helper()
	r := isoRequest{method: http.MethodPost, path: "/containers/vmid", form: url.Values{"node_id": {w.est.bNode.ID}, "vmid": {"9100"}}}
	if a := isoSend(t, w.bob, r, w.bob.csrf); a.StatusCode != http.StatusOK {
		t.Fatalf("control: B's own VMID check answered %d with B's token:\n%s", a.StatusCode, a.Body)
	}
	if a := isoSend(t, w.bob, r, "forged"); a.StatusCode != http.StatusForbidden {
		t.Fatalf("control: B's own VMID check answered %d with a forged token", a.StatusCode)
	}
}

func (w *isoWalker) walk(t *testing.T, method, route string, row isoRow) {
	switch {
	case row.public != "":
		if method == http.MethodGet {
			w.ask(t, isoRequest{method: method, path: strings.ReplaceAll(route, "*", "app.css")})
		}
		return
	case row.own != "":
		if strings.Contains(route, ":") {
			t.Fatalf("%s %s has path parameters, so it takes ids: give it isoCases, not isoOwn", method, route)
		}
		for _, htmx := range []bool{false, true} {
			a := w.ask(t, isoRequest{method: method, path: route, form: row.fixed, htmx: htmx})
			if a.StatusCode >= 500 {
				t.Errorf("%s: status %d", a.Request.URL, a.StatusCode)
			}
		}
		w.checkCSRF(t, method, route, row)
		return
	}
	if len(row.cases) == 0 {
		t.Fatalf("the row of %s %s has no case", method, route)
	}
	for _, c := range row.cases {
		pathNames := map[string]bool{}
		for _, b := range isoCombine(w.est, c.path) {
			for k := range b.vals {
				pathNames[k] = true
			}
		}
		for _, b := range isoCombine(w.est, slices.Concat(c.path, c.form)) {
			for _, htmx := range []bool{false, true} {
				w.check(t, method, route, b, c, pathNames, htmx)
			}
		}
	}
	w.checkCSRF(t, method, route, row)
}

// check asks with A's ids in binding b, then with unknown ones in their
// places, and compares.
func (w *isoWalker) check(t *testing.T, method, route string, b isoBinding, c isoCase, pathNames map[string]bool, htmx bool) {
	t.Helper()
	r, err := isoBuild(method, route, b, c.fixed, pathNames)
	if err != nil {
		t.Fatalf("%s %s: %v", method, route, err)
	}
	r.htmx = htmx
	got := w.ask(t, r)
	want := c.want
	if b.shared && c.shared != nil {
		want = c.shared
	}
	if len(want) == 0 {
		want = []int{http.StatusNotFound}
	}
	if !slices.Equal(want, isoAsUnknown) && !slices.Contains(want, got.StatusCode) {
		t.Errorf("%s: status %d, want one of %v\n%s", r, got.StatusCode, want, isoExcerpt(got.Body))
	}
	if b.shared && c.shared != nil {
		return // A's shared template is meant to be seen: nothing to compare with
	}
	u := b.unknown()
	ur, err := isoBuild(method, route, u, c.fixed, pathNames)
	if err != nil {
		t.Fatal(err)
	}
	ur.htmx = htmx
	ctl := w.ask(t, ur)
	if got.StatusCode != ctl.StatusCode || b.normalize(got.redirect) != u.normalize(ctl.redirect) {
		t.Errorf("%s: A's ids get %d %q, unknown ids %d %q: the answer tells B that A's ids exist",
			r, got.StatusCode, b.normalize(got.redirect), ctl.StatusCode, u.normalize(ctl.redirect))
	}
}

// normalize replaces the binding's values in s by their names.
func (b isoBinding) normalize(s string) string {
	for k, v := range b.vals {
		s = strings.ReplaceAll(s, url.PathEscape(v), "{"+k+"}")
		s = strings.ReplaceAll(s, url.QueryEscape(v), "{"+k+"}")
		s = strings.ReplaceAll(s, v, "{"+k+"}")
	}
	return strings.TrimSpace(s)
}

// ask sends r as B and fails for anything of A's in the answer and for
// any call it made towards one of A's nodes.
func (w *isoWalker) ask(t *testing.T, r isoRequest) isoAnswer {
	t.Helper()
	w.est.trip.arm(true)
	a := isoSend(t, w.bob, r, w.bob.csrf)
	w.est.trip.arm(false)
	for _, hit := range w.est.trip.take() {
		t.Errorf("%s: reached A's estate: %s", r, hit)
	}
	var heads strings.Builder
	for k, vs := range a.Header {
		fmt.Fprintf(&heads, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	for _, s := range w.leaks {
		if strings.Contains(a.Body, s) {
			t.Errorf("%s: the answer shows A's %q:\n%s", r, s, isoAround(a.Body, s))
		}
		if strings.Contains(heads.String(), s) {
			t.Errorf("%s: a header shows A's %q:\n%s", r, s, heads.String())
		}
	}
	return a
}

// checkCSRF asks a state-changing route with a forged token: it must be
// refused before the route runs, which also shows that the walk's own
// token was what let its requests through.
func (w *isoWalker) checkCSRF(t *testing.T, method, route string, row isoRow) {
	t.Helper()
	if method == http.MethodGet {
		return
	}
	r := isoRequest{method: method, path: route, form: row.fixed}
	if len(row.cases) > 0 {
		c := row.cases[0]
		b := isoCombine(w.est, slices.Concat(c.path, c.form))[0]
		pathNames := map[string]bool{}
		for _, pb := range isoCombine(w.est, c.path) {
			for k := range pb.vals {
				pathNames[k] = true
			}
		}
		var err error
		if r, err = isoBuild(method, route, b, c.fixed, pathNames); err != nil {
			t.Fatal(err)
		}
	}
	if a := isoSend(t, w.bob, r, "forged"); a.StatusCode != http.StatusForbidden {
		t.Errorf("%s with a forged CSRF token: status %d, want 403", r, a.StatusCode)
	}
}

// isoAround is the part of body around s.
func isoAround(body, s string) string {
	i := strings.Index(body, s)
	return body[max(0, i-200):min(len(body), i+len(s)+200)]
}

// isoExcerpt is the start of a body, for failure messages.
func isoExcerpt(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// TestIsolationRouteTable: the table covers exactly the routes the server
// registers, so a new route without a row, or a row left behind, fails.
func TestIsolationRouteTable(t *testing.T) {
	e := echo.New()
	handlers.New(handlers.Deps{}).Register(e)
	if _, problems := isoCheckedRoutes(e, isoRoutes); len(problems) > 0 {
		t.Fatalf("the table does not match the routes:\n%s", strings.Join(problems, "\n"))
	}

	e.POST("/containers/:node/:vmid/brand-new", func(echo.Context) error { return nil })
	_, problems := isoCheckedRoutes(e, isoRoutes)
	if len(problems) != 1 || !strings.Contains(problems[0], `"POST /containers/:node/:vmid/brand-new" has no row`) {
		t.Errorf("a new route without a row gave %q", problems)
	}

	rows := maps.Clone(isoRoutes)
	rows["GET /gone"] = isoOwn("a route since removed")
	rows["POST /containers/:node/:vmid/brand-new"] = isoCases(isoCase{path: isoFills(isoAContainer)})
	if _, problems := isoCheckedRoutes(e, rows); len(problems) != 1 || !strings.Contains(problems[0], `"GET /gone", which the server no longer registers`) {
		t.Errorf("a row without a route gave %q", problems)
	}
}

// TestIsolationSharedProxmox: in a household sharing one Proxmox, B may
// add a node on A's very host with a token of his own. He then sees what
// Proxmox shows him (her containers, their names), as Proxmox's own UI
// would, but nothing Corral keeps for A: her names for her nodes, the
// template and job behind a container, its discovered services and events.
func TestIsolationSharedProxmox(t *testing.T) {
	est := newIsoEstate(t)
	mine := est.srv.addSimNode(t, est.simA, est.bob.ID, "alpha-pve1", "bravo-on-alpha")
	bob := est.srv.client(t)
	bob.login("bob", isoBobPass)
	corralOnly := []string{"alpha-node-", "alpha-private-tmpl", isoScriptMarker, est.aJobs[0].ID, est.aJobs[1].ID,
		"alpha-bucket", "alpha-laptop-key", isoARootPass, isoAHeldSecret}

	dash := bob.get("/containers")
	expectStatus(t, dash, http.StatusOK)
	if !strings.Contains(dash.Body, "alpha-web") {
		t.Fatalf("B's dashboard does not show the containers of the Proxmox he added:\n%s", isoExcerpt(dash.Body))
	}
	pages := []*response{dash}
	for _, ct := range est.aCTs[:3] { // the ones on alpha-pve1
		base := "/containers/" + mine.ID + "/" + strconv.Itoa(ct.VMID)
		for _, tab := range []string{"", "?tab=events", "?tab=services", "/settings", "/snapshots", "/backups"} {
			res := bob.get(base + tab)
			expectStatus(t, res, http.StatusOK)
			pages = append(pages, res)
		}
	}
	for _, res := range pages {
		for _, s := range corralOnly {
			if strings.Contains(res.Body, s) {
				t.Errorf("%s shows A's %q:\n%s", res.Request.URL, s, isoAround(res.Body, s))
			}
		}
	}
}
