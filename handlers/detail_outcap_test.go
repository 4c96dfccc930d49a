package handlers_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"corral/exec"
	"corral/exec/inspect"
)

// heapAllocs is how many bytes the process has allocated on the heap so
// far, the simulator's side included. The growth of it across a request is
// an upper bound of what the request could have added to Corral's memory,
// and unlike a sample of RSS it does not depend on timing.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestServiceOutputIsCapped reveals an 80 MB credential file and one that
// links to /dev/zero, reads discovery over them, and shows each reveal says
// it was cut; each read costs Corral (and the simulator) well under 20 MB.
func TestServiceOutputIsCapped(t *testing.T) {
	st := containersTestStart(t)
	dir := filepath.Join(st.sim.Node("pve1").ContainerDir(100), inspect.CredentialDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	line := []byte("KEY=" + strings.Repeat("v", 75) + "\n")
	huge := append([]byte("FIRST=shown\n"), bytes.Repeat(line, 80<<20/len(line))...)
	if err := os.WriteFile(filepath.Join(dir, "huge"), huge, 0o600); err != nil {
		t.Fatal(err)
	}
	huge = nil
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero")); err != nil {
		t.Fatal(err)
	}
	base := "/containers/" + st.pve1.ID + "/100/services/"
	const budget = 20 << 20

	for _, tc := range []struct{ service, shown string }{
		{"huge", "shown"},
		{"zero", "No KEY=VALUE lines"},
	} {
		t.Run(tc.service, func(t *testing.T) {
			runtime.GC()
			before := heapAllocs()
			res := st.c.post(base+tc.service+"/credentials", nil, "HX-Request", "true")
			grew := heapAllocs() - before
			expectStatus(t, res, 200)
			if !strings.Contains(res.Body, tc.shown) {
				t.Fatalf("the start of the file is not shown:\n%.2000s", res.Body)
			}
			note := res.Doc.Find(`[data-testid="output-truncated"]`).Text()
			if !strings.Contains(note, "output truncated at 1 MiB") {
				t.Fatalf("no truncation note in %.2000s", res.Body)
			}
			if len(res.Body) > 2*exec.MaxOutput {
				t.Fatalf("the page is %d bytes", len(res.Body))
			}
			t.Logf("reveal of %s allocated %.1f MiB", tc.service, float64(grew)/(1<<20))
			if grew > budget {
				t.Fatalf("reveal of %s allocated %d MiB, budget %d MiB", tc.service, grew>>20, budget>>20)
			}
		})
	}

	t.Run("discovery", func(t *testing.T) {
		runtime.GC()
		before := heapAllocs()
		res := st.c.post("/containers/"+st.pve1.ID+"/100/services/refresh", nil, "HX-Request", "true")
		grew := heapAllocs() - before
		expectStatus(t, res, 200)
		if note := res.Doc.Find(`[data-testid="output-truncated"]`).Text(); !strings.Contains(note, "output truncated at 1 MiB") {
			t.Fatalf("no truncation note in %.3000s", res.Body)
		}
		t.Logf("discovery allocated %.1f MiB", float64(grew)/(1<<20))
		if grew > budget {
			t.Fatalf("discovery allocated %d MiB, budget %d MiB", grew>>20, budget>>20)
		}
	})
}
