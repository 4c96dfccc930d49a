package pvesim

import (
	"net/http"
	"net/url"
	"testing"
)

// featuresOf reads a container's features through the API as the Corral token.
func featuresOf(t *testing.T, n *Node, vmid string, current bool) string {
	t.Helper()
	q := url.Values{}
	if current {
		q.Set("current", "1")
	}
	f, _ := call(t, n, corralTok, http.MethodGet, "/nodes/pve/lxc/"+vmid+"/config?"+q.Encode(), nil).dataMap(t)["features"].(string)
	return f
}

func TestPctSet_Features(t *testing.T) {
	s := newTestSim(t)
	n := s.Node("pve")
	c := mustSSH(t, n)

	t.Run("Stopped", func(t *testing.T) {
		out, errOut, code := runSSH(t, c, "pct set 110 --features nesting=1,keyctl=1", "")
		if code != 0 || out != "" || errOut != "" {
			t.Fatalf("code %d out %q err %q", code, out, errOut)
		}
		// PVE stores the value as given.
		if f := featuresOf(t, n, "110", true); f != "nesting=1,keyctl=1" {
			t.Fatalf("features %q", f)
		}
		// Re-running is harmless, and the value replaces the whole property.
		if _, errOut, code := runSSH(t, c, "pct set 110 --features=fuse=on,nesting=yes", ""); code != 0 {
			t.Fatalf("again: %d %q", code, errOut)
		}
		if f := featuresOf(t, n, "110", false); f != "fuse=on,nesting=yes" {
			t.Fatalf("features %q", f)
		}
	})
	t.Run("RunningAppliesAtNextStart", func(t *testing.T) {
		before := featuresOf(t, n, "105", true)
		if _, errOut, code := runSSH(t, c, "pct set 105 --features nesting=1,keyctl=1", ""); code != 0 {
			t.Fatalf("%d %q", code, errOut)
		}
		if f := featuresOf(t, n, "105", false); f != "nesting=1,keyctl=1" {
			t.Fatalf("pending features %q", f)
		}
		if f := featuresOf(t, n, "105", true); f != before {
			t.Fatalf("current features %q changed before a restart (was %q)", f, before)
		}
		waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/105/status/stop", nil)))
		waitTask(t, n, adminToken, upidOf(t, call(t, n, adminToken, http.MethodPost, "/nodes/pve/lxc/105/status/start", nil)))
		if f := featuresOf(t, n, "105", true); f != "nesting=1,keyctl=1" {
			t.Fatalf("features after restart %q", f)
		}
	})

	usage := "pct set <vmid> [OPTIONS]\n"
	for _, tc := range []struct{ name, cmd, stderr string }{
		{"UnknownOption", "pct set 110 --bogus 1", "Unknown option: bogus\n400 unable to parse option\n" + usage},
		{"MissingValue", "pct set 110 --features", "Option features requires an argument\n400 unable to parse option\n" + usage},
		{"UnknownFeature", "pct set 110 --features nesting=1,bogus=1",
			"400 Parameter verification failed.\nfeatures: invalid format - format error\n" +
				"features.bogus: property is not defined in schema and the schema does not allow additional properties\n" + usage},
		{"BadBool", "pct set 110 --features keyctl=maybe",
			"400 Parameter verification failed.\nfeatures: invalid format - format error\nfeatures.keyctl: type check ('boolean') failed - got 'maybe'\n" + usage},
		{"NoVMID", "pct set --features nesting=1", "400 not enough arguments\n" + usage},
		{"BadVMID", "pct set abc --features nesting=1", "400 Parameter verification failed.\nvmid: type check ('integer') failed - got 'abc'\n" + usage},
		{"NoOptions", "pct set 110", "no options specified\n"},
		{"OtherNode", "pct set 120 --features nesting=1", "Configuration file 'nodes/pve/lxc/120.conf' does not exist\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runSSH(t, c, tc.cmd, "")
			if code != 255 || errOut != tc.stderr {
				t.Fatalf("code %d stderr %q, want 255 %q", code, errOut, tc.stderr)
			}
		})
	}
	if f := featuresOf(t, n, "110", true); f != "fuse=on,nesting=yes" {
		t.Fatalf("a refused pct set changed features to %q", f)
	}
}
