package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"corral/proxmox/pvesim/simtest"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/ssh"
)

// demoSession starts `corral demo` in-process on free ports and signs in
// with the printed credentials; it stops when the test ends.
func demoSession(t *testing.T) (base string, hc *http.Client, sshAddr, password string) {
	t.Helper()
	d := demoStart(t)
	return d.base, d.hc, d.sshAddr, d.password
}

// demoRun is a running `corral demo`, signed in as its demo account.
type demoRun struct {
	base, sshAddr, password string
	hc                      *http.Client
	out                     *simtest.Buffer
	// stop ends the demo and waits for it; it runs at the latest when the
	// test ends.
	stop func()
}

// demoStart starts `corral demo` with extra flags (e.g. --data DIR) on
// free ports and signs in.
func demoStart(t testing.TB, flags ...string) *demoRun {
	t.Helper()
	return demoStartEnv(t, nil, flags...)
}

// demoStartEnv is demoStart with environment variables.
func demoStartEnv(t testing.TB, environ map[string]string, flags ...string) *demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &simtest.Buffer{}
	done := make(chan error, 1)
	args := append([]string{"demo", "--addr", "127.0.0.1:0", "--ssh-addr", "127.0.0.1:0"}, flags...)
	go func() {
		done <- run(ctx, args, env(environ), nil, out, &simtest.Buffer{})
	}()
	var once sync.Once
	d := &demoRun{out: out}
	d.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("demo exited with %v", err)
			}
		})
	}
	t.Cleanup(d.stop)
	re := regexp.MustCompile(`Open\s+(http://\S+)\s+Sign in\s+demo / (\S+)`)
	deadline := time.Now().Add(60 * time.Second)
	var m []string
	for m == nil {
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no URL and login:\n%s", out.String())
		}
		select {
		case err := <-done:
			done <- err // for stop, which waits for the exit
			t.Fatalf("demo exited early: %v\n%s", err, out.String())
		default:
		}
		m = re.FindStringSubmatch(out.String())
		time.Sleep(20 * time.Millisecond)
	}
	sm := regexp.MustCompile(`ssh -p (\d+) demo@(\S+)`).FindStringSubmatch(out.String())
	if sm == nil {
		t.Fatalf("demo did not print the ssh command:\n%s", out.String())
	}
	d.base, d.password, d.sshAddr = m[1], m[2], net.JoinHostPort(sm[2], sm[1])
	jar, _ := cookiejar.New(nil)
	d.hc = &http.Client{Jar: jar}
	res, err := d.hc.Get(d.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	tok, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	res, err = d.hc.PostForm(d.base+"/login", url.Values{"username": {"demo"}, "password": {d.password}, "_csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.Path, "/containers") {
		t.Fatalf("demo login ended at %s with %d", res.Request.URL, res.StatusCode)
	}
	return d
}

func TestDemoSignsInWithPrintedCredentials(t *testing.T) {
	base, hc, _, _ := demoSession(t)
	res, err := hc.Get(base + "/settings/nodes")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/settings/nodes = %d", res.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(res.Body)
	text := doc.Find("table").Text()
	for _, n := range []string{"pve1", "pve2", "pve3", "pve-solo", "homelab"} {
		if !strings.Contains(text, n) {
			t.Errorf("demo nodes page lacks %s:\n%s", n, text)
		}
	}
}

// TestDemoSSHGateway reaches the demo's containers through the wired SSH
// gateway with a real SSH client: the list, then one command in a container.
func TestDemoSSHGateway(t *testing.T) {
	_, _, addr, password := demoSession(t)
	cfg := &ssh.ClientConfig{
		User:            "demo",
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // the test reads the key from nowhere else
		Timeout:         10 * time.Second,
	}
	client, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("ssh to the demo gateway: %v", err)
	}
	defer client.Close()
	run := func(cmd string) (string, error) { return demoSSH(t, client, cmd) }
	list, err := run("ls")
	if err != nil {
		t.Fatalf("ls: %v\n%s", err, list)
	}
	for _, want := range []string{"pve1", "running"} {
		if !strings.Contains(list, want) {
			t.Fatalf("container list lacks %q:\n%q", want, list)
		}
	}
	// The first running container in the list answers a command.
	var vmid string
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(line, "running") && f[0] != "" && f[0][0] >= '1' && f[0][0] <= '9' {
			vmid = f[0]
			break
		}
	}
	if vmid == "" {
		t.Fatalf("no running container with a VMID in:\n%s", list)
	}
	out, err := run(vmid + " -- sh -c 'echo hello-from-$(hostname); exit 3'")
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 3 || !strings.Contains(out, "hello-from-") {
		t.Fatalf("command in CT %s: err=%v out=%q", vmid, err, out)
	}
}
