package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/crypto/ssh"

	"corral/handlers"
	"corral/proxmox/pvesim"
	"corral/store"
)

const demoUser = "demo"

// demo starts a simulated Proxmox estate on loopback and Corral next to it,
// with a demo account whose nodes are already added and pinned, so a
// newcomer sees a working product in one command. It listens on loopback
// only, because the demo password is printed on the terminal.
func demo(ctx context.Context, in invocation) error {
	cfg, stdout := in.cfg, in.stdout
	if cfg.from["data"] == fromDefault {
		// The default names a pattern: a fresh temporary directory.
		dir, err := os.MkdirTemp(filepath.Split(cfg.DataDir))
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}

	opts := pvesim.DemoOptions()
	simDir, err := os.MkdirTemp("", "corral-pvesim-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(simDir)
	opts.Dir = simDir
	sim, err := pvesim.New(opts)
	if err != nil {
		return fmt.Errorf("start the Proxmox simulator: %w", err)
	}
	defer sim.Close()

	password, err := seedDemo(ctx, cfg, sim)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, in.stderr, func(l listening) {
		sshPort := ""
		if _, p, err := net.SplitHostPort(l.SSH); err == nil {
			sshPort = p
		}
		fmt.Fprintf(stdout, `
Corral demo is running against a simulated Proxmox estate:
  cluster "homelab" (pve1, pve2, pve3) and the standalone node "pve-solo".

  Open      http://%s
  Sign in   %s / %s
  SSH       ssh -p %s %s@127.0.0.1      (same password)
  Data      %s (removed on exit unless you chose it)

Press Ctrl-C to stop.
`, l.HTTP, demoUser, password, sshPort, demoUser, cfg.DataDir)
	})
}

// seedDemo creates (or resets) the demo account and registers every
// simulated node for it, pinned exactly as the add-node flow would.
func seedDemo(ctx context.Context, cfg Config, sim *pvesim.Sim) (string, error) {
	db, err := openStore(cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return "", err
	}
	defer db.Close()
	password := randomPassword()
	u, err := db.UserByName(ctx, demoUser)
	switch {
	case err == nil:
		if err := db.SetPassword(ctx, u.ID, password); err != nil {
			return "", err
		}
	default:
		if u, err = db.CreateUser(ctx, demoUser, password); err != nil {
			return "", err
		}
	}
	existing, err := db.Nodes(ctx, u.ID)
	if err != nil {
		return "", err
	}
	have := map[string]bool{}
	for _, n := range existing {
		have[n.Name] = true
	}
	for _, name := range sim.Nodes() {
		if have[name] {
			continue
		}
		rec, err := demoNode(ctx, sim.Node(name), u.ID)
		if err != nil {
			return "", fmt.Errorf("register simulated node %s: %w", name, err)
		}
		if _, err := db.CreateNode(ctx, rec); err != nil {
			return "", err
		}
	}
	return password, nil
}

// demoNode registers a simulated node through the same two phases as the
// add-node page: the keys are fetched without credentials and "confirmed"
// against the simulator's own, and only then do the authenticated checks
// run over exactly those pins.
func demoNode(ctx context.Context, n *pvesim.Node, userID string) (store.Node, error) {
	_, portStr, err := net.SplitHostPort(n.SSHAddr())
	if err != nil {
		return store.Node{}, err
	}
	sshPort, _ := strconv.Atoi(portStr)
	rec := store.Node{
		UserID: userID, Name: n.Name(), Host: n.Host(), Port: n.Port(),
		TokenID: pvesim.DemoTokenID, TokenSecret: pvesim.DemoTokenSecret,
		SSHUser: n.SSHUser(), SSHPort: sshPort, SSHPassword: n.SSHPassword(),
	}
	prober := handlers.NewNodeProber(slog.New(slog.DiscardHandler))
	scan, err := prober.Scan(ctx, rec)
	if err != nil {
		return rec, err
	}
	if scan.TLS.Fingerprint != n.Fingerprint() {
		return rec, fmt.Errorf("node %s presented certificate %s, not the simulator's %s", n.Name(), scan.TLS.Fingerprint, n.Fingerprint())
	}
	if want := ssh.FingerprintSHA256(n.SSHHostKey()); scan.SSH.Fingerprint != want {
		return rec, fmt.Errorf("node %s presented host key %s, not the simulator's %s", n.Name(), scan.SSH.Fingerprint, want)
	}
	scan.Pin(&rec)
	probe, err := prober.Probe(ctx, rec)
	if err != nil {
		return rec, err
	}
	probe.Apply(&rec)
	return rec, nil
}

func randomPassword() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
