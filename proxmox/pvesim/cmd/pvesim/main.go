// Command pvesim runs the demo's simulated Proxmox estate in a process of
// its own. It is a test aid, not part of Corral: the load run (make load)
// starts it next to a real `corral serve`, so Corral's memory and CPU are
// measured apart from the simulator's (see package simproc).
//
// It prints one JSON line describing every node (where its API and SSH
// answer, the certificate fingerprint and host key a client must pin, the
// root login) and then serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"corral/proxmox/pvesim"
	"corral/proxmox/pvesim/simproc"
)

func main() {
	dir := flag.String("dir", "", "directory for container data (default: a temporary directory removed on exit)")
	task := flag.Duration("task-duration", 0, "roughly how long a Proxmox task runs (0: the simulator's default)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir, *task); err != nil {
		fmt.Fprintln(os.Stderr, "pvesim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, task time.Duration) error {
	opts := pvesim.DemoOptions()
	opts.Dir, opts.TaskDuration = dir, task
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sim, err := pvesim.New(opts)
	if err != nil {
		return err
	}
	defer sim.Close()
	if err := json.NewEncoder(os.Stdout).Encode(simproc.Describe(sim)); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
