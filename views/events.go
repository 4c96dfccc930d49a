package views

import "strings"

// eventLabels names each event type in the words a person would use.
var eventLabels = map[string]string{
	"created":       "Created",
	"started":       "Started",
	"stopped":       "Stopped",
	"shutdown":      "Shut down",
	"rebooted":      "Rebooted",
	"deleted":       "Deleted",
	"error":         "Error",
	"step_started":  "Step started",
	"step_done":     "Step done",
	"script_done":   "Script finished",
	"service_ready": "Service ready",
	"ready":         "Ready",
	"interrupted":   "Interrupted",
	"retried":       "Retried",
	"services":      "Services found",
}

// EventLabel is the label of an event type; an unknown type is spelled out
// from its name ("disk_resized" → "Disk resized").
func EventLabel(t string) string {
	if l, ok := eventLabels[t]; ok {
		return l
	}
	l := strings.ReplaceAll(t, "_", " ")
	if l == "" {
		return "Event"
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// eventDataLabels names the keys of an event's details; keys missing here
// are internal and not shown.
var eventDataLabels = map[string]string{
	"step":     "Step",
	"script":   "Script",
	"services": "Services",
	"ip":       "Address",
	"phase":    "Phase",
	"error":    "Error",
	"output":   "Output",
}

// EventDataLabel names a detail of an event; ok is false for internal keys
// such as a job log's sequence number.
func EventDataLabel(key string) (string, bool) {
	l, ok := eventDataLabels[key]
	return l, ok
}
