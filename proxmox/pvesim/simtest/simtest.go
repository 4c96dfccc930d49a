// Package simtest is what Corral's tests share: a simulated Proxmox estate
// started for one test (Start, Demo), a bare SSH host playing a Proxmox node
// for what the simulator cannot show (FakeHost), a clock the test moves by
// hand (Clock) and a buffer that goroutines write while the test reads it
// and waits on it (Buffer). Everything it starts stops with the test.
package simtest

import (
	"testing"

	"corral/proxmox/pvesim"
)

// Demo starts the demo estate (cluster "homelab" with pve1..pve3 and the
// standalone "pve-solo") with instant tasks, after tweak changed its
// options.
func Demo(t testing.TB, tweak ...func(*pvesim.Options)) *pvesim.Sim {
	t.Helper()
	opts := pvesim.DemoOptions()
	opts.TaskDuration = -1
	for _, f := range tweak {
		f(&opts)
	}
	return Start(t, opts)
}

// Start starts a simulator with opts, in a directory of the test's own
// unless opts.Dir names one, and closes it when the test ends.
func Start(t testing.TB, opts pvesim.Options) *pvesim.Sim {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	sim, err := pvesim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}
