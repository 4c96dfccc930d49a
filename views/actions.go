package views

import (
	"net/url"
	"strconv"
)

// Actions are the lifecycle controls of one container, on a card or on its
// page. Start is a plain form; the others ask first, in the page's one
// shared dialog (app.js) or, without JavaScript, on a confirmation page.
type Actions struct {
	CSRF   string
	NodeID string
	VMID   int
	Name   string
	Status string // what Corral shows: running, stopped, creating, error, unknown
	Live   string // what Proxmox says: running, stopped, or "" when unknown
	From   string // "card" or "detail": what the answer replaces
	Tab    string // the detail page's tab, kept across the action
}

// Confirmation is how one action asks before it runs.
type Confirmation struct {
	Action string // stop, shutdown, reboot, delete
	Title  string // "Stop mqtt?"
	Text   string // what happens
	Label  string // the button that does it: "Stop mqtt"
	Danger bool   // data may be lost
	VMID   int    // > 0 when the VMID must be typed (delete)
}

// ConfirmationFor words the question for action on the container named
// name; ok is false for actions that do not ask (start).
func ConfirmationFor(action, name string, vmid int) (Confirmation, bool) {
	c, ok := confirmationWords(action, name, strconv.Itoa(vmid))
	if c.Danger && action == "delete" {
		c.VMID = vmid
	}
	return c, ok
}

// Placeholders of the dashboard's confirmation templates: the page words
// each question once and app.js fills in the container that was clicked.
const (
	ConfirmNameSlot = "{name}"
	ConfirmVMIDSlot = "{vmid}"
)

// confirmationWords is ConfirmationFor with the VMID as text, so the
// dashboard can word a question once with placeholders.
func confirmationWords(action, name, vmid string) (Confirmation, bool) {
	ct := name + " (CT " + vmid + ")"
	c := Confirmation{Action: action}
	switch action {
	case "shutdown":
		c.Title, c.Label = "Shut down "+name+"?", "Shut down "+name
		c.Text = "Shut down " + ct + "? It gets 30 seconds to stop cleanly, then it is stopped."
	case "stop":
		c.Title, c.Label, c.Danger = "Stop "+name+"?", "Stop "+name, true
		c.Text = "Stop " + ct + " now, without a clean shutdown? Unsaved data inside may be lost."
	case "reboot":
		c.Title, c.Label = "Reboot "+name+"?", "Reboot "+name
		c.Text = "Reboot " + ct + "? Its services are unavailable until it is back up."
	case "delete":
		c.Title, c.Label, c.Danger = "Delete "+name+"?", "Delete "+name, true
		c.Text = "Delete " + ct + " from Proxmox with its disks? This cannot be undone."
	default:
		return Confirmation{}, false
	}
	return c, true
}

// confirmationTemplate is action's question with placeholders for the
// container's name and VMID.
func confirmationTemplate(action string) Confirmation {
	c, _ := confirmationWords(action, ConfirmNameSlot, ConfirmVMIDSlot)
	return c
}

// ConfirmableActions are the actions that ask first, in button order.
var ConfirmableActions = []string{"shutdown", "stop", "reboot", "delete"}

// ActionURL is where an action posts.
func ActionURL(nodeID string, vmid int, action string) string {
	return DetailURL(nodeID, vmid) + "/" + action
}

// fields are the hidden values every action form carries besides the token.
func (a Actions) fields() url.Values {
	v := url.Values{"from": {a.From}}
	if a.Tab != "" {
		v.Set("tab", a.Tab)
	}
	return v
}

// dashboardFields are what a card's or row's action sends besides the
// token: what the answer replaces and, unless it is the plain list, the
// list state to come back to.
func dashboardFields(from, list string) url.Values {
	v := url.Values{"from": {from}}
	if list != "" && list != "/containers" {
		v.Set("return", list)
	}
	return v
}

// confirmURL is the page that asks without JavaScript.
func (a Actions) confirmURL(action string) string {
	return ActionURL(a.NodeID, a.VMID, action) + "?" + a.fields().Encode()
}

// target is the element the answer replaces.
func (a Actions) target() string {
	if a.From == "detail" {
		return "#" + DetailBodyID
	}
	return "#" + CardID(a.NodeID, a.VMID)
}

// buttons lists the actions that make sense now. They follow Proxmox's
// state, not Corral's: a container whose creation failed may well be running
// and must still be stoppable.
func (a Actions) buttons() []string {
	if a.Status == "creating" {
		return nil
	}
	switch a.Live {
	case "running":
		return []string{"shutdown", "stop", "reboot", "delete"}
	case "stopped":
		return []string{"start", "delete"}
	}
	return []string{"delete"}
}

func actionLabel(action string) string {
	switch action {
	case "start":
		return "Start"
	case "shutdown":
		return "Shut down"
	case "stop":
		return "Stop"
	case "reboot":
		return "Reboot"
	case "delete":
		return "Delete…"
	}
	return action
}

// Plural is "1 core", "6 services".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
