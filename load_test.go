package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Load parameters: 20 signed-in people refreshing every 5 s (issue 17),
// for a bounded time.
const (
	loadUsers    = 20
	loadDuration = 30 * time.Second
	loadRefresh  = 5 * time.Second
)

// BenchmarkLoad runs `corral demo` as its own process and drives it over
// loopback as loadUsers people would: the dashboard every loadRefresh, the
// wizard's VMID check as they type, a job's progress stream, and an SSH
// session through the gateway. It stops by itself after loadDuration and
// prints throughput, p50/p99 per kind and Corral's peak RSS (the demo's
// simulator shares that process). Run with make load.
func BenchmarkLoad(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "corral")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	for b.Loop() {
		runLoad(b, bin)
	}
}

type loadDemo struct {
	cmd               *exec.Cmd
	http, ssh, passwd string
	nodeIDs           []string // the nodes the dashboard shows containers on
	vmids, jobIDs     []string // containers the gateway runs commands in; jobs
}

var (
	demoOpenLine = regexp.MustCompile(`Open\s+http://(\S+)`)
	demoSignIn   = regexp.MustCompile(`Sign in\s+demo / (\S+)`)
	demoSSHLine  = regexp.MustCompile(`ssh -p (\d+) demo@`)
	csrfMeta     = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	ctLink       = regexp.MustCompile(`href="/containers/([A-Za-z0-9_-]+)/(\d+)"`)
	jobLink      = regexp.MustCompile(`href="/jobs/([A-Za-z0-9-]+)"`)
)

func startLoadDemo(b *testing.B, bin string) *loadDemo {
	addr := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	cmd := exec.Command(bin, "demo", "--addr", addr(), "--ssh-addr", addr(), "--data", b.TempDir(), "--log-level", "warn")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	d := &loadDemo{cmd: cmd}
	b.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if m := demoOpenLine.FindStringSubmatch(line); m != nil {
			d.http = "http://" + m[1]
		}
		if m := demoSignIn.FindStringSubmatch(line); m != nil {
			d.passwd = m[1]
		}
		if m := demoSSHLine.FindStringSubmatch(line); m != nil {
			d.ssh = "127.0.0.1:" + m[1]
		}
		if strings.HasPrefix(line, "Press Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, out)
	if d.http == "" || d.passwd == "" || d.ssh == "" {
		b.Fatalf("the demo did not print its addresses: %+v", d)
	}
	return d
}

// loadClient is one signed-in person.
type loadClient struct {
	c    *http.Client
	base string
	csrf string
}

func signIn(b *testing.B, d *loadDemo) *loadClient {
	jar, _ := cookiejar.New(nil)
	lc := &loadClient{c: &http.Client{Jar: jar, Timeout: 30 * time.Second}, base: d.http}
	page := lc.get(b, "/login")
	m := csrfMeta.FindStringSubmatch(page)
	if m == nil {
		b.Fatalf("no CSRF token on /login")
	}
	res, err := lc.c.PostForm(d.http+"/login", url.Values{"_csrf": {m[1]}, "username": {"demo"}, "password": {d.passwd}})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if m := csrfMeta.FindStringSubmatch(string(body)); m != nil {
		lc.csrf = m[1]
	}
	if res.StatusCode != http.StatusOK || lc.csrf == "" {
		b.Fatalf("sign-in: %d", res.StatusCode)
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
	mu     sync.Mutex
	took   map[string][]time.Duration
	failed map[string]int
}

func (s *loadStats) add(kind string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.failed[kind]++
		return
	}
	s.took[kind] = append(s.took[kind], d)
}

func timed(s *loadStats, kind string, f func() error) {
	start := time.Now()
	err := f()
	s.add(kind, time.Since(start), err)
}

func (lc *loadClient) fetch(method, path string, form url.Values) error {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, lc.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", lc.csrf)
		req.Header.Set("HX-Request", "true")
	}
	res, err := lc.c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode >= 400 {
		return fmt.Errorf("%s %s: %d", method, path, res.StatusCode)
	}
	return nil
}

func runLoad(b *testing.B, bin string) {
	d := startLoadDemo(b, bin)
	first := signIn(b, d)
	dash := first.get(b, "/containers")
	for _, m := range ctLink.FindAllStringSubmatch(dash, -1) {
		if !slices.Contains(d.nodeIDs, m[1]) {
			d.nodeIDs = append(d.nodeIDs, m[1])
		}
		// The gateway takes a VMID alone; keep those it can run a command in.
		if !slices.Contains(d.vmids, m[2]) && shellOnce(d, m[2]) == nil {
			d.vmids = append(d.vmids, m[2])
		}
	}
	for _, m := range jobLink.FindAllStringSubmatch(dash, -1) {
		d.jobIDs = append(d.jobIDs, m[1])
	}
	fmt.Printf("load: %d people for %v against %s: %d nodes, %d containers for shells, %d jobs on the dashboard\n",
		loadUsers, loadDuration, d.http, len(d.nodeIDs), len(d.vmids), len(d.jobIDs))

	stats := &loadStats{took: map[string][]time.Duration{}, failed: map[string]int{}}
	ctx, cancel := context.WithTimeout(b.Context(), loadDuration)
	defer cancel()
	var peakRSS int
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				peakRSS = max(peakRSS, rssKB(d.cmd.Process.Pid))
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range loadUsers {
		lc := signIn(b, d)
		wg.Go(func() { person(ctx, lc, d, i, stats) })
		wg.Go(func() { shellUser(ctx, d, i, stats) })
	}
	wg.Wait()
	peakRSS = max(peakRSS, rssKB(d.cmd.Process.Pid))

	kinds := make([]string, 0, len(stats.took))
	for k := range stats.took {
		kinds = append(kinds, k)
	}
	for k := range stats.failed {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		l := stats.took[k]
		slices.Sort(l)
		p := func(q float64) time.Duration {
			if len(l) == 0 {
				return 0
			}
			return l[int(q*float64(len(l)-1))]
		}
		fmt.Printf("  %-12s %6d ok %4d failed  %7.1f/s  p50 %-10v p99 %v\n", k, len(l), stats.failed[k],
			float64(len(l))/loadDuration.Seconds(), p(.5).Round(10*time.Microsecond), p(.99).Round(10*time.Microsecond))
		b.ReportMetric(float64(p(.99).Microseconds())/1000, "ms-p99-"+k)
		if stats.failed[k] > 0 {
			b.Errorf("%d %s requests failed", stats.failed[k], k)
		}
	}
	fmt.Printf("  corral peak RSS %.1f MB (the demo's simulator included)\n", float64(peakRSS)/1024)
	b.ReportMetric(float64(peakRSS)/1024, "MB-peak-rss")
}

// person refreshes the dashboard every loadRefresh and, between, types a
// VMID into the wizard and opens a job's progress stream.
func person(ctx context.Context, lc *loadClient, d *loadDemo, i int, s *loadStats) {
	t := time.NewTicker(loadRefresh)
	defer t.Stop()
	for n := 0; ; n++ {
		timed(s, "dashboard", func() error { return lc.fetch(http.MethodGet, "/containers", nil) })
		if len(d.nodeIDs) > 0 {
			node := d.nodeIDs[(i+n)%len(d.nodeIDs)]
			for _, typed := range []string{"2", "20", "200", fmt.Sprint(2000 + i)} {
				timed(s, "vmid-check", func() error {
					return lc.fetch(http.MethodPost, "/containers/vmid", url.Values{"node_id": {node}, "vmid": {typed}})
				})
			}
		}
		if len(d.jobIDs) > 0 {
			job := d.jobIDs[(i+n)%len(d.jobIDs)]
			timed(s, "job-stream", func() error { return lc.fetch(http.MethodGet, "/jobs/"+job+"/events", nil) })
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// shellUser runs a short command in a container through the SSH gateway
// every loadRefresh, as someone checking on a service would.
func shellUser(ctx context.Context, d *loadDemo, i int, s *loadStats) {
	t := time.NewTicker(loadRefresh)
	defer t.Stop()
	for n := 0; len(d.vmids) > 0; n++ {
		vmid := d.vmids[(i+n)%len(d.vmids)]
		timed(s, "ssh-exec", func() error { return shellOnce(d, vmid) })
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// shellOnce signs in to the gateway and runs echo in vmid.
func shellOnce(d *loadDemo, vmid string) error {
	cfg := &ssh.ClientConfig{User: "demo", Auth: []ssh.AuthMethod{ssh.Password(d.passwd)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // loopback, a demo's fresh key
		Timeout:         30 * time.Second}
	c, err := ssh.Dial("tcp", d.ssh, cfg)
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
