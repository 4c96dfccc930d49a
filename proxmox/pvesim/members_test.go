package pvesim

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// threeNodeOptions is cluster "homelab" of pve1..pve3 with guests on every
// member, plus standalone "solo".
func threeNodeOptions(dir string, persist bool) Options {
	return Options{
		Clusters:     []ClusterSpec{{Name: "homelab", Nodes: []string{"pve1", "pve2", "pve3"}}},
		Standalone:   []string{"solo"},
		Seed:         3,
		TaskDuration: 10 * time.Millisecond,
		Tokens:       []TokenSpec{adminToken, corralTok},
		Guests: []GuestSpec{
			{Node: "pve1", VMID: 100, Name: "pihole", Running: true, Tags: "dns"},
			{Node: "pve2", VMID: 101, Name: "mqtt", Running: true},
			{Node: "pve2", VMID: 200, Type: QEMU, Name: "haos", Running: true},
			{Node: "pve3", VMID: 102, Name: "jellyfin", Tags: "media"},
			{Node: "solo", VMID: 100, Name: "backup", Running: true},
		},
		Dir: dir, Persist: persist,
	}
}

func threeNodeSim(t *testing.T) *Sim {
	t.Helper()
	s, err := New(threeNodeOptions(t.TempDir(), false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clusterStatus returns the cluster row and the node rows by name.
func clusterStatus(t *testing.T, n *Node) (map[string]any, map[string]map[string]any) {
	t.Helper()
	var cluster map[string]any
	nodes := map[string]map[string]any{}
	for _, row := range call(t, n, corralTok, http.MethodGet, "/cluster/status", nil).dataList(t) {
		m := row.(map[string]any)
		switch m["type"] {
		case "cluster":
			cluster = m
		case "node":
			nodes[m["name"].(string)] = m
		}
	}
	return cluster, nodes
}

// resources returns the guest rows of /cluster/resources by id.
func resources(t *testing.T, n *Node) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, row := range call(t, n, corralTok, http.MethodGet, "/cluster/resources", url.Values{"type": {"vm"}}).dataList(t) {
		m := row.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

func TestMembers_ClusterStatusAndQuorum(t *testing.T) {
	s := threeNodeSim(t)
	pve1 := s.Node("pve1")
	cluster, nodes := clusterStatus(t, s.Node("pve2"))
	if cluster["name"] != "homelab" || cluster["nodes"] != 3.0 || cluster["quorate"] != 1.0 || cluster["version"] != 5.0 {
		t.Fatalf("cluster row = %v", cluster)
	}
	for i, name := range []string{"pve1", "pve2", "pve3"} {
		m := nodes[name]
		want := map[string]any{"type": "node", "id": "node/" + name, "name": name, "nodeid": float64(i + 1),
			"ip": s.Node(name).Host(), "online": 1.0, "local": float64(b2i(name == "pve2")), "level": ""}
		if fmt.Sprint(m) != fmt.Sprint(want) {
			t.Fatalf("row %s = %v, want %v", name, m, want)
		}
	}

	// One of three down: still quorate (2 of 3 votes).
	if err := s.Node("pve3").SetDown(true); err != nil {
		t.Fatal(err)
	}
	cluster, nodes = clusterStatus(t, pve1)
	if cluster["quorate"] != 1.0 || nodes["pve3"]["online"] != 0.0 || nodes["pve3"]["ip"] != s.Node("pve3").Host() || nodes["pve1"]["local"] != 1.0 {
		t.Fatalf("one down: cluster %v, nodes %v", cluster, nodes)
	}
	// Two of three down: no majority, no quorum.
	if err := s.Node("pve2").SetDown(true); err != nil {
		t.Fatal(err)
	}
	if cluster, _ = clusterStatus(t, pve1); cluster["quorate"] != 0.0 || cluster["nodes"] != 3.0 {
		t.Fatalf("two down: cluster %v", cluster)
	}
	if err := s.Node("pve2").SetDown(false); err != nil {
		t.Fatal(err)
	}
	if cluster, _ = clusterStatus(t, pve1); cluster["quorate"] != 1.0 {
		t.Fatalf("back up: cluster %v", cluster)
	}
}

// TestMembers_GuestsOnEveryMember: every member lists every member's
// guests; a request for another member's guest is forwarded to it; with
// that member down the forward fails with 595 while the others still
// answer, showing its guests as PVE does once their figures are gone.
func TestMembers_GuestsOnEveryMember(t *testing.T) {
	s := threeNodeSim(t)
	want := []string{"lxc/100", "lxc/101", "lxc/102", "qemu/200"}
	for _, name := range []string{"pve1", "pve2", "pve3"} {
		rows := resources(t, s.Node(name))
		if got := slices.Sorted(maps.Keys(rows)); !slices.Equal(got, want) {
			t.Fatalf("%s lists %v, want %v", name, got, want)
		}
		if rows["lxc/101"]["node"] != "pve2" || rows["lxc/102"]["node"] != "pve3" || rows["lxc/101"]["status"] != "running" {
			t.Fatalf("%s: rows %v", name, rows)
		}
	}

	pve1, pve2 := s.Node("pve1"), s.Node("pve2")
	direct := call(t, pve2, corralTok, http.MethodGet, "/nodes/pve2/lxc/101/status/current", nil)
	via := call(t, pve1, corralTok, http.MethodGet, "/nodes/pve2/lxc/101/status/current", nil)
	wantStatus(t, via, 200, "")
	if via.dataMap(t)["name"] != "mqtt" || direct.dataMap(t)["vmid"] != via.dataMap(t)["vmid"] {
		t.Fatalf("forwarded answer %s, direct %s", via.raw, direct.raw)
	}

	if err := pve2.SetDown(true); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, call(t, pve1, corralTok, http.MethodGet, "/nodes/pve2/lxc/101/status/current", nil), 595, "Connection refused")
	for _, name := range []string{"pve1", "pve3"} {
		rows := resources(t, s.Node(name))
		if len(rows) != 4 {
			t.Fatalf("%s lists %d guests with pve2 down", name, len(rows))
		}
		for _, id := range []string{"lxc/101", "qemu/200"} {
			r := rows[id]
			if r["status"] != "unknown" || r["name"] != nil || r["maxmem"] != nil || r["node"] != "pve2" {
				t.Fatalf("%s: guest %s of the down member = %v", name, id, r)
			}
		}
		if r := rows["lxc/100"]; r["status"] != "running" || r["name"] != "pihole" || r["tags"] != "dns" {
			t.Fatalf("%s: guest of an online member = %v", name, r)
		}
		for _, row := range call(t, s.Node(name), corralTok, http.MethodGet, "/cluster/resources", url.Values{"type": {"node"}}).dataList(t) {
			m := row.(map[string]any)
			_, hasCPU := m["cpu"]
			if (m["node"] == "pve2") != (m["status"] == "offline") || (m["status"] == "offline" && hasCPU) {
				t.Fatalf("%s: node row %v", name, m)
			}
		}
	}
	if err := pve2.SetDown(false); err != nil {
		t.Fatal(err)
	}
	if r := resources(t, pve1)["lxc/101"]; r["status"] != "running" || r["name"] != "mqtt" {
		t.Fatalf("back up: %v", r)
	}
}

// TestMembers_AddClusterNode: a member joins the running cluster with its
// own certificate from the cluster CA and its own host key, both readable
// without credentials; every member sees it at once; it shares the
// cluster's guests, tokens and root's keys; a container created on it
// through another member appears everywhere.
func TestMembers_AddClusterNode(t *testing.T) {
	s := threeNodeSim(t)
	pve1 := s.Node("pve1")
	_, userKey, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(userKey)
	if err != nil {
		t.Fatal(err)
	}
	s.AuthorizeKey(signer.PublicKey()) // before the join: the cluster's keys travel with it

	cluster, _ := clusterStatus(t, pve1)
	pve4, err := s.AddClusterNode("homelab", "pve4")
	if err != nil {
		t.Fatal(err)
	}
	if s.Node("pve4") != pve4 || !slices.Contains(s.Nodes(), "pve4") {
		t.Fatalf("Sim does not know pve4: %v", s.Nodes())
	}
	if pve4.Port() != pve1.Port() || portOf(pve4.SSHAddr()) != portOf(pve1.SSHAddr()) || pve4.Host() == pve1.Host() {
		t.Fatalf("pve4 at %s and %s; pve1 at %s and %s", pve4.Addr(), pve4.SSHAddr(), pve1.Addr(), pve1.SSHAddr())
	}

	t.Run("IdentityWithoutCredentials", func(t *testing.T) {
		conn, err := tls.Dial("tcp", pve4.Addr(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reading the certificate is the point
		if err != nil {
			t.Fatal(err)
		}
		leaf := conn.ConnectionState().PeerCertificates[0]
		conn.Close()
		if Fingerprint(leaf.Raw) != pve4.Fingerprint() || pve4.Fingerprint() == pve1.Fingerprint() {
			t.Fatalf("pve4 serves %s, says %s (pve1 %s)", Fingerprint(leaf.Raw), pve4.Fingerprint(), pve1.Fingerprint())
		}
		roots := x509.NewCertPool()
		roots.AddCert(pve1.Certificate().Leaf) // not a CA: must not verify
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "pve4"}); err == nil {
			t.Fatal("pve4's certificate verifies against pve1's leaf")
		}
		ca, err := x509.ParseCertificate(pve1.Certificate().Certificate[1])
		if err != nil {
			t.Fatal(err)
		}
		roots = x509.NewCertPool()
		roots.AddCert(ca)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "pve4"}); err != nil {
			t.Fatalf("pve4's certificate is not from the cluster CA: %v", err)
		}

		var seen ssh.PublicKey
		_, err = ssh.Dial("tcp", pve4.SSHAddr(), &ssh.ClientConfig{User: "root", Timeout: 10 * time.Second,
			HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error { seen = key; return errors.New("only looking") }})
		if err == nil || seen == nil || string(seen.Marshal()) != string(pve4.SSHHostKey().Marshal()) {
			t.Fatalf("host key without credentials: %v, %v", seen, err)
		}
		if string(seen.Marshal()) == string(pve1.SSHHostKey().Marshal()) {
			t.Fatal("pve4 shares pve1's host key")
		}
	})

	t.Run("EveryMemberListsIt", func(t *testing.T) {
		for _, name := range []string{"pve1", "pve3", "pve4"} {
			c, nodes := clusterStatus(t, s.Node(name))
			m := nodes["pve4"]
			if c["nodes"] != 4.0 || c["version"] != cluster["version"].(float64)+1 || c["quorate"] != 1.0 ||
				m == nil || m["nodeid"] != 4.0 || m["online"] != 1.0 || m["ip"] != pve4.Host() || m["local"] != float64(b2i(name == "pve4")) {
				t.Fatalf("via %s: cluster %v, pve4 %v", name, c, m)
			}
			var listed bool
			for _, row := range call(t, s.Node(name), corralTok, http.MethodGet, "/nodes", nil).dataList(t) {
				m := row.(map[string]any)
				listed = listed || (m["node"] == "pve4" && m["ssl_fingerprint"] == pve4.Fingerprint() && m["status"] == "online")
			}
			if !listed {
				t.Fatalf("/nodes via %s lacks pve4", name)
			}
		}
	})

	t.Run("SharesGuestsTokensAndKeys", func(t *testing.T) {
		if rows := resources(t, pve4); len(rows) != 4 || rows["lxc/102"]["node"] != "pve3" {
			t.Fatalf("pve4 lists %v", rows)
		}
		form := createForm("150")
		form.Set("hostname", "fresh")
		upid := upidOf(t, call(t, pve1, corralTok, http.MethodPost, "/nodes/pve4/lxc", form))
		if st := waitTask(t, pve4, corralTok, upid); st["exitstatus"] != "OK" || st["node"] != "pve4" {
			t.Fatalf("create on pve4: %v", st)
		}
		for _, name := range []string{"pve1", "pve2", "pve4"} {
			if r := resources(t, s.Node(name))["lxc/150"]; r == nil || r["node"] != "pve4" || r["name"] != "fresh" {
				t.Fatalf("via %s: new container %v", name, r)
			}
		}
		c, err := dialSSH(t, pve4, ssh.PublicKeys(signer))
		if err != nil {
			t.Fatalf("cluster key on pve4: %v", err)
		}
		if out, _, code := runSSH(t, c, "pct list", ""); code != 0 || !strings.Contains(out, "fresh") || strings.Contains(out, "pihole") {
			t.Fatalf("pct list on pve4 (%d): %s", code, out)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		for _, tc := range []struct{ cluster, name string }{
			{"homelab", "pve4"}, {"homelab", "solo"}, {"solo", "pve5"}, {"nowhere", "pve5"}, {"homelab", "bad_name"},
		} {
			if n, err := s.AddClusterNode(tc.cluster, tc.name); err == nil {
				t.Errorf("AddClusterNode(%q, %q) = %s, want an error", tc.cluster, tc.name, n.Name())
			}
		}
		if _, nodes := clusterStatus(t, pve1); len(nodes) != 4 {
			t.Fatalf("refused joins changed the cluster: %v", nodes)
		}
	})
}

// TestMembers_AddWhileServing joins members while other members answer
// requests that read the member list (run with -race).
func TestMembers_AddWhileServing(t *testing.T) {
	s := threeNodeSim(t)
	stop := make(chan struct{})
	var wg, serving sync.WaitGroup
	for _, path := range []string{"/cluster/status", "/nodes", "/cluster/resources"} {
		serving.Add(1)
		wg.Go(func() {
			for first := true; ; first = false {
				if r, err := tryCall(t.Context(), s.Node("pve1"), authHeader(corralTok), http.MethodGet, path, nil); err != nil || r.status != 200 {
					t.Errorf("%s during a join: %v %d", path, err, r.status)
				}
				if first {
					serving.Done()
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		})
	}
	serving.Wait()
	for i := 4; i <= 6; i++ {
		if _, err := s.AddClusterNode("homelab", fmt.Sprintf("pve%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if _, nodes := clusterStatus(t, s.Node("pve6")); len(nodes) != 6 {
		t.Fatalf("nodes = %v", nodes)
	}
}

// TestMembers_PersistKeepsJoinedMember: with Persist, a member that joined
// at run time comes back after a restart with its identity and port.
func TestMembers_PersistKeepsJoinedMember(t *testing.T) {
	opts := threeNodeOptions(t.TempDir(), true)
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	pve4, err := s.AddClusterNode("homelab", "pve4")
	if err != nil {
		t.Fatal(err)
	}
	fp, addr, hostKey := pve4.Fingerprint(), pve4.Addr(), string(pve4.SSHHostKey().Marshal())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = New(opts); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	back := s.Node("pve4")
	if back == nil || !s.Restored() {
		t.Fatalf("pve4 not restored: %v", s.Nodes())
	}
	if back.Fingerprint() != fp || back.Addr() != addr || string(back.SSHHostKey().Marshal()) != hostKey {
		t.Fatalf("pve4 came back as %s %s, was %s %s", back.Fingerprint(), back.Addr(), fp, addr)
	}
	if _, nodes := clusterStatus(t, s.Node("pve1")); nodes["pve4"]["nodeid"] != 4.0 {
		t.Fatalf("restored members: %v", nodes)
	}
}

// TestMembers_ReachableAtReportedAddresses: a client that read the
// members from /cluster/status reaches each at its reported ip and the
// port it used for the first member, and can read each one's certificate
// and host key without credentials, as issue 20's "add all members" does.
func TestMembers_ReachableAtReportedAddresses(t *testing.T) {
	s := threeNodeSim(t)
	first := s.Node("pve2")
	sshPort := portOf(first.SSHAddr())
	_, nodes := clusterStatus(t, first)
	seen := map[string]bool{}
	for name, row := range nodes {
		ip, _ := row["ip"].(string)
		if parsed := net.ParseIP(ip); parsed == nil || !parsed.IsLoopback() || seen[ip] {
			t.Fatalf("%s reports ip %q (seen %v)", name, ip, seen)
		}
		seen[ip] = true
		m := s.Node(name)
		if m.Host() != ip || m.Port() != first.Port() || portOf(m.SSHAddr()) != sshPort {
			t.Fatalf("%s listens on %s and %s; reported %s, first member %s", name, m.Addr(), m.SSHAddr(), ip, first.Addr())
		}
		conn, err := tls.Dial("tcp", net.JoinHostPort(ip, strconv.Itoa(first.Port())), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reading the certificate is the point
		if err != nil {
			t.Fatal(err)
		}
		fp := Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
		conn.Close()
		if fp != m.Fingerprint() {
			t.Fatalf("%s at %s serves %s, want %s", name, ip, fp, m.Fingerprint())
		}
		var hostKey ssh.PublicKey
		_, err = ssh.Dial("tcp", net.JoinHostPort(ip, strconv.Itoa(sshPort)), &ssh.ClientConfig{User: "root", Timeout: 10 * time.Second,
			HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error { hostKey = key; return errors.New("only looking") }})
		if err == nil || hostKey == nil || string(hostKey.Marshal()) != string(m.SSHHostKey().Marshal()) {
			t.Fatalf("%s's host key at %s: %v", name, ip, err)
		}
	}
	subnet := func(ip string) string { return ip[:strings.LastIndex(ip, ".")+1] }
	if solo := s.Node("solo"); subnet(solo.Host()) == subnet(first.Host()) {
		t.Fatalf("standalone %s shares the cluster's subnet (%s)", solo.Host(), first.Host())
	}

	// A second simulator with the same layout is another home lab: its
	// "homelab" members have other addresses.
	other := threeNodeSim(t)
	for _, name := range []string{"pve1", "pve2", "pve3"} {
		if other.Node(name).Host() == s.Node(name).Host() {
			t.Fatalf("two simulators' %s both at %s", name, s.Node(name).Host())
		}
	}
}
