package pvesim

import (
	"fmt"
	"net/http"
	"strconv"
)

func getVersion(rq *request) (any, error) {
	return map[string]any{"version": "9.0.6", "release": "9.0", "repoid": "49c767b70aeb6648"}, nil
}

// getPermissions answers for the calling token only; other ids need Sys.Audit on /access.
func getPermissions(rq *request) (any, error) {
	if uid := rq.p["userid"]; uid != "" && uid != rq.tok.spec.FullID() && !rq.tok.can("/access", "Sys.Audit") {
		return nil, errPerm("/access", "Sys.Audit")
	}
	return rq.tok.permissions(rq.p["path"]), nil
}

func getClusterStatus(rq *request) (any, error) {
	if !rq.tok.can("/", "Sys.Audit") {
		return nil, errPerm("/", "Sys.Audit")
	}
	e := rq.n.estate
	var rows []any
	online, members := 0, e.members()
	for _, n := range members {
		if !n.IsDown() {
			online++
		}
	}
	if !e.standalone {
		rows = append(rows, map[string]any{
			"type": "cluster", "id": "cluster", "name": e.name, "nodes": len(members),
			"quorate": b2i(online*2 > len(members)), "version": 2 + len(members),
		})
	}
	for _, n := range members {
		rows = append(rows, map[string]any{
			"type": "node", "id": "node/" + n.name, "name": n.name, "nodeid": n.nodeid, "ip": n.ip,
			"online": b2i(!n.IsDown()), "local": b2i(n == rq.n), "level": "",
		})
	}
	return rows, nil
}

func getClusterResources(rq *request) (any, error) {
	e := rq.n.estate
	typ := rq.p["type"]
	rows := []any{}
	if typ == "" || typ == "vm" {
		rows = guestResources(rq) // non-nil; the other kinds follow the guests
	}
	if typ == "" || typ == "node" {
		for _, n := range e.members() {
			row := map[string]any{"id": "node/" + n.name, "node": n.name, "type": "node", "level": "", "cgroup-mode": 2}
			if n.IsDown() {
				row["status"] = "offline"
			} else {
				row["status"] = "online"
				if rq.tok.can("/nodes/"+n.name, "Sys.Audit") {
					for k, v := range n.metrics() {
						row[k] = v
					}
				}
			}
			rows = append(rows, row)
		}
	}
	if typ == "" || typ == "storage" {
		e.mu.Lock()
		for _, n := range e.members() {
			for _, st := range n.storages {
				if !canSeeStorage(rq.tok, st.id) {
					continue
				}
				rows = append(rows, map[string]any{
					"id": "storage/" + n.name + "/" + st.id, "storage": st.id, "node": n.name, "type": "storage",
					"plugintype": st.typ, "content": joinComma(st.content), "shared": b2i(st.shared),
					"status": "available", "disk": st.usedBytes(), "maxdisk": st.total,
				})
			}
		}
		e.mu.Unlock()
	}
	return rows, nil
}

func canSeeStorage(t *token, id string) bool {
	return t.can("/storage/"+id, "Datastore.Audit") || t.can("/storage/"+id, "Datastore.AllocateSpace")
}

func getNextID(rq *request) (any, error) {
	e := rq.n.estate
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := rq.p["vmid"]; ok {
		id, _ := strconv.Atoi(v)
		if _, taken := e.guests[id]; taken {
			return nil, errParam(map[string]string{"vmid": fmt.Sprintf("VM %d already exists", id)})
		}
		return strconv.Itoa(id), nil
	}
	for id := 100; id < 1_000_000; id++ {
		if _, taken := e.guests[id]; !taken {
			return strconv.Itoa(id), nil
		}
	}
	return nil, errStatus(http.StatusInternalServerError, "unable to get any free VMID in range [100, 1000000]")
}

func getNodes(rq *request) (any, error) {
	rows := []any{}
	for _, n := range rq.n.estate.members() {
		row := map[string]any{"node": n.name, "type": "node", "id": "node/" + n.name, "level": "",
			"ssl_fingerprint": n.Fingerprint(), "status": "online"}
		audit := rq.tok.can("/nodes/"+n.name, "Sys.Audit")
		if audit {
			m := n.metrics()
			for k, v := range m {
				row[k] = v
			}
			if n.IsDown() {
				for _, k := range []string{"cpu", "mem", "disk", "uptime"} {
					delete(row, k)
				}
			}
		}
		if n.IsDown() {
			row["status"] = "offline"
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func getNodeStatus(rq *request) (any, error) {
	n := rq.n
	if !rq.tok.can("/nodes/"+n.name, "Sys.Audit") {
		return nil, errPerm("/nodes/"+n.name, "Sys.Audit")
	}
	mem := hostMemory / 4 * int64(1+n.nodeid%3)
	return map[string]any{
		"uptime": n.uptime(), "idle": 0, "loadavg": []string{"0.31", "0.27", "0.22"},
		"kversion": "Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2 (2025-07-22T10:04Z)",
		"current-kernel": map[string]any{"sysname": "Linux", "release": "6.14.8-2-pve",
			"version": "#1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2 (2025-07-22T10:04Z)", "machine": "x86_64"},
		"boot-info": map[string]any{"mode": "efi", "secureboot": 0},
		"cpuinfo": map[string]any{"cpus": hostCPUs, "cores": hostCPUs / 2, "sockets": 1,
			"model": "Intel(R) Core(TM) i5-8500T CPU @ 2.10GHz", "mhz": "2100.000", "hvm": "1",
			"flags": "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr", "user_hz": 100,
			"vendor": "GenuineIntel", "family": "6"},
		"cpu": 0.0123 * float64(n.nodeid), "wait": 0,
		"memory": map[string]any{"total": hostMemory, "used": mem, "free": hostMemory - mem, "available": hostMemory - mem},
		"ksm":    map[string]any{"shared": 0},
		"swap":   map[string]any{"total": int64(8) << 30, "used": 0, "free": int64(8) << 30},
		"rootfs": map[string]any{"total": int64(100_861_726_720), "used": int64(12_415_746_048),
			"free": int64(88_445_980_672), "avail": int64(83_274_338_304)},
		"pveversion": "pve-manager/9.0.6/49c767b70aeb6648",
	}, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}
