// Package simproc runs the simulated Proxmox estate in a process of its
// own (the pvesim command next to it), for load runs that measure Corral
// apart from its simulator. It is a test aid, not part of Corral.
package simproc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"

	"golang.org/x/crypto/ssh"

	"corral/proxmox/pvesim"
)

// Estate is what the pvesim command prints on its first line: every node of
// pvesim.DemoOptions, which all accept the API token pvesim.DemoTokenID /
// pvesim.DemoTokenSecret.
type Estate struct {
	Nodes []Node `json:"nodes"`
}

// Node is one simulated node as a client must reach and pin it.
type Node struct {
	Name        string `json:"name"`
	Host        string `json:"host"`
	Port        int    `json:"port"`
	SSHAddr     string `json:"ssh_addr"`
	SSHUser     string `json:"ssh_user"`
	SSHPassword string `json:"ssh_password"`
	Fingerprint string `json:"fingerprint"`       // the API certificate's, as PVE shows it
	SSHHostKey  string `json:"ssh_host_key"`      // authorized_keys format
	Cluster     string `json:"cluster,omitempty"` // "" for a standalone node
}

// Describe is the estate of a running simulator.
func Describe(sim *pvesim.Sim) Estate {
	var est Estate
	for _, name := range sim.Nodes() {
		n := sim.Node(name)
		est.Nodes = append(est.Nodes, Node{
			Name: name, Host: n.Host(), Port: n.Port(), SSHAddr: n.SSHAddr(),
			SSHUser: n.SSHUser(), SSHPassword: n.SSHPassword(), Fingerprint: n.Fingerprint(),
			SSHHostKey: string(ssh.MarshalAuthorizedKey(n.SSHHostKey())), Cluster: n.Cluster(),
		})
	}
	return est
}

// HostKey is the node's SSH host key, parsed.
func (n Node) HostKey() (ssh.PublicKey, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(n.SSHHostKey))
	return k, err
}

// Node finds a node by name.
func (e Estate) Node(name string) (Node, bool) {
	for _, n := range e.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// Process is a running pvesim command.
type Process struct {
	Cmd    *exec.Cmd
	Estate Estate
	stop   sync.Once
}

// Start runs cmd (the pvesim binary with its flags; Stdout must be unset)
// and reads the estate it prints. start starts cmd, so a caller can start
// it its own way (on a chosen CPU); nil means cmd.Start.
func Start(cmd *exec.Cmd, start func(*exec.Cmd) error) (*Process, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(cmd); err != nil {
		return nil, err
	}
	p := &Process{Cmd: cmd}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &p.Estate)
	}
	if err == nil && len(p.Estate.Nodes) == 0 {
		err = errors.New("no nodes")
	}
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("pvesim did not describe its estate: %w", err)
	}
	go io.Copy(io.Discard, out) //nolint:errcheck // keep the pipe drained
	return p, nil
}

// Stop ends the simulator and waits for it; later calls do nothing.
func (p *Process) Stop() {
	p.stop.Do(func() {
		_ = p.Cmd.Process.Signal(os.Interrupt)
		_ = p.Cmd.Wait()
	})
}
