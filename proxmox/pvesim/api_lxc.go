package pvesim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// vmPath is the ACL path of a guest.
func vmPath(vmid int) string { return fmt.Sprintf("/vms/%d", vmid) }

func (rq *request) vmid() int {
	v, _ := strconv.Atoi(rq.vars["vmid"])
	return v
}

// errNoConfig is what every per-CT endpoint says for a CT that is not on the addressed node.
func errNoConfig(node string, vmid int) *apiError {
	return errStatus(http.StatusInternalServerError, "Configuration file 'nodes/%s/lxc/%d.conf' does not exist", node, vmid)
}

// needVM checks a privilege on /vms/{vmid}.
func (rq *request) needVM(priv string) error {
	if !rq.tok.can(vmPath(rq.vmid()), priv) {
		return errPerm(vmPath(rq.vmid()), priv)
	}
	return nil
}

// withCT checks that the token holds one of privs on the container, then
// runs fn on it under the estate lock: the shape of every per-CT read.
func (rq *request) withCT(fn func(g *guest) (any, error), privs ...string) (any, error) {
	if err := rq.needAnyVM(privs...); err != nil {
		return nil, err
	}
	rq.n.estate.mu.Lock()
	defer rq.n.estate.mu.Unlock()
	g, err := rq.localCT()
	if err != nil {
		return nil, err
	}
	return fn(g)
}

// localCT returns the container vmid on the addressed node; the caller holds estate.mu.
func (rq *request) localCT() (*guest, error) {
	g := rq.n.estate.guests[rq.vmid()]
	if g == nil || g.node != rq.n.name || g.typ != LXC {
		return nil, errNoConfig(rq.n.name, rq.vmid())
	}
	return g, nil
}

func (rq *request) listGuests(typ GuestType) []any {
	e := rq.n.estate
	e.mu.Lock()
	defer e.mu.Unlock()
	rows := []any{}
	for _, g := range e.sortedGuests() {
		if g.node == rq.n.name && g.typ == typ && rq.tok.can(vmPath(g.vmid), "VM.Audit") {
			rows = append(rows, rq.n.sim.listRow(g))
		}
	}
	return rows
}

func getLXCList(rq *request) (any, error)  { return rq.listGuests(LXC), nil }
func getQemuList(rq *request) (any, error) { return rq.listGuests(QEMU), nil }

func getLXCStatus(rq *request) (any, error) {
	return rq.withCT(func(g *guest) (any, error) {
		row := rq.n.sim.listRow(g)
		row["ha"] = map[string]any{"managed": 0}
		return row, nil
	}, "VM.Audit")
}

func getLXCConfig(rq *request) (any, error) {
	return rq.withCT(func(g *guest) (any, error) {
		if name := rq.p["snapshot"]; name != "" {
			if rq.p.boolParam("current") {
				msg := "cannot use 'snapshot' parameter with 'current'"
				return nil, errParam(map[string]string{"snapshot": msg, "current": msg})
			}
			snap := g.snapshots[name]
			if snap == nil {
				return nil, errStatus(http.StatusInternalServerError, "snapshot '%s' does not exist", name)
			}
			c := snap.json()
			c["digest"] = g.digest()
			return c, nil
		}
		return g.configMap(rq.p.boolParam("current")), nil
	}, "VM.Audit")
}

func getLXCInterfaces(rq *request) (any, error) {
	return rq.withCT(func(g *guest) (any, error) {
		if g.status != "running" {
			return nil, nil
		}
		rows := []any{ifaceRow("lo", "00:00:00:00:00:00", "127.0.0.1/8", "::1/128")}
		for i := 0; i < maxNets; i++ {
			v, ok := g.conf[fmt.Sprintf("net%d", i)]
			if !ok {
				continue
			}
			net, _ := parsePropString("net", v, "", netFormat)
			inet := ""
			switch ip := net["ip"]; ip {
			case "dhcp":
				inet = rq.n.sim.leaseIP(g.vmid, i)
			case "", "manual":
			default:
				inet = ip
			}
			mac := strings.ToLower(net["hwaddr"])
			rows = append(rows, ifaceRow(net["name"], mac, inet, linkLocal(mac)))
		}
		return rows, nil
	}, "VM.Audit")
}

// ifaceRow is an /interfaces row in the PVE 8.4+ form (old keys kept).
func ifaceRow(name, mac, inet, inet6 string) map[string]any {
	row := map[string]any{"name": name, "hwaddr": mac, "hardware-address": mac}
	var addrs []any
	for _, a := range []struct{ cidr, family string }{{inet, "inet"}, {inet6, "inet6"}} {
		if a.cidr == "" {
			continue
		}
		row[a.family] = a.cidr
		ip, prefix, _ := strings.Cut(a.cidr, "/")
		p, _ := strconv.Atoi(prefix)
		addrs = append(addrs, map[string]any{"ip-address": ip, "ip-address-type": a.family, "prefix": p})
	}
	if addrs != nil {
		row["ip-addresses"] = addrs
	}
	return row
}

// linkLocal derives the EUI-64 IPv6 link-local address from a MAC.
func linkLocal(mac string) string {
	var b [6]byte
	if _, err := fmt.Sscanf(mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]); err != nil {
		return ""
	}
	return fmt.Sprintf("fe80::%02x%02x:%02xff:fe%02x:%02x%02x/64", b[0]^2, b[1], b[2], b[3], b[4], b[5])
}

// rrdSteps are the resolutions of PVE's RRD archives (70 points each).
var rrdSteps = map[string]int64{"hour": 60, "day": 1800, "week": 10800, "month": 43200, "year": 604800, "decade": 6048000}

func getLXCRRD(rq *request) (any, error) {
	return rq.withCT(func(g *guest) (any, error) {
		step := rrdSteps[rq.p["timeframe"]]
		now := rq.n.sim.now().Unix() / step * step
		rows := make([]any, 0, 70)
		for i := int64(69); i >= 0; i-- {
			t := now - i*step
			row := map[string]any{"time": t, "maxcpu": float64(g.cpus()), "maxmem": float64(g.maxmem()),
				"maxdisk": float64(g.diskBytes()), "disk": float64(g.diskBytes()) * float64(10+g.vmid%30) / 100}
			running := g.status == "running" && t >= g.startedAt.Unix()
			switch {
			case i == 0:
				// The current interval is still open: RRD reports a gap (time only).
				row = map[string]any{"time": t}
			case running:
				wave := float64((t/step+int64(g.vmid))%10) / 10
				row["cpu"] = 0.002 + 0.01*wave
				row["mem"] = float64(g.maxmem()) * (0.15 + 0.05*wave)
				row["netin"] = 1200 + 400*wave
				row["netout"] = 800 + 300*wave
				row["diskread"] = 2000 * wave
				row["diskwrite"] = 3000 * wave
			default:
				for _, k := range []string{"cpu", "mem", "netin", "netout", "diskread", "diskwrite"} {
					row[k] = 0.0
				}
			}
			rows = append(rows, row)
		}
		return rows, nil
	}, "VM.Audit")
}
