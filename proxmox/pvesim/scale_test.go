package pvesim

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bigScale is the estate of issue 17's scale benchmark: 50 nodes (five
// clusters of eight, ten standalone) and 5,000 guests.
var bigScale = Scale{Clusters: 5, NodesPerCluster: 8, Standalone: 10, GuestsPerNode: 100}

func TestScale_Options(t *testing.T) {
	opts := bigScale.Options()
	nodes := len(opts.Standalone)
	for _, c := range opts.Clusters {
		nodes += len(c.Nodes)
	}
	if nodes != 50 || len(opts.Guests) != 5000 {
		t.Fatalf("nodes %d, guests %d; want 50 and 5000", nodes, len(opts.Guests))
	}
	perNode := map[string]int{}
	kinds := map[string]int{}
	for _, g := range opts.Guests {
		perNode[g.Node]++
		switch {
		case g.Type == QEMU:
			kinds["qemu"]++
		case g.Template:
			kinds["template"]++
		case g.Running:
			kinds["running"]++
		default:
			kinds["stopped"]++
		}
		if g.Tags != "" {
			kinds["tagged"]++
		}
	}
	for node, n := range perNode {
		if n != 100 {
			t.Fatalf("node %s has %d guests", node, n)
		}
	}
	// A realistic mix, not a uniform list.
	if kinds["qemu"] < 150 || kinds["template"] < 20 || kinds["running"] < 2500 || kinds["stopped"] < 700 || kinds["tagged"] < 3000 {
		t.Fatalf("mix = %v", kinds)
	}
	if a, b := bigScale.Options(), bigScale.Options(); fmt.Sprint(a.Guests) != fmt.Sprint(b.Guests) {
		t.Fatal("Scale.Options is not deterministic")
	}
}

// TestScale_BigEstate starts the 50-node, 5,000-guest estate, checks that
// every member of every estate lists all of its guests, and closes it.
// Start-up and close times are logged (go test -v); speed itself is the
// benchmarks' business.
func TestScale_BigEstate(t *testing.T) {
	opts := bigScale.Options()
	opts.Dir = t.TempDir()
	goroutines := runtime.NumGoroutine()
	start := time.Now()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Since(start)
	closed := false
	defer func() {
		if !closed {
			s.Close()
		}
	}()

	// No goroutine and no directory per guest until it is used.
	if extra := runtime.NumGoroutine() - goroutines; extra > 5*len(s.Nodes()) {
		t.Errorf("%d goroutines for %d nodes", extra, len(s.Nodes()))
	}
	if dirs, _ := filepath.Glob(filepath.Join(opts.Dir, "nodes", "*", "lxc", "*")); len(dirs) != 0 {
		t.Errorf("%d guest directories made before any guest was used", len(dirs))
	}

	perEstate := map[string]int{}
	estateOf := map[string]string{}
	for _, c := range opts.Clusters {
		for _, n := range c.Nodes {
			estateOf[n] = c.Name
		}
	}
	for _, n := range opts.Standalone {
		estateOf[n] = n
	}
	for _, g := range opts.Guests {
		perEstate[estateOf[g.Node]]++
	}
	client := keepAliveClient()
	for _, name := range s.Nodes() {
		n := s.Node(name)
		var env struct{ Data []typedResource }
		getJSON(t, client, n, "/cluster/resources?type=vm", &env)
		if len(env.Data) != perEstate[estateOf[name]] {
			t.Fatalf("%s lists %d guests, its estate has %d", name, len(env.Data), perEstate[estateOf[name]])
		}
		seen := map[string]bool{}
		prev := ""
		for _, r := range env.Data {
			if seen[r.ID] || (r.Status != "running" && r.Status != "stopped") || r.Name == "" || r.MaxMem == 0 {
				t.Fatalf("%s: bad or repeated row %+v", name, r)
			}
			if id := strconv.FormatInt(r.VMID, 10); id <= prev {
				t.Fatalf("%s: %s listed after %s", name, id, prev)
			} else {
				prev = id
			}
			seen[r.ID] = true
		}
	}

	// A guest's directory appears when something uses it.
	ct := opts.Guests[0]
	if dir := s.Node(ct.Node).ContainerDir(ct.VMID); dir == "" {
		t.Fatal("no container dir")
	} else if _, err := os.Stat(dir); err != nil {
		t.Fatalf("container dir not made on use: %v", err)
	}

	start = time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	t.Logf("50 nodes, 5000 guests: New %v, Close %v", started, time.Since(start))
}

// BenchmarkClusterResources measures GET /cluster/resources?type=vm on one
// cluster of 10 nodes holding 5,000 guests: over real HTTPS with a
// keep-alive client decoding typed rows (allocations include the
// client's), the same without decoding the JSON (gzip is still undone),
// and the handler alone with its JSON encoding.
func BenchmarkClusterResources(b *testing.B) {
	opts := Scale{Clusters: 1, NodesPerCluster: 10, GuestsPerNode: 500}.Options()
	opts.Dir = b.TempDir()
	s, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := s.Node("homelab-pve03")

	b.Run("https", func(b *testing.B) {
		client := keepAliveClient()
		b.ReportAllocs()
		for b.Loop() {
			var env struct{ Data []typedResource }
			if getJSON(b, client, n, "/cluster/resources?type=vm", &env); len(env.Data) != 5000 {
				b.Fatalf("%d rows", len(env.Data))
			}
		}
	})
	b.Run("https-undecoded", func(b *testing.B) {
		client := keepAliveClient()
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, n.APIURL()+"/cluster/resources?type=vm", nil)
			req.Header.Set("Authorization", authHeader(corralTok))
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status, err)
			}
			resp.Body.Close()
		}
	})
	b.Run("handler", func(b *testing.B) {
		req, _ := http.NewRequest(http.MethodGet, n.APIURL()+"/cluster/resources?type=vm", nil)
		tok := newToken(corralTok)
		b.ReportAllocs()
		for b.Loop() {
			data, err := getClusterResources(&request{n: n, r: req, tok: tok, p: params{"type": "vm"}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(map[string]any{"data": data}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkNewBigEstate measures starting and closing the 50-node,
// 5,000-guest estate, and reports the heap a running one holds (heap-MB).
func BenchmarkNewBigEstate(b *testing.B) {
	opts := bigScale.Options()
	var heap uint64
	b.ReportAllocs()
	for b.Loop() {
		opts.Dir = b.TempDir()
		before := heapInUse()
		s, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		if after := heapInUse(); after > before {
			heap = max(heap, after-before)
		}
		s.Close()
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// keepAliveClient reuses connections, as Corral's client does; these
// tests talk to many nodes, so it trusts any loopback certificate.
func keepAliveClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback simulator
		MaxIdleConnsPerHost: 4,
	}}
}

// typedResource is what a typed client (like Corral's) decodes of a guest row.
type typedResource struct {
	ID, Node, Type, Status, Name, Tags, Lock string
	VMID, Uptime, Mem, MaxMem, Disk, MaxDisk int64
	CPU, MaxCPU                              float64
	Template                                 int
}

// getRows GETs a list as the Corral token and decodes its rows.
func getRows(tb testing.TB, client *http.Client, n *Node, path string) []map[string]any {
	tb.Helper()
	var env struct {
		Data []map[string]any `json:"data"`
	}
	getJSON(tb, client, n, path, &env)
	return env.Data
}

// getJSON GETs path as the Corral token and decodes the answer into v.
func getJSON(tb testing.TB, client *http.Client, n *Node, path string, v any) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, n.APIURL()+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", authHeader(corralTok))
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		tb.Fatalf("GET %s on %s: %s %s", path, n.Name(), resp.Status, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatal(err)
	}
}

// TestStringOrderKey: guests are listed in the string order of their vmid
// ("100" < "1000" < "101" < "99"), computed without making strings.
func TestStringOrderKey(t *testing.T) {
	ids := []int{0, 9, 10, 99, 100, 101, 109, 110, 1000, 1001, 999, 10000, 100000, 999999999, 200, 2000, 20, 1}
	for i := range 300 {
		ids = append(ids, 100+i*i*37%999_999_900)
	}
	byKey := slices.Clone(ids)
	slices.SortStableFunc(byKey, func(a, b int) int { return stringOrderKey(a).cmp(stringOrderKey(b)) })
	byString := slices.Clone(ids)
	slices.SortStableFunc(byString, func(a, b int) int { return strings.Compare(strconv.Itoa(a), strconv.Itoa(b)) })
	if !slices.Equal(byKey, byString) {
		t.Fatalf("key order %v\nstring order %v", byKey, byString)
	}
}

// TestLazyGuestDirs_ReusedDir: without Persist, a second estate in the
// same Dir does not inherit a container's files from the first, although
// its directories are only made on first use.
func TestLazyGuestDirs_ReusedDir(t *testing.T) {
	opts := testOptions()
	opts.Dir = t.TempDir()
	for run := range 2 {
		s, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		note := filepath.Join(s.Node("pve").ContainerDir(105), "note")
		if _, err := os.Stat(note); !os.IsNotExist(err) {
			t.Fatalf("run %d: a previous run's file is in CT 105: %v", run, err)
		}
		if err := os.WriteFile(note, []byte("left behind"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
