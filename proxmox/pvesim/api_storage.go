package pvesim

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

var networkTypes = []string{"bridge", "bond", "eth", "alias", "vlan", "fabric", "OVSBridge", "OVSBond",
	"OVSPort", "OVSIntPort", "vnet", "any_bridge", "any_local_bridge", "include_sdn"}

// hasBridge reports whether the node has a Linux bridge of that name.
func (n *Node) hasBridge(name string) bool { return name == "vmbr0" }

func getNetwork(rq *request) (any, error) {
	n := rq.n
	rows := []map[string]any{
		{"iface": "eno1", "type": "eth", "method": "manual", "method6": "manual", "families": []string{"inet"},
			"active": 1, "exists": 1, "priority": 3},
		{"iface": "vmbr0", "type": "bridge", "method": "static", "method6": "manual", "families": []string{"inet"},
			"active": 1, "autostart": 1, "exists": nil, "priority": 4, "address": n.ip, "netmask": "24",
			"cidr": n.ip + "/24", "gateway": n.ip[:strings.LastIndex(n.ip, ".")] + ".1",
			"bridge_ports": "eno1", "bridge_stp": "off", "bridge_fd": "0"},
	}
	out := []any{}
	for _, r := range rows {
		t := r["type"].(string)
		switch typ := rq.p["type"]; typ {
		case "":
		case "any_bridge", "any_local_bridge", "include_sdn":
			if t != "bridge" && t != "OVSBridge" {
				continue
			}
		default:
			if t != typ {
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func getStorages(rq *request) (any, error) {
	n := rq.n
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	if sid := rq.p["storage"]; sid != "" && n.storage(sid) == nil {
		return nil, errParam(map[string]string{"storage": "No such storage."})
	}
	rows := []any{}
	for _, st := range n.storages {
		if !canSeeStorage(rq.tok, st.id) {
			continue
		}
		if sid := rq.p["storage"]; sid != "" && sid != st.id {
			continue
		}
		if c := rq.p["content"]; c != "" && !slices.ContainsFunc(strings.Split(c, ","), st.allows) {
			continue
		}
		used := st.usedBytes()
		rows = append(rows, map[string]any{
			"storage": st.id, "type": st.typ, "content": joinComma(st.content), "active": 1, "enabled": 1,
			"shared": b2i(st.shared), "total": st.total, "used": used, "avail": st.total - used,
			"used_fraction": float64(used) / float64(st.total),
		})
	}
	return rows, nil
}

func getStorageContent(rq *request) (any, error) {
	n := rq.n
	sid := rq.vars["storage"]
	if !canSeeStorage(rq.tok, sid) {
		return nil, errPerm("/storage/"+sid, "Datastore.Audit", "Datastore.AllocateSpace")
	}
	n.estate.mu.Lock()
	defer n.estate.mu.Unlock()
	st := n.storage(sid)
	if st == nil {
		return nil, errStatus(http.StatusInternalServerError, "storage '%s' does not exist", sid)
	}
	want := rq.p["content"]
	if want != "" && !st.allows(want) {
		return []any{}, nil
	}
	vmid, byVMID := rq.p["vmid"], rq.p["vmid"] != ""
	type item struct {
		volid string
		row   map[string]any
	}
	var items []item
	for _, v := range st.volumes {
		if want != "" && want != v.content {
			continue
		}
		if byVMID && (v.content != "backup" || strconv.Itoa(v.vmid) != vmid) {
			// PVE lists only images and backups by owner; templates never match.
			continue
		}
		if v.content == "backup" && !rq.canAccessBackup(sid, v.vmid) {
			continue
		}
		items = append(items, item{v.volid, v.row()})
	}
	if want == "" || want == "rootdir" || want == "images" {
		for name, d := range st.disks {
			g := n.estate.guests[d.vmid]
			content := "images"
			if g == nil || g.typ == LXC {
				content = "rootdir"
			}
			if (want != "" && want != content) || (byVMID && strconv.Itoa(d.vmid) != vmid) {
				continue
			}
			if !canSeeStorage(rq.tok, sid) || !rq.tok.can(vmPath(d.vmid), "VM.Config.Disk") {
				continue
			}
			volid := sid + ":" + name
			items = append(items, item{volid, map[string]any{"volid": volid, "content": content, "format": "raw",
				"size": d.size, "vmid": d.vmid, "ctime": d.ctime}})
		}
	}
	sort.Slice(items, func(i, j int) bool { return strings.ToLower(items[i].volid) < strings.ToLower(items[j].volid) })
	out := []any{}
	for _, it := range items {
		out = append(out, it.row)
	}
	return out, nil
}

// canAccessBackup is check_volume_access for a backup of vmid on storage sid.
func (rq *request) canAccessBackup(sid string, vmid int) bool {
	if rq.tok.can("/storage/"+sid, "Datastore.Allocate") {
		return true
	}
	return rq.tok.can("/storage/"+sid, "Datastore.AllocateSpace") && rq.tok.can(vmPath(vmid), "VM.Backup")
}

// row is the volume as /storage/{storage}/content lists it.
func (v volume) row() map[string]any {
	row := map[string]any{"volid": v.volid, "content": v.content, "format": v.format, "size": v.size, "ctime": v.ctime}
	if v.content == "backup" {
		row["subtype"] = v.subtype
		row["vmid"] = v.vmid
		if v.notes != "" {
			row["notes"] = strings.SplitN(v.notes, "\n", 2)[0]
		}
		if v.protected {
			row["protected"] = 1
		}
	}
	return row
}

func getAplinfo(rq *request) (any, error) {
	cat := aplCatalogue()
	// PVE returns the index in hash order; a seeded shuffle keeps tests stable.
	s := rq.n.sim
	sort.Slice(cat, func(i, j int) bool { return s.hash(cat[i].template) < s.hash(cat[j].template) })
	out := make([]any, 0, len(cat))
	for _, a := range cat {
		out = append(out, a.row())
	}
	return out, nil
}

func postAplinfo(rq *request) (any, error) {
	n := rq.n
	sid, file := rq.p["storage"], rq.p["template"]
	if !rq.tok.can("/storage/"+sid, "Datastore.AllocateTemplate") {
		return nil, errPerm("/storage/"+sid, "Datastore.AllocateTemplate")
	}
	n.estate.mu.Lock()
	st := n.storage(sid)
	n.estate.mu.Unlock()
	if st == nil {
		return nil, errStatus(http.StatusInternalServerError, "storage '%s' does not exist", sid)
	}
	if !st.allows("vztmpl") {
		return nil, errStatus(http.StatusInternalServerError, "storage '%s' does not support templates", sid)
	}
	var app *appliance
	for _, a := range aplCatalogue() {
		if a.template == file {
			app = &a
			break
		}
	}
	if app == nil {
		return nil, errStatus(http.StatusInternalServerError, "no such template '%s'", file)
	}
	dst := "/var/lib/vz/template/cache/" + file
	src := app.location()
	return n.startTask(rq.tok, "download", file, 5, func(tl *taskLog) error {
		size := templateSize(file)
		for _, l := range []string{
			fmt.Sprintf("downloading %s to %s", src, dst),
			fmt.Sprintf("--%s--  %s", n.sim.now().UTC().Format("2006-01-02 15:04:05"), src),
			fmt.Sprintf("Length: %d (%dM) [application/octet-stream]", size, size>>20),
			fmt.Sprintf("Saving to: '%s.tmp_dwnl.%d'", dst, tl.t.pid),
			fmt.Sprintf("download of '%s' to '%s' finished", src, dst),
		} {
			if !tl.Log("%s", l) {
				return errClosed
			}
		}
		n.estate.mu.Lock()
		defer n.estate.mu.Unlock()
		if _, had := st.volume(sid + ":vztmpl/" + file); !had {
			st.used += size
		}
		st.addVolume(volume{volid: sid + ":vztmpl/" + file, content: "vztmpl", format: templateFormat(file),
			size: size, ctime: n.sim.now().Unix()})
		return nil
	}), nil
}
