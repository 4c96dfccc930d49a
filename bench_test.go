package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFootprint measures what matters on a Raspberry Pi: the stripped
// binary's size per architecture, the time from process start to the first
// 200 from /healthz, and resident memory after start and after idling.
// Targets: binary ≤ 25 MB, idle RSS ≤ 25 MB, start ≤ 200 ms. Run with make bench.
func BenchmarkFootprint(b *testing.B) {
	dir := b.TempDir()
	var amd64 string
	for _, arch := range []string{"amd64", "arm64", "arm"} {
		out := filepath.Join(dir, "corral-"+arch)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOARM=7")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", arch, err, msg)
		}
		fi, _ := os.Stat(out)
		b.ReportMetric(float64(fi.Size())/1e6, "MB-"+arch)
		fmt.Printf("binary linux/%s: %.1f MB\n", arch, float64(fi.Size())/1e6)
		if arch == "amd64" {
			amd64 = out
		}
	}
	var startSum time.Duration
	var rssStart, rssIdle int
	for i := 0; i < b.N; i++ {
		d, r1, r2 := startOnce(b, amd64)
		startSum += d
		rssStart, rssIdle = r1, r2
	}
	avg := startSum / time.Duration(b.N)
	b.ReportMetric(float64(avg.Microseconds())/1000, "ms-to-healthz")
	b.ReportMetric(float64(rssStart)/1024, "MB-rss-start")
	b.ReportMetric(float64(rssIdle)/1024, "MB-rss-idle")
	fmt.Printf("start to first /healthz 200: %v; RSS after start %.1f MB, after 3 s idle %.1f MB\n",
		avg, float64(rssStart)/1024, float64(rssIdle)/1024)
}

func startOnce(b *testing.B, bin string) (time.Duration, int, int) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--ssh-addr", "127.0.0.1:0", "--data", b.TempDir())
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	var took time.Duration
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				took = time.Since(t0)
				break
			}
		}
		if time.Since(t0) > 20*time.Second {
			b.Fatal("corral did not answer /healthz within 20 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	start := rssKB(cmd.Process.Pid)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	<-ctx.Done()
	cancel()
	return took, start, rssKB(cmd.Process.Pid)
}

func rssKB(pid int) int { return procStatusKB(pid, "VmRSS") }
