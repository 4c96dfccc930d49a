package pvesim

import "net/http"

// routes lists every endpoint the simulator serves. Path variables ({node},
// {vmid}, {upid}, {storage}, {snapname}) are validated by pathVarProps; each schema lists
// the other parameters the endpoint accepts.
func (s *Sim) routes() []route {
	return s.routeTable
}

func buildRoutes() []route {
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	snap := "/nodes/{node}/lxc/{vmid}/snapshot"
	return []route{
		{get, "/version", nil, getVersion},
		{get, "/access/permissions", schema{"path": {kind: kString}, "userid": {kind: kString}}, getPermissions},
		{get, "/cluster/status", nil, getClusterStatus},
		{get, "/cluster/resources", schema{"type": {kind: kEnum, enum: []string{"vm", "storage", "node", "sdn"}}}, getClusterResources},
		{get, "/cluster/nextid", schema{"vmid": {kind: kVMID}}, getNextID},
		{get, "/nodes", nil, getNodes},
		{get, "/nodes/{node}/status", nil, getNodeStatus},
		{get, "/nodes/{node}/network", schema{"type": {kind: kEnum, enum: networkTypes}}, getNetwork},
		{get, "/nodes/{node}/storage", schema{
			"content": {kind: kString}, "enabled": {kind: kBool}, "format": {kind: kBool},
			"storage": {kind: kStorageID}, "target": {kind: kNode},
		}, getStorages},
		{get, "/nodes/{node}/storage/{storage}/content", schema{"content": {kind: kString}, "vmid": {kind: kVMID}}, getStorageContent},
		{get, "/nodes/{node}/aplinfo", nil, getAplinfo},
		{post, "/nodes/{node}/aplinfo", schema{
			"storage": {kind: kStorageID, required: true}, "template": {kind: kString, required: true, maxLen: 255},
		}, postAplinfo},
		{get, "/nodes/{node}/tasks", schema{
			"start": {kind: kInt, min: lim(0)}, "limit": {kind: kInt, min: lim(0)}, "vmid": {kind: kVMID},
			"typefilter": {kind: kString}, "source": {kind: kEnum, enum: []string{"archive", "active", "all"}},
			"errors": {kind: kBool}, "userfilter": {kind: kString}, "since": {kind: kInt}, "until": {kind: kInt},
			"statusfilter": {kind: kString},
		}, getTasks},
		{get, "/nodes/{node}/tasks/{upid}/status", nil, getTaskStatus},
		{get, "/nodes/{node}/tasks/{upid}/log", schema{
			"start": {kind: kInt, min: lim(0)}, "limit": {kind: kInt, min: lim(0)}, "download": {kind: kBool},
		}, getTaskLog},
		{get, "/nodes/{node}/qemu", schema{"full": {kind: kBool}}, getQemuList},
		{get, "/nodes/{node}/lxc", nil, getLXCList},
		{post, "/nodes/{node}/lxc", createSchema, postLXCCreate},
		{get, "/nodes/{node}/lxc/{vmid}/status/current", nil, getLXCStatus},
		{get, "/nodes/{node}/lxc/{vmid}/config", schema{"current": {kind: kBool}, "snapshot": {kind: kString, maxLen: 40, format: formatConfigID}}, getLXCConfig},
		{get, "/nodes/{node}/lxc/{vmid}/interfaces", nil, getLXCInterfaces},
		{get, "/nodes/{node}/lxc/{vmid}/rrddata", schema{
			"timeframe": {kind: kEnum, required: true, enum: []string{"hour", "day", "week", "month", "year", "decade"}},
			"cf":        {kind: kEnum, enum: []string{"AVERAGE", "MAX"}},
		}, getLXCRRD},
		{post, "/nodes/{node}/lxc/{vmid}/status/start", schema{"debug": {kind: kBool}, "skiplock": {kind: kBool}}, postLXCStart},
		{post, "/nodes/{node}/lxc/{vmid}/status/stop", schema{"skiplock": {kind: kBool}, "overrule-shutdown": {kind: kBool}}, postLXCStop},
		{post, "/nodes/{node}/lxc/{vmid}/status/shutdown", schema{
			"timeout": {kind: kInt, min: lim(0)}, "forceStop": {kind: kBool},
		}, postLXCShutdown},
		{post, "/nodes/{node}/lxc/{vmid}/status/reboot", schema{"timeout": {kind: kInt, min: lim(0)}}, postLXCReboot},
		{put, "/nodes/{node}/lxc/{vmid}/config", updateSchema, putLXCConfig},
		{get, "/nodes/{node}/lxc/{vmid}/pending", nil, getLXCPending},
		{put, "/nodes/{node}/lxc/{vmid}/resize", resizeSchema, putResize},
		{get, snap, nil, getSnapshots},
		{post, snap, schema{"snapname": snapNameProp, "description": {kind: kString}}, postSnapshot},
		{get, snap + "/{snapname}", nil, getSnapshotIndex},
		{del, snap + "/{snapname}", schema{"force": {kind: kBool}}, deleteSnapshotAPI},
		{post, snap + "/{snapname}/rollback", schema{"start": {kind: kBool}}, postRollback},
		{get, snap + "/{snapname}/config", nil, getSnapshotConfig},
		{put, snap + "/{snapname}/config", schema{"description": {kind: kString}}, putSnapshotConfig},
		{post, "/nodes/{node}/vzdump", vzdumpSchema, postVzdump},
		{del, "/nodes/{node}/lxc/{vmid}", schema{
			"purge": {kind: kBool}, "destroy-unreferenced-disks": {kind: kBool}, "force": {kind: kBool},
		}, deleteLXC},
	}
}
