package gateway

import (
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"corral/exec"

	"golang.org/x/crypto/ssh"
)

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// BenchmarkGatewayThroughput streams the same bytes into `cat >/dev/null`
// in CT 105 directly (one SSH hop) and through the gateway (two hops), and
// reports both rates and their ratio (target >= 0.8), and the CPU time
// per GiB of each. Client, gateway and node share this process, so the
// gateway path's CPU holds two hops; gateway-added-cpu-ratio is what the
// gateway adds over a direct hop, per direct hop (goal <= 1.2).
// BenchmarkLoadGatewayPinned (make load) measures corral serve's gateway
// in a process of its own, on a CPU of its own.
func BenchmarkGatewayThroughput(b *testing.B) {
	const size = 32 << 20
	env := startGateway(b, nil)
	host, err := exec.Dial(b.Context(), target(b, env.sim.Node("pve1")))
	if err != nil {
		b.Fatal(err)
	}
	defer host.Close()
	c := env.mustDial(b, "alice")

	var direct, gateway, directCPU, gatewayCPU time.Duration
	for b.Loop() {
		start, cpuStart := time.Now(), cpuTime(b)
		code, err := host.Pct(b.Context(), exec.PctRequest{VMID: 105, Argv: []string{"/bin/sh", "-c", "cat >/dev/null"},
			Stdin: io.LimitReader(zeros{}, size)})
		if err != nil || code != 0 {
			b.Fatalf("direct: %d %v", code, err)
		}
		direct += time.Since(start)
		directCPU += cpuTime(b) - cpuStart

		start, cpuStart = time.Now(), cpuTime(b)
		s, err := c.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		s.Stdin = io.LimitReader(zeros{}, size)
		if err := s.Run("105 -- cat >/dev/null"); err != nil {
			b.Fatalf("gateway: %v", err)
		}
		gateway += time.Since(start)
		gatewayCPU += cpuTime(b) - cpuStart
	}
	mb := float64(size) / (1 << 20) * float64(b.N)
	b.ReportMetric(mb/direct.Seconds(), "direct-MiB/s")
	b.ReportMetric(mb/gateway.Seconds(), "gateway-MiB/s")
	b.ReportMetric(direct.Seconds()/gateway.Seconds(), "ratio")
	gib := mb / 1024
	b.ReportMetric(directCPU.Seconds()/gib, "direct-cpu-s/GiB")
	b.ReportMetric(gatewayCPU.Seconds()/gib, "gateway-cpu-s/GiB")
	b.ReportMetric((gatewayCPU-directCPU).Seconds()/directCPU.Seconds(), "gateway-added-cpu-ratio")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGatewayRoundTrip echoes one byte through `cat` in CT 105,
// directly and through the gateway, and reports the latency the gateway
// adds (target under 1 ms).
func BenchmarkGatewayRoundTrip(b *testing.B) {
	env := startGateway(b, nil)
	host, err := exec.Dial(b.Context(), target(b, env.sim.Node("pve1")))
	if err != nil {
		b.Fatal(err)
	}
	defer host.Close()
	c := env.mustDial(b, "alice")

	// Direct: pct exec cat over one hop.
	dIn, dInW := io.Pipe()
	dOutR, dOut := io.Pipe()
	go host.Pct(b.Context(), exec.PctRequest{VMID: 105, Argv: []string{"cat"}, Stdin: dIn, Stdout: dOut})
	defer dInW.Close()

	s, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	gIn, _ := s.StdinPipe()
	gOut, _ := s.StdoutPipe()
	if err := s.Start("105 -- cat"); err != nil {
		b.Fatal(err)
	}
	defer gIn.Close()

	echo := func(w io.Writer, r io.Reader) {
		var buf [1]byte
		if _, err := w.Write([]byte{'x'}); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			b.Fatal(err)
		}
	}
	echo(dInW, dOutR) // warm up both paths
	echo(gIn, gOut)
	var direct, gateway time.Duration
	for b.Loop() {
		start := time.Now()
		echo(dInW, dOutR)
		direct += time.Since(start)
		start = time.Now()
		echo(gIn, gOut)
		gateway += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(direct.Microseconds())/n, "direct-µs")
	b.ReportMetric(float64(gateway.Microseconds())/n, "gateway-µs")
	b.ReportMetric(float64((gateway-direct).Microseconds())/n, "added-µs")
}

// BenchmarkGatewayIdleSessions holds 100 idle proxied sessions open and
// reports the heap and stacks they take in this process (target under
// 60 MB in total). The simulator and the clients live in the same process,
// so the figure is an upper bound for the gateway alone.
func BenchmarkGatewayIdleSessions(b *testing.B) {
	const sessions = 100
	env := startGateway(b, func(c *Config, _ *Deps) { c.MaxSessionsPerUser = sessions })
	for b.Loop() {
		before := memInUse()
		var clients []*ssh.Client
		for i := 0; i < sessions; i++ {
			c := env.mustDial(b, "alice")
			s, err := c.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			in, _ := s.StdinPipe()
			out, _ := s.StdoutPipe()
			if err := s.Start("105 -- sh -c 'echo up; cat'"); err != nil {
				b.Fatal(err)
			}
			readUntil(b, out, "up")
			_ = in
			clients = append(clients, c)
		}
		b.ReportMetric(float64(memInUse()-before)/(1<<20), "MiB/100-sessions")
		for _, c := range clients {
			c.Close()
		}
	}
}

func memInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
