package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"corral/exec/gateway"
	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simproc"
	"corral/store"
)

// The load benchmarks run Corral as people run it, `corral serve`, in a
// process of its own, against the simulated estate in another (the pvesim
// command), so each one's memory and CPU are measured apart.

// loadBinaries are the two programs a load run starts.
type loadBinaries struct{ corral, pvesim string }

// buildLoadBinaries builds corral as make build does, and the simulator.
func buildLoadBinaries(b *testing.B) loadBinaries {
	dir := b.TempDir()
	bins := loadBinaries{corral: filepath.Join(dir, "corral"), pvesim: filepath.Join(dir, "pvesim")}
	for out, pkg := range map[string]string{bins.corral: ".", bins.pvesim: "./proxmox/pvesim/cmd/pvesim"} {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", pkg, err, msg)
		}
	}
	return bins
}

// loadAccount is one seeded account: its login, an SSH key it has added,
// and its records of the simulated nodes, by node name.
type loadAccount struct {
	name, password string
	key            ssh.Signer
	nodeIDs        map[string]string
}

// loadEstate is a running simulator and a running `corral serve` whose
// accounts each have every simulated node added and pinned.
type loadEstate struct {
	sim        *simproc.Process
	corral     *exec.Cmd
	http, ssh  string
	gatewayKey ssh.PublicKey // the gateway's host key, as a person pins it
	accounts   []loadAccount
}

// startOn starts a command on one CPU, or anywhere for cpu < 0.
type startOn func(cmd *exec.Cmd) error

// startLoadEstate starts the simulator, seeds accounts for Corral's data
// directory, then starts corral serve on it. The two starts may pin each
// process to a CPU.
func startLoadEstate(b *testing.B, bins loadBinaries, accounts int, simStart, corralStart startOn) *loadEstate {
	ctx := b.Context()
	sim, err := simproc.Start(exec.Command(bins.pvesim, "-dir", b.TempDir()), simStart)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Stop)
	e := &loadEstate{sim: sim}

	dataDir := b.TempDir()
	if e.accounts, err = seedLoadAccounts(ctx, dataDir, sim.Estate, accounts); err != nil {
		b.Fatalf("seed accounts: %v", err)
	}

	httpAddr, sshAddr := freeLoopbackAddr(b), freeLoopbackAddr(b)
	var logs strings.Builder
	cmd := exec.Command(bins.corral, "serve", "--addr", httpAddr, "--ssh-addr", sshAddr, "--data", dataDir, "--log-level", "warn", "--metrics")
	cmd.Env = append(os.Environ(), "CORRAL_METRICS_TOKEN="+loadMetricsToken)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if corralStart == nil {
		corralStart = (*exec.Cmd).Start
	}
	if err := corralStart(cmd); err != nil {
		b.Fatal(err)
	}
	e.corral, e.http, e.ssh = cmd, "http://"+httpAddr, sshAddr
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if b.Failed() {
			b.Logf("corral serve said:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(e.http + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("corral serve did not answer /healthz within 30 s:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// serve made its host key on start: the clients pin it from the file,
	// as a person compares the fingerprint the account page shows.
	hk, err := gateway.LoadOrCreateHostKey(filepath.Join(dataDir, "ssh_host_ed25519_key"))
	if err != nil {
		b.Fatal(err)
	}
	e.gatewayKey = hk.PublicKey()
	return e
}

// seedLoadAccounts creates n accounts load01…, each with an SSH key and
// every simulated node, pinned after checking the keys the node presents
// against those the simulator printed (as demo does for its account). It
// closes the database before serve opens it.
func seedLoadAccounts(ctx context.Context, dataDir string, est simproc.Estate, n int) ([]loadAccount, error) {
	db, err := openStore(Config{DataDir: dataDir}, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// Probe each node once; every account's record is a copy.
	var recs []store.Node
	for _, sn := range est.Nodes {
		_, port, err := net.SplitHostPort(sn.SSHAddr)
		if err != nil {
			return nil, err
		}
		sshPort, _ := strconv.Atoi(port)
		hostKey, err := sn.HostKey()
		if err != nil {
			return nil, err
		}
		rec, err := pinKnownNode(ctx, store.Node{
			Name: sn.Name, Host: sn.Host, Port: sn.Port,
			TokenID: pvesim.DemoTokenID, TokenSecret: pvesim.DemoTokenSecret,
			SSHUser: sn.SSHUser, SSHPort: sshPort, SSHPassword: sn.SSHPassword,
		}, sn.Fingerprint, hostKey)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	accounts := make([]loadAccount, n)
	for i := range accounts {
		a := &accounts[i]
		a.name, a.password, a.nodeIDs = fmt.Sprintf("load%02d", i+1), randomPassword(), map[string]string{}
		u, err := db.CreateUser(ctx, a.name, a.password)
		if err != nil {
			return nil, err
		}
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		if a.key, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, err
		}
		if _, err := db.AddSSHKey(ctx, u.ID, "load", string(ssh.MarshalAuthorizedKey(a.key.PublicKey()))); err != nil {
			return nil, err
		}
		for _, rec := range recs {
			rec.UserID = u.ID
			made, err := db.CreateNode(ctx, rec)
			if err != nil {
				return nil, err
			}
			a.nodeIDs[rec.Name] = made.ID
		}
	}
	return accounts, nil
}

func freeLoopbackAddr(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// loadMetricsToken lets the load read Corral's /metrics.
const loadMetricsToken = "load-run-metrics-token"

// proxmoxRequests scrapes Corral's /metrics for the requests it has made to
// Proxmox so far, by endpoint: what the load cost the simulated cluster.
func (e *loadEstate) proxmoxRequests() (map[string]float64, error) {
	req, _ := http.NewRequest(http.MethodGet, e.http+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+loadMetricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", res.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "corral_proxmox_requests_total{")
		if !ok {
			continue
		}
		labels, value, _ := strings.Cut(line, "} ")
		_, endpoint, _ := strings.Cut(labels, `endpoint="`)
		endpoint, _, _ = strings.Cut(endpoint, `"`)
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics line %q: %w", sc.Text(), err)
		}
		out[endpoint] += n
	}
	return out, sc.Err()
}

// procStatusKB reads a "Vm…:" line of /proc/PID/status in kB (0 if gone).
func procStatusKB(pid int, field string) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// procCPU is the CPU time (user and system) process pid has used.
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields count from after its ")".
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTicks = 100 // USER_HZ on every Linux Go supports
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// loadAverage is the machine's 1-minute load average: figures taken on a
// machine busy with other work say so.
func loadAverage() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// cpusAllowed is the CPU list the threads of a process may run on, as the
// kernel says; threads that differ are listed apart ("1 | 0-1").
func cpusAllowed(pid int) string {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var lists []string
	for _, t := range tasks {
		raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && !slices.Contains(lists, strings.TrimSpace(v)) {
				lists = append(lists, strings.TrimSpace(v))
			}
		}
	}
	if len(lists) == 0 {
		return "?"
	}
	return strings.Join(lists, " | ")
}

// onCPU starts commands on one CPU: the child inherits the CPU mask of the
// thread that forks it, so the fork happens on a thread locked to cpu for
// the moment, and every thread the child ever makes stays there.
func onCPU(cpu int) startOn {
	return func(cmd *exec.Cmd) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var was, one unix.CPUSet
		if err := unix.SchedGetaffinity(0, &was); err != nil {
			return err
		}
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			return err
		}
		defer unix.SchedSetaffinity(0, &was) //nolint:errcheck // this thread is locked and put back as it was
		return cmd.Start()
	}
}

// pinSelf moves every thread of this process to cpu (threads made later
// inherit it) and returns how to put them back.
func pinSelf(cpu int) (undo func(), err error) {
	var was, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		return nil, err
	}
	one.Set(cpu)
	set := func(mask *unix.CPUSet) error {
		tids, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tids {
			tid, _ := strconv.Atoi(t.Name())
			// A thread that ended meanwhile is no error.
			if err := unix.SchedSetaffinity(tid, mask); err != nil && err != unix.ESRCH {
				return err
			}
		}
		return nil
	}
	if err := set(&one); err != nil {
		return nil, err
	}
	return func() { _ = set(&was) }, nil
}
