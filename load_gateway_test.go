package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	hostexec "corral/exec"
)

// gatewayStreamSize is what each round streams into `cat >/dev/null`, and
// gatewayRounds how many rounds each path runs per iteration (interleaved,
// so a neighbour's load falls on both alike).
const (
	gatewayStreamSize = 32 << 20
	gatewayRounds     = 8
	gatewayVMID       = 101 // mqtt on pve1, running in the demo estate
)

// BenchmarkLoadGatewayPinned measures the SSH gateway as deployed: `corral
// serve` in its own process pinned to one CPU, the client (this process)
// and the simulated node (the pvesim command) pinned to another. It
// streams gatewayStreamSize bytes into `cat >/dev/null` in a container
// directly (one SSH hop: client to node) and through the gateway (client
// to gateway to node), and prints both rates and their ratio (target
// >= 0.8), and the CPU-seconds per GiB of the gateway process against
// those of the direct hop's two ends (client and node; goal: the gateway
// adds at most 1.2 times a direct hop). With fewer than two CPUs it says
// so and skips. Run with make load.
func BenchmarkLoadGatewayPinned(b *testing.B) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		b.Fatal(err)
	}
	var cpus []int
	for c := 0; c < 1024 && len(cpus) < 2; c++ {
		if allowed.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < 2 {
		fmt.Printf("gateway pinned: this machine lets us use %d CPU, so the gateway cannot have one of its own; not measured\n", allowed.Count())
		b.Skip("fewer than two CPUs")
	}
	bins := buildLoadBinaries(b)
	undo, err := pinSelf(cpus[0])
	if err != nil {
		b.Fatal(err)
	}
	defer undo()
	e := startLoadEstate(b, bins, 1, onCPU(cpus[0]), onCPU(cpus[1]))
	corral, sim := e.corral.Process.Pid, e.sim.Cmd.Process.Pid
	fmt.Printf("gateway pinned: corral serve on CPU %s, client and pvesim on CPU %s and %s; %d × %d MiB per path into CT %d; load average %s\n",
		cpusAllowed(corral), cpusAllowed(syscall.Getpid()), cpusAllowed(sim), gatewayRounds, gatewayStreamSize>>20, gatewayVMID, loadAverage())

	node, _ := e.sim.Estate.Node("pve1")
	host, port, _ := net.SplitHostPort(node.SSHAddr)
	sshPort, _ := strconv.Atoi(port)
	direct, err := hostexec.Dial(b.Context(), hostexec.HostTarget{Host: host, Port: sshPort,
		User: node.SSHUser, Password: node.SSHPassword, HostKey: node.SSHHostKey})
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close()
	a := e.accounts[0]
	gw, err := ssh.Dial("tcp", e.ssh, &ssh.ClientConfig{User: a.name, Auth: []ssh.AuthMethod{ssh.PublicKeys(a.key)},
		HostKeyCallback: ssh.FixedHostKey(e.gatewayKey), Timeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer gw.Close()

	viaDirect := func(size int64) error {
		code, err := direct.Pct(b.Context(), hostexec.PctRequest{VMID: gatewayVMID,
			Argv: []string{"/bin/sh", "-c", "cat >/dev/null"}, Stdin: io.LimitReader(zeros{}, size)})
		if err == nil && code != 0 {
			err = fmt.Errorf("exit status %d", code)
		}
		return err
	}
	viaGateway := func(size int64) error {
		s, err := gw.NewSession()
		if err != nil {
			return err
		}
		defer s.Close()
		s.Stdin = io.LimitReader(zeros{}, size)
		return s.Run(fmt.Sprintf("%d -- cat >/dev/null", gatewayVMID))
	}
	// Warm both paths up: the gateway's connection to the node, the
	// container's sandbox.
	for _, f := range []func(int64) error{viaDirect, viaGateway} {
		if err := f(1 << 20); err != nil {
			b.Fatal(err)
		}
	}

	// cost is what one path took: wall time and each process's CPU.
	type cost struct{ wall, client, node, gateway time.Duration }
	measure := func(into *cost, f func(int64) error) {
		start, client, node, gateway := time.Now(), selfCPU(b), procCPU(sim), procCPU(corral)
		if err := f(gatewayStreamSize); err != nil {
			b.Fatal(err)
		}
		into.wall += time.Since(start)
		into.client += selfCPU(b) - client
		into.node += procCPU(sim) - node
		into.gateway += procCPU(corral) - gateway
	}
	var d, g cost
	for b.Loop() {
		for range gatewayRounds {
			measure(&d, viaDirect)
			measure(&g, viaGateway)
		}
	}
	mib := float64(gatewayStreamSize>>20) * gatewayRounds * float64(b.N)
	gib := mib / 1024
	perGiB := func(t time.Duration) float64 { return t.Seconds() / gib }
	directHop := perGiB(d.client + d.node)
	fmt.Printf("  direct   %7.1f MiB/s   CPU-s/GiB: client %.2f, node %.2f (the hop: %.2f)\n",
		mib/d.wall.Seconds(), perGiB(d.client), perGiB(d.node), directHop)
	fmt.Printf("  gateway  %7.1f MiB/s   CPU-s/GiB: client %.2f, node %.2f, gateway process %.2f\n",
		mib/g.wall.Seconds(), perGiB(g.client), perGiB(g.node), perGiB(g.gateway))
	fmt.Printf("  ratio (gateway rate / direct rate) %.2f (target >= 0.8); gateway CPU / direct hop CPU %.2f (goal <= 1.2)\n",
		d.wall.Seconds()/g.wall.Seconds(), perGiB(g.gateway)/directHop)
	b.ReportMetric(mib/d.wall.Seconds(), "direct-MiB/s")
	b.ReportMetric(mib/g.wall.Seconds(), "gateway-MiB/s")
	b.ReportMetric(d.wall.Seconds()/g.wall.Seconds(), "ratio")
	b.ReportMetric(directHop, "direct-hop-cpu-s/GiB")
	b.ReportMetric(perGiB(g.gateway), "gateway-cpu-s/GiB")
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
