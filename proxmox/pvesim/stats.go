package pvesim

import (
	"fmt"
	"sort"
	"time"
)

// Simulated host hardware of every node.
const (
	hostCPUs   = 8
	hostMemory = int64(32) << 30
)

// secondsFor is a stable "already up for" duration for guests that exist at start.
func secondsFor(vmid int) time.Duration {
	return time.Duration(3600+vmid*137) * time.Second
}

func sortStrings(s []string) { sort.Strings(s) }

// usage is a guest's current figures; deterministic in vmid and uptime.
type usage struct {
	uptime                       int64
	cpu                          float64
	mem, disk, maxdisk           int64
	netin, netout, dread, dwrite int64
}

func (s *Sim) usage(g *guest) usage { return s.usageAt(g, s.now()) }

// usageAt is usage as of now, for callers that read the clock once for many guests.
func (s *Sim) usageAt(g *guest, now time.Time) usage {
	u := usage{maxdisk: g.diskBytes()}
	u.disk = u.maxdisk * int64(10+g.vmid%30) / 100
	if g.status != "running" {
		return u
	}
	up := int64(now.Sub(g.startedAt).Seconds())
	if up < 0 {
		up = 0
	}
	u.uptime = up
	u.cpu = 0.002 + float64((g.vmid*37+int(up/10))%50)/1000
	u.mem = g.maxmem() * int64(15+g.vmid%40) / 100
	u.netin = up*1200 + int64(g.vmid)*1000
	u.netout = up*800 + int64(g.vmid)*700
	u.dread = 40_000_000 + up*2000
	u.dwrite = 10_000_000 + up*3000
	return u
}

func (g *guest) maxmem() int64 { return int64(g.memoryMiB()) << 20 }

func (g *guest) cpus() int {
	if c := g.cores(); c > 0 {
		return c
	}
	return hostCPUs
}

// addOptional adds lock, tags and template only when set, as PVE does.
func (g *guest) addOptional(row map[string]any) {
	if l := g.lock(); l != "" {
		row["lock"] = l
	}
	if t := g.tags(); t != "" {
		row["tags"] = t
	}
}

// listRow is a row of GET /nodes/{node}/lxc or /qemu (and status/current).
func (s *Sim) listRow(g *guest) map[string]any {
	if g.lock() == "create" {
		// The config is still empty: PVE reports defaults.
		row := map[string]any{
			"vmid": g.vmid, "name": fmt.Sprintf("CT%d", g.vmid), "status": "stopped", "type": "lxc", "cpus": 1,
			"cpu": 0, "maxmem": int64(512) << 20, "mem": 0, "maxswap": int64(512) << 20, "swap": 0,
			"maxdisk": int64(4) << 30, "disk": 0, "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
			"uptime": 0, "lock": g.lock(),
		}
		return row
	}
	u := s.usage(g)
	row := map[string]any{
		"vmid": g.vmid, "name": g.displayName(), "status": g.status, "cpus": g.cpus(),
		"cpu": u.cpu, "maxmem": g.maxmem(), "mem": u.mem, "maxdisk": g.diskBytes(), "disk": u.disk,
		"netin": u.netin, "netout": u.netout, "diskread": u.dread, "diskwrite": u.dwrite, "uptime": u.uptime,
	}
	if g.typ == LXC {
		row["type"] = "lxc"
		row["maxswap"] = int64(g.swapMiB()) << 20
		row["swap"] = 0
	}
	if g.status == "running" {
		row["pid"] = 10000 + g.vmid*13
		if g.typ == LXC {
			row["pressurecpusome"] = 0.0
			row["pressureiosome"] = 0.0
			row["pressureiofull"] = 0.0
			row["pressurememorysome"] = 0.0
			row["pressurememoryfull"] = 0.0
		}
	}
	if g.isTemplate() {
		row["template"] = 1
	}
	g.addOptional(row)
	return row
}

// nodeUptime is how long a node has been up: stable per node.
func (n *Node) uptime() int64 { return int64(86400*3 + n.nodeid*3571) }

// nodeMetrics are the statistics of a node for /nodes and /cluster/resources.
func (n *Node) metrics() map[string]any {
	return map[string]any{
		"cpu": 0.0123 * float64(n.nodeid), "maxcpu": hostCPUs, "mem": hostMemory / 4 * int64(1+n.nodeid%3),
		"maxmem": hostMemory, "disk": int64(12_415_746_048), "maxdisk": int64(100_861_726_720), "uptime": n.uptime(),
	}
}
