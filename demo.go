package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"golang.org/x/crypto/ssh"

	"corral/exec/nodeprobe"
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

	// The simulated estate lives in the data directory, so a demo started
	// again on it comes back whole: same nodes, certificates and (when
	// free) ports, and the containers created last time.
	opts := pvesim.DemoOptions()
	opts.Dir, opts.Persist = filepath.Join(cfg.DataDir, "pvesim"), true
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return err
	}
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
	if err := seedDemoNodes(ctx, db, u.ID, sim); err != nil {
		return "", err
	}
	return password, forgetVanished(ctx, db, u.ID, sim)
}

// seedDemoNodes registers every simulated node for the demo account, or
// brings its record up to date: a restarted simulator may have had to take
// other ports, or (its saved estate lost) have new certificates, which are
// the demo's own to trust. A record is the simulator node's by the node
// name Proxmox reports, so one the user renamed is updated, not doubled;
// a second record of the same node is removed when nothing lives on it.
func seedDemoNodes(ctx context.Context, db *store.DB, userID string, sim *pvesim.Sim) error {
	existing, err := db.Nodes(ctx, userID)
	if err != nil {
		return err
	}
	for _, name := range sim.Nodes() {
		sn := sim.Node(name)
		var recs []store.Node
		for _, r := range existing {
			// A simulator that lost its saved estate listens on other
			// loopback addresses: a loopback record is still its node.
			simHost := r.Host == sn.Host() || isLoopback(r.Host)
			if simHost && (r.PVENodeName == name || r.PVENodeName == "" && r.Name == name) {
				recs = append(recs, r)
			}
		}
		fresh, err := demoNode(ctx, sn, userID)
		if err != nil {
			return fmt.Errorf("register simulated node %s: %w", name, err)
		}
		if len(recs) == 0 {
			if _, err := db.CreateNode(ctx, fresh); err != nil {
				return err
			}
			continue
		}
		// Keep the record named like the node, else the oldest.
		if i := slices.IndexFunc(recs, func(r store.Node) bool { return r.Name == name }); i > 0 {
			recs[0], recs[i] = recs[i], recs[0]
		}
		update := func(old store.Node) error {
			if sameEndpoint(old, fresh) {
				return nil
			}
			fresh.ID, fresh.Name = old.ID, old.Name
			_, err := db.UpdateNode(ctx, userID, fresh)
			return err
		}
		if err := update(recs[0]); err != nil {
			return fmt.Errorf("update simulated node %s: %w", name, err)
		}
		for _, dup := range recs[1:] {
			err := db.DeleteNode(ctx, userID, dup.ID)
			if errors.Is(err, store.ErrNodeInUse) {
				err = update(dup) // containers live on it: keep it working
			}
			if err != nil {
				return fmt.Errorf("duplicate of simulated node %s: %w", name, err)
			}
		}
	}
	return nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameEndpoint reports whether a stored node already points at what the
// probe of the simulated node found.
func sameEndpoint(old, fresh store.Node) bool {
	return old.Host == fresh.Host && old.Port == fresh.Port && old.SSHPort == fresh.SSHPort &&
		old.TLSFingerprint == fresh.TLSFingerprint && old.SSHHostKey == fresh.SSHHostKey &&
		old.ClusterKey == fresh.ClusterKey && old.PVENodeName == fresh.PVENodeName
}

// forgetVanished removes the demo account's records of containers the
// simulator does not have (its saved estate was lost, or predates saving):
// a container Corral made that is gone is gone, and its job says so.
// Containers still being created are left to the job runner's recovery.
func forgetVanished(ctx context.Context, db *store.DB, userID string, sim *pvesim.Sim) error {
	nodes, err := db.Nodes(ctx, userID)
	if err != nil {
		return err
	}
	pveName := map[string]string{}
	for _, n := range nodes {
		pveName[n.ID] = n.PVENodeName
	}
	cts, err := db.Containers(ctx, userID)
	if err != nil {
		return err
	}
	for _, ct := range cts {
		sn := sim.Node(pveName[ct.NodeID])
		if sn == nil || ct.Lifecycle == store.LifecycleCreating {
			continue
		}
		if _, ok := sn.GuestStatus(ct.VMID); ok {
			continue
		}
		if err := db.DeleteContainer(ctx, userID, ct.ID); err != nil {
			return err
		}
	}
	return nil
}

// demoNode registers a simulated node as the add-node page would, with the
// simulator's own certificate and host key as the ones to confirm.
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
	return pinKnownNode(ctx, rec, n.Fingerprint(), n.SSHHostKey())
}

// pinKnownNode goes through the same two phases as the add-node page: the
// keys are fetched without credentials and "confirmed" against the ones
// the caller knows the node has, and only then do the authenticated checks
// run over exactly those pins.
func pinKnownNode(ctx context.Context, rec store.Node, fingerprint string, hostKey ssh.PublicKey) (store.Node, error) {
	prober := nodeprobe.New(slog.New(slog.DiscardHandler))
	scan, err := prober.Scan(ctx, rec)
	if err != nil {
		return rec, err
	}
	if scan.TLS.Fingerprint != fingerprint {
		return rec, fmt.Errorf("node %s presented certificate %s, not the known %s", rec.Name, scan.TLS.Fingerprint, fingerprint)
	}
	if want := ssh.FingerprintSHA256(hostKey); scan.SSH.Fingerprint != want {
		return rec, fmt.Errorf("node %s presented host key %s, not the known %s", rec.Name, scan.SSH.Fingerprint, want)
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
