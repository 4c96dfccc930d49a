package pvesim

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
)

// With Options.Persist the estate outlives the process, like a real one
// does a reboot: what a client pins (certificates, host keys), where it
// connects (ports, reused when still free) and what it created (guests,
// downloaded templates) are written to stateFile in Dir after every change
// and on Close, and New reads them back. Guest files already live in Dir.
// Tasks are not kept: a restart ends them, as a reboot would.

const stateFile = "pvesim-state.json"

// stateVersion changes when a saved state can no longer be read.
const stateVersion = 1

type savedState struct {
	Version int            `json:"version"`
	Estates []savedEstate  `json:"estates"`
	Nodes   []savedNode    `json:"nodes"`
	Guests  []savedGuest   `json:"guests"`
	Volumes []savedVolumes `json:"volumes,omitempty"`
}

type savedEstate struct {
	Name   string `json:"name"`
	CACert []byte `json:"ca_cert"`
	CAKey  []byte `json:"ca_key"`
	Subnet string `json:"subnet,omitempty"` // "127.A.B." of the member addresses
}

type savedNode struct {
	Name    string   `json:"name"`
	APIPort int      `json:"api_port"`
	SSHPort int      `json:"ssh_port"`
	Cert    [][]byte `json:"cert"` // leaf, then the CA
	CertKey []byte   `json:"cert_key"`
	HostKey []byte   `json:"host_key"` // ed25519 private key
	Estate  string   `json:"estate"`
	IP      string   `json:"ip,omitempty"` // the loopback address it listens on
}

type savedVolumes struct {
	Node    string        `json:"node"`
	Storage string        `json:"storage"`
	Volumes []savedVolume `json:"volumes"`
}

type savedVolume struct {
	Volid   string `json:"volid"`
	Content string `json:"content"`
	Format  string `json:"format"`
	Size    int64  `json:"size"`
	Ctime   int64  `json:"ctime"`
}

// savedGuest is a guest as its configuration file holds it: the main
// section, the pending changes and the snapshot sections.
type savedGuest struct {
	VMID          int               `json:"vmid"`
	Type          GuestType         `json:"type"`
	Node          string            `json:"node"`
	Running       bool              `json:"running,omitempty"`
	Created       time.Time         `json:"created"`
	Conf          map[string]string `json:"conf"`
	Pending       map[string]string `json:"pending,omitempty"`
	PendingDelete []string          `json:"pending_delete,omitempty"`
	Snapshots     map[string]ctConf `json:"snapshots,omitempty"`
}

// Restored reports whether New read the estate back from Options.Dir
// (Options.Persist) instead of starting a fresh one.
func (s *Sim) Restored() bool { return s.restored != nil }

// loadState reads the saved state, if Persist is on and there is one.
func (s *Sim) loadState() error {
	if !s.opts.Persist {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(s.dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pvesim: read saved state: %w", err)
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("pvesim: saved state %s: %w", filepath.Join(s.dir, stateFile), err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("pvesim: saved state %s has version %d, this simulator reads %d", filepath.Join(s.dir, stateFile), st.Version, stateVersion)
	}
	s.restored = &st
	return nil
}

// savedCA is the saved CA of estate name, or nil.
func (s *Sim) savedCA(name string) (*certAuthority, error) {
	if s.restored == nil {
		return nil, nil
	}
	for _, e := range s.restored.Estates {
		if e.Name != name {
			continue
		}
		cert, err := x509.ParseCertificate(e.CACert)
		if err != nil {
			return nil, fmt.Errorf("pvesim: saved CA of %s: %w", name, err)
		}
		key, err := x509.ParseECPrivateKey(e.CAKey)
		if err != nil {
			return nil, fmt.Errorf("pvesim: saved CA key of %s: %w", name, err)
		}
		return &certAuthority{cert: cert, key: key}, nil
	}
	return nil, nil
}

// savedNode is the saved node name, or nil.
func (s *Sim) savedNode(name string) *savedNode {
	if s.restored == nil {
		return nil
	}
	for i := range s.restored.Nodes {
		if s.restored.Nodes[i].Name == name {
			return &s.restored.Nodes[i]
		}
	}
	return nil
}

// identity is the node's saved certificate and host key.
func (sn *savedNode) identity() (*tls.Certificate, ed25519.PrivateKey, error) {
	key, err := x509.ParseECPrivateKey(sn.CertKey)
	if err != nil || len(sn.Cert) == 0 {
		return nil, nil, fmt.Errorf("pvesim: saved certificate of %s: %v", sn.Name, err)
	}
	leaf, err := x509.ParseCertificate(sn.Cert[0])
	if err != nil {
		return nil, nil, fmt.Errorf("pvesim: saved certificate of %s: %w", sn.Name, err)
	}
	if len(sn.HostKey) != ed25519.PrivateKeySize {
		return nil, nil, fmt.Errorf("pvesim: saved host key of %s is not an ed25519 key", sn.Name)
	}
	return &tls.Certificate{Certificate: sn.Cert, PrivateKey: key, Leaf: leaf}, ed25519.PrivateKey(sn.HostKey), nil
}

// restoreGuests puts the saved guests back, running ones running. It
// reports false when there was no saved state.
func (s *Sim) restoreGuests() (bool, error) {
	if s.restored == nil {
		return false, nil
	}
	for _, sv := range s.restored.Volumes {
		n := s.nodes[sv.Node]
		if n == nil {
			continue
		}
		if st := n.storage(sv.Storage); st != nil {
			st.volumes = nil
			for _, v := range sv.Volumes {
				st.addVolume(volume{volid: v.Volid, content: v.Content, format: v.Format, size: v.Size, ctime: v.Ctime})
			}
		}
	}
	for _, sg := range s.restored.Guests {
		n := s.nodes[sg.Node]
		if n == nil {
			continue
		}
		g := newGuest(sg.VMID, sg.Type, sg.Node, ctConf(sg.Conf).clone())
		g.statsSeen, g.created = true, sg.Created
		g.pending, g.pendingDelete = ctConf(sg.Pending).clone(), slices.Clone(sg.PendingDelete)
		for name, c := range sg.Snapshots {
			g.snapshots[name] = c.clone()
		}
		if g.conf == nil {
			g.conf = ctConf{}
		}
		if g.typ == LXC {
			// The guest's files stay where they were; no fresh directory.
			g.dir = filepath.Join(s.dir, "nodes", n.name, "lxc", strconv.Itoa(g.vmid))
			if err := os.MkdirAll(g.dir, 0o755); err != nil {
				return true, fmt.Errorf("pvesim: guest dir: %w", err)
			}
		}
		n.estate.mu.Lock()
		if _, taken := n.estate.guests[g.vmid]; !taken {
			if sg.Running {
				s.setRunning(g, true)
			}
			n.estate.guests[g.vmid] = g
		}
		n.estate.mu.Unlock()
	}
	return true, nil
}

// changed saves the estate when Persist is on. Callers hold no estate lock.
// A failed save is logged: the estate goes on in memory.
func (s *Sim) changed() {
	if !s.opts.Persist || !s.built {
		return
	}
	if err := s.save(); err != nil {
		s.log.Warn("estate not saved", "err", err)
	}
}

// save writes the estate to stateFile atomically (a temporary file, then a
// rename), one save at a time.
func (s *Sim) save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	st := savedState{Version: stateVersion}
	for _, e := range s.estates {
		key, err := x509.MarshalECPrivateKey(e.ca.key)
		if err != nil {
			return err
		}
		st.Estates = append(st.Estates, savedEstate{Name: e.name, CACert: e.ca.cert.Raw, CAKey: key, Subnet: e.subnet})
		e.mu.Lock()
		for _, n := range e.members() {
			sn, err := n.saved()
			if err != nil {
				e.mu.Unlock()
				return err
			}
			st.Nodes = append(st.Nodes, sn)
			for _, sto := range n.storages {
				sv := savedVolumes{Node: n.name, Storage: sto.id}
				for _, v := range sto.volumes {
					sv.Volumes = append(sv.Volumes, savedVolume{Volid: v.volid, Content: v.content, Format: v.format, Size: v.size, Ctime: v.ctime})
				}
				st.Volumes = append(st.Volumes, sv)
			}
		}
		for _, g := range e.sortedGuests() {
			if g.lock() == "create" {
				continue // its create task did not finish
			}
			sg := savedGuest{
				VMID: g.vmid, Type: g.typ, Node: g.node, Running: g.status == "running", Created: g.created,
				Conf: g.conf.clone(), Pending: g.pending.clone(), PendingDelete: slices.Clone(g.pendingDelete),
				Snapshots: map[string]ctConf{},
			}
			for name, c := range g.snapshots {
				sg.Snapshots[name] = c.clone()
			}
			st.Guests = append(st.Guests, sg)
		}
		e.mu.Unlock()
	}
	slices.SortFunc(st.Guests, func(a, b savedGuest) int { return a.VMID - b.VMID })
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, stateFile+".*")
	if err != nil {
		return fmt.Errorf("pvesim: save state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("pvesim: save state: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("pvesim: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pvesim: save state: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(s.dir, stateFile))
}

// saved is what a restart needs of node n.
func (n *Node) saved() (savedNode, error) {
	cert := n.cert.Load()
	key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return savedNode{}, fmt.Errorf("pvesim: node %s: certificate key is %T", n.name, cert.PrivateKey)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return savedNode{}, err
	}
	return savedNode{
		Name: n.name, Estate: n.estate.name, IP: n.ip, APIPort: n.Port(), SSHPort: portOf(n.SSHAddr()),
		Cert: cert.Certificate, CertKey: der, HostKey: *n.hostPriv.Load(),
	}, nil
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return port
}

// hostSigner makes the SSH signer of an ed25519 host key.
func hostSigner(priv ed25519.PrivateKey) (ssh.Signer, error) {
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("pvesim: host key: %w", err)
	}
	return signer, nil
}

// listenFirst listens on host:port, or on a free port of host when port is
// 0 or taken by someone else.
func listenFirst(host string, port int) (net.Listener, error) {
	if port > 0 {
		if ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port))); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", net.JoinHostPort(host, "0"))
}
