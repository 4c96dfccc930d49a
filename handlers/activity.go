package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"corral/store"
	"corral/views"
)

// AuditLog reads the audit log a page at a time.
type AuditLog interface {
	AuditLog(ctx context.Context, q store.AuditQuery) (store.AuditPage, error)
}

const activityPath = "/settings/activity"

// activityPageSize is how many entries one page shows.
const activityPageSize = 50

func (h *Handler) registerActivityRoutes(g *echo.Group) {
	g.GET(activityPath, h.activityShow)
}

// categoryLabels names the audit categories in the filter.
var categoryLabels = map[string]string{
	store.AuditSignIn: "Sign-in", store.AuditNode: "Node", store.AuditContainer: "Container",
	store.AuditTemplate: "Template", store.AuditSSH: "SSH session", store.AuditAccount: "Account",
	store.AuditOther: "Other",
}

// kindLabels says what each audit kind means, in words; an unknown kind
// is shown as it is.
var kindLabels = map[string]string{
	"setup.account":                 "Set up Corral",
	"login.ok":                      "Signed in",
	"login.failed":                  "Sign-in failed",
	"login.limited":                 "Sign-in refused (too many tries)",
	"login.disabled":                "Sign-in refused (account disabled)",
	"logout":                        "Signed out",
	"node.add":                      "Added a node",
	"node.update":                   "Changed a node",
	"node.retrust":                  "Accepted new node keys",
	"node.default":                  "Changed the default node",
	"node.delete":                   "Deleted a node",
	"container.create":              "Created a container",
	"container.delete":              "Deleted a container",
	"container.credentials.reveal":  "Revealed credentials",
	"container.settings":            "Changed a container's settings",
	"container.resize":              "Grew a container's disk",
	"container.mount.add":           "Added a volume to a container",
	"container.mount.bind":          "Mounted a host directory",
	"container.mount.remove":        "Removed a mount point",
	"container.snapshot.create":     "Took a snapshot",
	"container.snapshot.rollback":   "Rolled back to a snapshot",
	"container.snapshot.delete":     "Deleted a snapshot",
	"container.backup":              "Backed up a container",
	"container.restore":             "Restored a backup",
	"container.service.restart":     "Restarted a service",
	"container.service.stop":        "Stopped a service",
	"container.service.start":       "Started a service",
	"template.create":               "Created a template",
	"template.update":               "Changed a template",
	"template.delete":               "Deleted a template",
	"template.copy":                 "Copied a template",
	"template.share":                "Shared a template",
	"template.unshare":              "Stopped sharing a template",
	"template.import":               "Imported a template",
	"ssh.auth.success":              "SSH sign-in",
	"ssh.auth.failure":              "SSH sign-in failed",
	"ssh.auth.locked":               "SSH sign-in refused (too many tries)",
	"ssh.session.start":             "SSH session started",
	"ssh.session.end":               "SSH session ended",
	"ssh.denied":                    "SSH request refused",
	"ssh.console.start":             "Browser console opened",
	"ssh.console.end":               "Browser console closed",
	"ssh.console.denied":            "Browser console refused",
	"ssh.upstream.hostkey_mismatch": "Proxmox host key mismatch",
	"sshkey.add":                    "Added an SSH key",
	"sshkey.delete":                 "Removed an SSH key",
	"account.create":                "Created an account",
	"account.invite.used":           "Used an invite link",
	"account.password":              "Changed password",
	"account.password.failed":       "Password change refused",
	"account.reset":                 "Reset a password",
	"account.disable":               "Disabled an account",
	"account.enable":                "Enabled an account",
	"account.role":                  "Changed a role",
	"account.delete":                "Deleted an account",
	"account.session.revoke":        "Signed out a session",
	"account.session.revoke_others": "Signed out other sessions",
}

// badKind reports a refusal or failure, which the page marks.
func badKind(kind string) bool {
	for _, w := range []string{"failed", "failure", "limited", "locked", "denied", "mismatch", "disabled"} {
		if strings.Contains(kind, w) {
			return true
		}
	}
	return false
}

const dateLayout = "2006-01-02"

// activityShow answers GET /settings/activity?kind=&from=&to=&user=&before=.
// Everyone sees their own entries; administrators every account's.
func (h *Handler) activityShow(c echo.Context) error {
	u, _ := currentUser(c)
	ctx := c.Request().Context()
	f := views.ActivityFilter{Category: c.QueryParam("kind"), From: c.QueryParam("from"), To: c.QueryParam("to"), Account: c.QueryParam("user")}
	q := store.AuditQuery{Category: f.Category, Before: c.QueryParam("before"), Limit: activityPageSize}
	if f.Category != "" && !slices.Contains(store.AuditCategories, f.Category) {
		f.Category, q.Category = "", ""
	}
	var problems []string
	if t, ok := parseDay(f.From); ok {
		q.From = t
	} else if f.From != "" {
		problems = append(problems, "“From” is not a date.")
	}
	if t, ok := parseDay(f.To); ok {
		q.To = t.AddDate(0, 0, 1) // the whole of the last day
	} else if f.To != "" {
		problems = append(problems, "“To” is not a date.")
	}
	m := views.ActivityModel{Zone: h.Now().Local().Format("MST"), Retention: h.retentionText()}
	for _, cat := range store.AuditCategories {
		m.Categories = append(m.Categories, views.Option{Value: cat, Label: categoryLabels[cat]})
	}
	names := map[string]string{}
	if u.IsAdmin() {
		accounts, err := h.Users.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			names[a.ID] = a.Username
			m.Accounts = append(m.Accounts, views.Option{Value: a.ID, Label: a.Username})
		}
		if _, ok := names[f.Account]; ok {
			q.UserID, q.Username = f.Account, names[f.Account]
		} else {
			f.Account = ""
		}
		m.Everyone = q.UserID == ""
	} else {
		q.UserID, q.Username, f.Account = u.ID, u.Username, ""
	}
	page, err := h.Activity.AuditLog(ctx, q)
	if err != nil {
		// A cursor edited by hand is the only bad input left.
		page, err = h.Activity.AuditLog(ctx, store.AuditQuery{UserID: q.UserID, Username: q.Username, Category: q.Category, From: q.From, To: q.To, Limit: q.Limit})
		if err != nil {
			return err
		}
	}
	for _, e := range page.Entries {
		m.Rows = append(m.Rows, activityRow(e))
	}
	f.Error = strings.Join(problems, " ")
	m.Filter = f
	if page.Next != "" {
		m.OlderURL = activityURL(f, page.Next)
	}
	if q.Before != "" {
		m.NewestURL = activityURL(f, "")
	}
	return h.render(c, http.StatusOK, h.page(c, "Activity", "settings"), views.ActivityPage(m))
}

func activityRow(e store.AuditEntry) views.ActivityRow {
	label := kindLabels[e.Kind]
	if label == "" {
		label = e.Kind
	}
	return views.ActivityRow{
		Time: e.Time.Local(), Who: e.Username, Event: label, Kind: e.Kind, Category: e.Category,
		Target: e.Target, Detail: e.Detail, Remote: e.Remote, Bad: badKind(e.Kind),
	}
}

// activityURL is the page with the same filter, from the entry before.
func activityURL(f views.ActivityFilter, before string) string {
	v := url.Values{}
	for k, val := range map[string]string{"kind": f.Category, "from": f.From, "to": f.To, "user": f.Account, "before": before} {
		if val != "" {
			v.Set(k, val)
		}
	}
	if len(v) == 0 {
		return activityPath
	}
	return activityPath + "?" + v.Encode()
}

// parseDay reads a YYYY-MM-DD date as the start of that day in the
// server's time zone.
func parseDay(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(dateLayout, s, time.Local)
	return t, err == nil
}

// retentionText says how long the audit log keeps entries.
func (h *Handler) retentionText() string {
	d := h.AuditTTL
	if days := d / (24 * time.Hour); d%(24*time.Hour) == 0 {
		return pluralize(int(days), "day")
	}
	return fmt.Sprint(d)
}
