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

// TwoHosts starts two standalone nodes with instant tasks, the estate of
// the SSH tests: pve1 holds alice's 105 (web, running) and 106 (db,
// stopped) and bob's 205; pve2 holds alice's 107 (far, running).
func TwoHosts(t testing.TB) *pvesim.Sim {
	t.Helper()
	return Start(t, pvesim.Options{
		Standalone: []string{"pve1", "pve2"},
		Guests: []pvesim.GuestSpec{
			{Node: "pve1", VMID: 105, Name: "web", Running: true},
			{Node: "pve1", VMID: 106, Name: "db"},
			{Node: "pve1", VMID: 205, Name: "secret", Running: true},
			{Node: "pve2", VMID: 107, Name: "far", Running: true},
		},
		TaskDuration: -1,
	})
}
