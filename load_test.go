package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/ssh"

	"corral/handlers/formtest"
)

// Load parameters: 20 signed-in people refreshing every 5 s (issue 17),
// for a bounded time. Every fourth person also creates containers through
// the wizard, at the start and a third of the way in, and follows each
// job's progress stream to its end.
const (
	loadUsers        = 20
	loadDuration     = 30 * time.Second
	loadRefresh      = 5 * time.Second
	loadCreatorEvery = 4
	loadCreations    = 2
	loadJobLimit     = 3 * time.Minute // a followed job must end within this
	// loadQuietAfter is when the creations (at the start and a third of
	// the way in, a few seconds each) are over and only looking goes on.
	loadQuietAfter = 20 * time.Second
)

// BenchmarkLoad runs `corral serve` and the simulated estate (the pvesim
// command) as two processes and drives Corral over loopback as loadUsers
// people with accounts of their own would: the dashboard every
// loadRefresh, the wizard's VMID check as they type, containers created
// through the wizard with their job's progress stream followed to the
// end, and a command in a container through the SSH gateway. It stops by
// itself after loadDuration (and the jobs it started) and prints
// throughput, p50/p99 per kind, and each process's peak RSS and CPU time.
// Run with make load.
func BenchmarkLoad(b *testing.B) {
	bins := buildLoadBinaries(b)
	for b.Loop() {
		runLoad(b, bins)
	}
}

var (
	csrfMeta   = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	ctLink     = regexp.MustCompile(`href="/containers/([A-Za-z0-9_-]+)/(\d+)"`)
	jobPath    = regexp.MustCompile(`^/jobs/([A-Za-z0-9_-]+)$`)
	jobStateRe = regexp.MustCompile(`data-testid="job-status" data-state="([a-z]+)"`)
)

// loadClient is one signed-in person.
type loadClient struct {
	c        *http.Client // follows redirects, as a browser does
	noFollow *http.Client // sees a 303 itself, to learn where it points
	stream   *http.Client // no overall timeout: a progress stream runs until its job ends
	base     string
	csrf     string
}

func signIn(b *testing.B, e *loadEstate, a loadAccount) *loadClient {
	jar, _ := cookiejar.New(nil)
	lc := &loadClient{c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, base: e.http}
	lc.noFollow = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	lc.stream = &http.Client{Jar: jar}
	page := lc.get(b, "/login")
	m := csrfMeta.FindStringSubmatch(page)
	if m == nil {
		b.Fatalf("no CSRF token on /login")
	}
	res, err := lc.c.PostForm(e.http+"/login", url.Values{"_csrf": {m[1]}, "username": {a.name}, "password": {a.password}})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if m := csrfMeta.FindStringSubmatch(string(body)); m != nil {
		lc.csrf = m[1]
	}
	if res.StatusCode != http.StatusOK || lc.csrf == "" {
		b.Fatalf("sign-in as %s: %d", a.name, res.StatusCode)
	}
	return lc
}

func (lc *loadClient) get(b *testing.B, path string) string {
	res, err := lc.c.Get(lc.base + path)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	return string(body)
}

// loadStats collects latencies by kind.
type loadStats struct {
	mu       sync.Mutex
	took     map[string][]time.Duration
	failed   map[string]int
	firstErr map[string]error
}

func newLoadStats() *loadStats {
	return &loadStats{took: map[string][]time.Duration{}, failed: map[string]int{}, firstErr: map[string]error{}}
}

func (s *loadStats) add(kind string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.failed[kind]++; s.firstErr[kind] == nil {
			s.firstErr[kind] = err
		}
		return
	}
	s.took[kind] = append(s.took[kind], d)
}

func timed(s *loadStats, kind string, f func() error) {
	start := time.Now()
	err := f()
	s.add(kind, time.Since(start), err)
}

// print writes one line per kind, and fails the benchmark for failures.
func (s *loadStats) print(b *testing.B, over time.Duration) {
	kinds := make([]string, 0, len(s.took))
	for k := range s.took {
		kinds = append(kinds, k)
	}
	for k := range s.failed {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		l := s.took[k]
		slices.Sort(l)
		p := func(q float64) time.Duration {
			if len(l) == 0 {
				return 0
			}
			return l[int(q*float64(len(l)-1))]
		}
		fmt.Printf("  %-16s %6d ok %4d failed  %7.1f/s  p50 %-10v p99 %v\n", k, len(l), s.failed[k],
			float64(len(l))/over.Seconds(), p(.5).Round(10*time.Microsecond), p(.99).Round(10*time.Microsecond))
		b.ReportMetric(float64(p(.99).Microseconds())/1000, "ms-p99-"+k)
		if s.failed[k] > 0 {
			b.Errorf("%d %s requests failed; the first: %v", s.failed[k], k, s.firstErr[k])
		}
	}
}

// fetch sends a request as htmx would (a form with the CSRF header) and
// reads the whole answer.
func (lc *loadClient) fetch(method, path string, form url.Values) error {
	_, err := lc.do(lc.c, method, path, form, true)
	return err
}

// do sends a request and returns the answer's body; a status of 400 or
// more is an error.
func (lc *loadClient) do(c *http.Client, method, path string, form url.Values, htmx bool) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, lc.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", lc.csrf)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var buf strings.Builder
	if _, err := io.Copy(&buf, res.Body); err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(strings.NewReader(buf.String()))
	if res.StatusCode >= 400 {
		return res, fmt.Errorf("%s %s: %d", method, path, res.StatusCode)
	}
	return res, nil
}

func runLoad(b *testing.B, bins loadBinaries) {
	e := startLoadEstate(b, bins, loadUsers, nil, nil)
	corral, sim := e.corral.Process.Pid, e.sim.Cmd.Process.Pid
	rssStarted := procStatusKB(corral, "VmRSS")
	people := make([]*loadClient, len(e.accounts))
	for i, a := range e.accounts {
		people[i] = signIn(b, e, a)
	}
	// The containers the gateway can run a command in, by VMID alone (as
	// the dashboard of every account lists the same estate).
	var vmids []string
	for _, m := range ctLink.FindAllStringSubmatch(people[0].get(b, "/containers"), -1) {
		if !slices.Contains(vmids, m[2]) && shellOnce(e, e.accounts[0], m[2]) == nil {
			vmids = append(vmids, m[2])
		}
	}
	creators := (loadUsers + loadCreatorEvery - 1) / loadCreatorEvery
	sshAuth := "keys"
	if loadSSHPassword {
		sshAuth = "passwords"
	}
	fmt.Printf("load: %d people with accounts of their own (%d simulated nodes each) for %v; %d containers for shells (SSH with %s); %d people create %d containers each; %d CPUs, load average %s\n",
		loadUsers, len(e.sim.Estate.Nodes), loadDuration, len(vmids), sshAuth, creators, loadCreations, runtime.NumCPU(), loadAverage())

	stats := newLoadStats()
	asked, err := e.proxmoxRequests()
	if err != nil {
		b.Fatal(err)
	}
	// Once the creations are over, only people looking read the cluster.
	quiet := make(chan map[string]float64, 1)
	go func() {
		select {
		case <-time.After(loadQuietAfter):
			m, err := e.proxmoxRequests()
			if err != nil {
				b.Error(err)
			}
			quiet <- m
		case <-b.Context().Done():
			quiet <- nil
		}
	}()
	rssSignedIn, hwmSignedIn := procStatusKB(corral, "VmRSS"), procStatusKB(corral, "VmHWM")
	corralCPU, simCPU := procCPU(corral), procCPU(sim)
	ctx, cancel := context.WithTimeout(b.Context(), loadDuration)
	defer cancel()
	// The load's own peak: VmHWM also holds the sign-ins' password hashing.
	loadPeak := make(chan int)
	go func() {
		peak := 0
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for ctx.Err() == nil {
			peak = max(peak, procStatusKB(corral, "VmRSS"))
			<-t.C
		}
		loadPeak <- peak
	}()
	jobCtx, jobCancel := context.WithTimeout(b.Context(), loadJobLimit)
	defer jobCancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i, lc := range people {
		a := e.accounts[i]
		wg.Go(func() { person(ctx, lc, a, i, stats) })
		wg.Go(func() { shellUser(ctx, e, a, vmids, i, stats) })
		if i%loadCreatorEvery == 0 {
			wg.Go(func() { creator(ctx, jobCtx, lc, a, i/loadCreatorEvery, stats) })
		}
	}
	wg.Wait()
	took := time.Since(start)
	rssEnd := procStatusKB(corral, "VmRSS")

	stats.print(b, loadDuration)
	proc := func(name string, pid int, cpuBefore time.Duration) {
		peak, cpu := procStatusKB(pid, "VmHWM"), procCPU(pid)-cpuBefore
		fmt.Printf("  %-12s peak RSS %5.1f MB (VmHWM), CPU %5.1f s in %v (%.0f%% of one core)\n",
			name, float64(peak)/1024, cpu.Seconds(), took.Round(time.Second), 100*cpu.Seconds()/took.Seconds())
		b.ReportMetric(float64(peak)/1024, "MB-peak-rss-"+name)
	}
	proc("corral", corral, corralCPU)
	fmt.Printf("  %-12s RSS %.1f MB started, %.1f MB after %d sign-ins (peak %.1f MB), sampled peak during the load %.1f MB, %.1f MB at its end\n", "corral",
		float64(rssStarted)/1024, float64(rssSignedIn)/1024, len(people), float64(hwmSignedIn)/1024, float64(<-loadPeak)/1024, float64(rssEnd)/1024)
	proc("pvesim", sim, simCPU)

	// What the load cost the cluster. Looking adds no reads: the
	// dashboards of all the people share one /cluster/resources per
	// cluster per freshness window. Each creation asks for a fresh read
	// twice (when it starts and when Proxmox made the container), so the
	// creator's dashboard shows it at once.
	after, err := e.proxmoxRequests()
	if err != nil {
		b.Fatal(err)
	}
	mid := <-quiet
	estates := map[string]bool{}
	for _, n := range e.sim.Estate.Nodes {
		estates[cmp.Or(n.Cluster, n.Name)] = true
	}
	total := 0.0
	for endpoint, n := range after {
		total += n - asked[endpoint]
	}
	const reads = "/cluster/resources"
	perRefresh := func(n float64, over time.Duration) float64 {
		return n / float64(len(estates)) / (over.Seconds() / loadRefresh.Seconds())
	}
	quietFor := took - loadQuietAfter
	fmt.Printf("  proxmox      %.0f requests in %v, %.0f of them %s for %d estates: %.1f per estate per %v with %d creations;\n",
		total, took.Round(time.Second), after[reads]-asked[reads], reads, len(estates), perRefresh(after[reads]-asked[reads], took), loadRefresh, creators*loadCreations)
	fmt.Printf("               in the last %v, people only looking: %.0f, %.1f per estate per %v\n",
		quietFor.Round(time.Second), after[reads]-mid[reads], perRefresh(after[reads]-mid[reads], quietFor), loadRefresh)
	b.ReportMetric(perRefresh(after[reads]-mid[reads], quietFor), "cluster-reads-per-estate-per-refresh-looking")
}

// person opens the dashboard, which then refreshes its grid every
// loadRefresh as htmx's poll does, and between refreshes types a VMID into
// the wizard.
func person(ctx context.Context, lc *loadClient, a loadAccount, i int, s *loadStats) {
	if !staggered(ctx, i) {
		return
	}
	t := time.NewTicker(loadRefresh)
	defer t.Stop()
	nodes := slices.Sorted(maps.Keys(a.nodeIDs))
	for n := 0; ; n++ {
		if n == 0 {
			timed(s, "dashboard-page", func() error { _, err := lc.do(lc.c, http.MethodGet, "/containers", nil, false); return err })
		} else {
			timed(s, "dashboard-poll", func() error { return lc.fetch(http.MethodGet, "/containers", nil) })
		}
		node := a.nodeIDs[nodes[(i+n)%len(nodes)]]
		for _, typed := range []string{"2", "20", "200", fmt.Sprint(2000 + i)} {
			timed(s, "vmid-check", func() error {
				return lc.fetch(http.MethodPost, "/containers/vmid", url.Values{"node_id": {node}, "vmid": {typed}})
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// creator number k creates loadCreations containers through the wizard,
// the first k seconds in and then every third of the run, each on another
// node, and follows each job's progress stream to its end (within jobCtx).
func creator(ctx, jobCtx context.Context, lc *loadClient, a loadAccount, k int, s *loadStats) {
	nodes := slices.Sorted(maps.Keys(a.nodeIDs))
	var follow sync.WaitGroup
	defer follow.Wait()
	for n := range loadCreations {
		wait := loadDuration / 3
		if n == 0 {
			wait = time.Duration(k) * time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		sent := time.Now()
		// Each types a VMID of their own: accounts sharing a cluster are
		// each offered its next free VMID, so two creating at once may be
		// offered the same one, and the second job fails at Proxmox.
		vmid := 3000 + 10*k + n
		job, err := lc.createContainer(a.nodeIDs[nodes[(k+n)%len(nodes)]], fmt.Sprintf("%s-ct%d", a.name, n), vmid, s)
		s.add("create", time.Since(sent), err)
		if err != nil {
			continue
		}
		follow.Go(func() {
			first, state, err := lc.follow(jobCtx, job)
			if err == nil && state != "done" {
				err = fmt.Errorf("job %s ended %q", job, state)
			}
			s.add("job-first-event", first, err)
			s.add("job-to-end", time.Since(sent), err)
		})
	}
}

// createContainer walks the wizard as a person with htmx does (node,
// from scratch, a hostname and VMID, the review) and creates; it returns the job
// the creation's 303 points at. Each step counts as a "wizard" request.
func (lc *loadClient) createContainer(nodeID, hostname string, vmid int, s *loadStats) (string, error) {
	var doc *goquery.Document
	step := func(method, path string, form url.Values) error {
		var err error
		timed(s, "wizard", func() error {
			var res *http.Response
			if res, err = lc.do(lc.c, method, path, form, form != nil); err == nil {
				doc, err = goquery.NewDocumentFromReader(res.Body)
			}
			return err
		})
		return err
	}
	if err := step(http.MethodGet, "/containers/new?node="+url.QueryEscape(nodeID), nil); err != nil {
		return "", err
	}
	for _, change := range []func(url.Values){
		func(v url.Values) { v.Set("template", "scratch"); v.Set("step", "configure") },
		func(v url.Values) {
			v.Set("hostname", hostname)
			v.Set("vmid", fmt.Sprint(vmid))
			v.Set("step", "review")
		},
	} {
		form := formtest.Values(doc.Find("form#wizard"))
		change(form)
		if err := step(http.MethodPost, "/containers/new", form); err != nil {
			return "", err
		}
	}
	if at, _ := doc.Find("form#wizard").Attr("data-step"); at != "review" {
		return "", fmt.Errorf("the wizard stayed at %q: %s", at, strings.TrimSpace(doc.Find(`[data-testid="field-error"]`).Text()))
	}
	res, err := lc.do(lc.noFollow, http.MethodPost, "/containers", formtest.Values(doc.Find("form#wizard")), false)
	if err != nil {
		return "", err
	}
	loc, _ := res.Location()
	if res.StatusCode != http.StatusSeeOther || loc == nil || !jobPath.MatchString(loc.Path) {
		return "", fmt.Errorf("create answered %d, to %v", res.StatusCode, loc)
	}
	return jobPath.FindStringSubmatch(loc.Path)[1], nil
}

// follow reads a job's progress stream until its "done" event, and returns
// how long the first event took and the state the last status panel
// showed.
func (lc *loadClient) follow(ctx context.Context, job string) (first time.Duration, state string, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, lc.base+"/jobs/"+job+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	start := time.Now()
	res, err := lc.stream.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("events of %s: %d", job, res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "event:") && first == 0 {
			first = time.Since(start)
		}
		if line == "event: done" {
			return first, state, nil
		}
		if m := jobStateRe.FindStringSubmatch(line); m != nil {
			state = m[1]
		}
	}
	if err := sc.Err(); err != nil {
		return first, state, err
	}
	return first, state, errors.New("the stream of " + job + " ended without its done event")
}

// staggered waits until person i's turn within the first refresh period:
// people do not all press F5 in the same millisecond, so their refreshes
// are spread evenly over it. It reports false if ctx ended first.
func staggered(ctx context.Context, i int) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Duration(i) * loadRefresh / loadUsers):
		return true
	}
}

// shellUser runs a short command in a container through the SSH gateway
// every loadRefresh, as someone checking on a service would.
func shellUser(ctx context.Context, e *loadEstate, a loadAccount, vmids []string, i int, s *loadStats) {
	if !staggered(ctx, i) {
		return
	}
	t := time.NewTicker(loadRefresh)
	defer t.Stop()
	for n := 0; len(vmids) > 0; n++ {
		vmid := vmids[(i+n)%len(vmids)]
		timed(s, "ssh-exec", func() error { return shellOnce(e, a, vmid) })
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loadSSHPassword makes the SSH sessions sign in with the account's
// password instead of its key (CORRAL_LOAD_SSH_AUTH=password make load):
// each is then an argon2id check, as each web sign-in is.
var loadSSHPassword = os.Getenv("CORRAL_LOAD_SSH_AUTH") == "password"

// shellOnce signs in to the gateway with the account's key (or password),
// checking the gateway's host key, and runs echo in vmid.
func shellOnce(e *loadEstate, a loadAccount, vmid string) error {
	auth := ssh.PublicKeys(a.key)
	if loadSSHPassword {
		auth = ssh.Password(a.password)
	}
	cfg := &ssh.ClientConfig{User: a.name, Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: ssh.FixedHostKey(e.gatewayKey), Timeout: 30 * time.Second}
	c, err := ssh.Dial("tcp", e.ssh, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	out, err := sess.Output(vmid + " -- echo load")
	if err == nil && strings.TrimSpace(string(out)) != "load" {
		err = fmt.Errorf("echo said %q", out)
	}
	return err
}
