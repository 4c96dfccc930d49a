package pvesim

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
)

// Every node listens on a loopback address of its own, and the members of
// a cluster share one API port and one SSH port, as real members share
// 8006 and 22 on their own addresses. /cluster/status reports these
// addresses, so a client that reads the members of a cluster can reach
// each one at the reported address and the port it already used, without
// ever leaving loopback.
//
// Each estate gets a random /24 in 127.0.0.0/8 (127.A.B.0, A ≥ 16), so two
// simulators running at once (tests in parallel) report different member
// addresses, as two unrelated home labs would; node N is .10+N. Where the
// system cannot bind 127.0.0.0/8 beyond 127.0.0.1 (macOS without aliases),
// every node listens on 127.0.0.1 with ports of its own and reports it.

var loopbackAliases = sync.OnceValue(func() bool {
	ln, err := net.Listen("tcp", "127.77.77.77:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
})

// subnets are the estate subnets handed out in this process: estates of
// simulators running side by side never share one, so same-named
// clusters in two simulators have different member addresses.
var subnets = struct {
	sync.Mutex
	used map[string]bool
}{used: map[string]bool{}}

// estateSubnet is the "127.A.B." prefix of a new estate's member
// addresses ("" when only 127.0.0.1 is available), or the saved one.
func (s *Sim) estateSubnet(name string) string {
	subnets.Lock()
	defer subnets.Unlock()
	if !loopbackAliases() {
		return ""
	}
	if sub := s.opts.Subnets[name]; sub != "" {
		subnets.used[sub] = true
		return sub
	}
	if s.restored != nil {
		for _, e := range s.restored.Estates {
			if e.Name == name {
				// An estate saved before member addresses existed keeps
				// 127.0.0.1, so what its clients stored still matches.
				if e.Subnet != "" {
					subnets.used[e.Subnet] = true
				}
				return e.Subnet
			}
		}
	}
	for {
		sub := fmt.Sprintf("127.%d.%d.", 16+rand.IntN(239), rand.IntN(256))
		if !subnets.used[sub] || len(subnets.used) >= 239*256 {
			subnets.used[sub] = true
			return sub
		}
	}
}

// memberIP is the address node nodeid of e listens on and reports: the
// saved one when restored, else .10+nodeid in the estate's subnet.
func (s *Sim) memberIP(e *estate, name string, nodeid int) string {
	if e.subnet == "" {
		return "127.0.0.1"
	}
	if sn := s.savedNode(name); sn != nil && strings.HasPrefix(sn.IP, e.subnet) {
		return sn.IP
	}
	return e.subnet + strconv.Itoa(10+nodeid)
}

// sharedPorts are the API and SSH ports the estate's members listen on
// (0 before its first member listens, and always with 127.0.0.1 only).
func (e *estate) sharedPorts() (api, ssh int) {
	return e.apiPort, e.sshPort
}

// noteSharedPorts takes the ports of the estate's first member as the
// ports every later member listens on.
func (e *estate) noteSharedPorts(n *Node) {
	if e.subnet == "" || e.apiPort != 0 {
		return
	}
	e.apiPort, e.sshPort = n.Port(), portOf(n.SSHAddr())
}
