package proxmox

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

const testUPID = "UPID:pve:0012ABCD:01A2B3C4:6720F1A2:vzcreate:105:corral@pve!corral:"

func TestParseUPID(t *testing.T) {
	u, err := ParseUPID("UPID:pve:000212A7:002D9BF8:692EE339:vzstart:101:root@pam!test2:")
	if err != nil {
		t.Fatal(err)
	}
	want := UPID{Raw: u.Raw, Node: "pve", PID: 0x212A7, PStart: 0x2D9BF8,
		StartTime: time.Unix(0x692EE339, 0).UTC(), Type: "vzstart", ID: "101", User: "root@pam!test2"}
	if u != want {
		t.Fatalf("got %+v\nwant %+v", u, want)
	}
	if u, err := ParseUPID("UPID:pve-2:00001234:123456789:692EE339:download::root@pam:"); err != nil || u.ID != "" || u.PStart != 0x123456789 {
		t.Fatalf("empty id / 9-digit pstart: %+v, %v", u, err)
	}
	for _, bad := range []string{"", "UPID:pve:1:2:3:vzstart:101:root@pam:", strings.TrimSuffix(testUPID, ":"), "UPID:-pve:0012ABCD:01A2B3C4:6720F1A2:x:1:u@p:"} {
		if _, err := ParseUPID(bad); err == nil {
			t.Errorf("ParseUPID(%q) accepted", bad)
		}
	}
}

func TestClient_UPIDEscaping(t *testing.T) {
	f := newFakePVE(t)
	f.fixture("GET", "/nodes/pve/tasks/"+testUPID+"/status", "task_status_running.json")
	st, err := f.client().TaskStatus(t.Context(), "pve", testUPID)
	if err != nil {
		t.Fatal(err)
	}
	if st.UPID != testUPID || !st.Running() {
		t.Fatalf("status %+v", st)
	}
	reqs := f.requests(http.MethodGet, "/nodes/pve/tasks/"+testUPID+"/status")
	if len(reqs) != 1 {
		t.Fatalf("%d requests reached the decoded path", len(reqs))
	}
	uri := reqs[0].RequestURI
	if !strings.Contains(uri, "corral%40pve%21corral:/status") || strings.Contains(uri, "@") || strings.Contains(uri, "!") {
		t.Fatalf("UPID not escaped on the wire: %s", uri)
	}
}
