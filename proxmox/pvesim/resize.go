package pvesim

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// resizeSchema is PUT /nodes/{node}/lxc/{vmid}/resize.
var resizeSchema = func() schema {
	disks := []string{"rootfs"}
	for i := 0; i < maxMountPoints; i++ {
		disks = append(disks, fmt.Sprintf("mp%d", i))
	}
	return schema{
		"disk":   {kind: kEnum, required: true, enum: disks},
		"size":   {kind: kString, required: true, pattern: regexp.MustCompile(`^\+?\d+(\.\d+)?[KMGT]?$`)},
		"digest": {kind: kString, maxLen: 40},
	}
}()

// resizePlan is what resize_vm's load_and_check found.
type resizePlan struct {
	disk    string // rootfs, mp0, …
	mp      mountPoint
	st      *storage
	oldSize int64
	newSize int64
}

// checkResize is load_and_check: run before the task and again inside it.
// The caller holds estate.mu.
func (n *Node) checkResize(tok *token, vmid int, disk, size, digest string) (*resizePlan, error) {
	g := n.estate.guests[vmid]
	if g == nil || g.node != n.name || g.typ != LXC {
		return nil, errNoConfig(n.name, vmid)
	}
	if l := g.lock(); l != "" {
		return nil, errStatus(http.StatusInternalServerError, "CT is locked (%s)", l)
	}
	// check_ct_modify_config_perm sees the parameter "disk", which falls
	// into its catch-all: VM.Config.Options.
	if !tok.isRootPam() && !tok.can(vmPath(vmid), "VM.Config.Options") {
		return nil, errPerm(vmPath(vmid), "VM.Config.Options")
	}
	if digest != "" && digest != g.digest() {
		return nil, errStatus(http.StatusInternalServerError, "detected modified configuration - file changed by other user? Try again.")
	}
	value, ok := g.conf[disk]
	if !ok {
		return nil, &apiError{status: http.StatusInternalServerError, msg: "format error",
			errors: map[string]string{"volume": "property is missing and it is not optional"}}
	}
	mp := parseMountPoint(disk, value)
	if mp.kind != "volume" {
		return nil, errStatus(http.StatusInternalServerError, "unable to parse volume ID '%s'", mp.volume)
	}
	sid, name, _ := strings.Cut(mp.volume, ":")
	if m := ownerRe.FindStringSubmatch(name); m != nil && m[1] != vmidString(vmid) {
		return nil, errStatus(http.StatusInternalServerError, "can't resize mount point owned by another container (%s)", m[1])
	}
	if !tok.can("/storage/"+sid, "Datastore.AllocateSpace") {
		return nil, errPerm("/storage/"+sid, "Datastore.AllocateSpace")
	}
	st := n.storage(sid)
	d := st.diskOf(mp.volume)
	if d == nil {
		return nil, errStatus(http.StatusInternalServerError, "Could not determine current size of volume '%s'", mp.volume)
	}
	rest, grow := strings.CutPrefix(size, "+")
	req, _ := parseSize(rest)
	newSize := req
	if grow {
		newSize = d.size + req
	}
	switch {
	case newSize < d.size:
		return nil, errStatus(http.StatusInternalServerError, "unable to shrink disk size")
	case newSize == d.size:
		return nil, errStatus(http.StatusInternalServerError, "disk is already at specified size")
	}
	return &resizePlan{disk: disk, mp: mp, st: st, oldSize: d.size, newSize: newSize}, nil
}

func putResize(rq *request) (any, error) {
	if err := rq.needVM("VM.Config.Disk"); err != nil {
		return nil, err
	}
	n, vmid := rq.n, rq.vmid()
	disk, size, digest := rq.p["disk"], rq.p["size"], rq.p["digest"]
	n.estate.mu.Lock()
	_, err := n.checkResize(rq.tok, vmid, disk, size, digest)
	n.estate.mu.Unlock()
	if err != nil {
		return nil, err
	}
	tok := rq.tok
	return n.startTask(tok, "resize", vmidString(vmid), 8, func(tl *taskLog) error {
		release, err := n.lockConfig(vmid)
		if err != nil {
			return err
		}
		defer release()
		n.estate.mu.Lock()
		plan, err := n.checkResize(tok, vmid, disk, size, digest)
		if err != nil {
			n.estate.mu.Unlock()
			return err
		}
		g := n.estate.guests[vmid]
		plan.st.diskOf(plan.mp.volume).size = plan.newSize
		plan.mp.opts["size"] = formatSize(plan.newSize)
		g.conf[disk] = plan.mp.String(disk == "rootfs")
		running := g.status == "running"
		n.estate.mu.Unlock()
		return resizeLog(tl, plan, running)
	}), nil
}

// resizeLog writes what lvresize, e2fsck and resize2fs print.
func resizeLog(tl *taskLog, p *resizePlan, running bool) error {
	const extent = 4 << 20
	lv := "pve/" + lvName(p.mp.volume)
	dev := "/dev/" + lv
	blocks := p.newSize / 4096
	lines := []string{
		fmt.Sprintf("  Size of logical volume %s changed from %.2f GiB (%d extents) to %.2f GiB (%d extents).",
			lv, float64(p.oldSize)/(1<<30), p.oldSize/extent, float64(p.newSize)/(1<<30), p.newSize/extent),
		fmt.Sprintf("  Logical volume %s successfully resized.", lv),
	}
	if running {
		lines = append(lines, "resize2fs 1.47.2 (1-Jan-2025)",
			fmt.Sprintf("Filesystem at %s is mounted on /tmp; on-line resizing required", dev),
			fmt.Sprintf("old_desc_blocks = %d, new_desc_blocks = %d", descBlocks(p.oldSize), descBlocks(p.newSize)))
	} else {
		inodes := p.oldSize / 16384
		lines = append(lines, "e2fsck 1.47.2 (1-Jan-2025)",
			"Pass 1: Checking inodes, blocks, and sizes", "Pass 2: Checking directory structure",
			"Pass 3: Checking directory connectivity", "Pass 4: Checking reference counts",
			"Pass 5: Checking group summary information",
			fmt.Sprintf("%s: %d/%d files (0.2%% non-contiguous), %d/%d blocks", dev, inodes/20, inodes, p.oldSize/4096/5, p.oldSize/4096),
			"resize2fs 1.47.2 (1-Jan-2025)",
			fmt.Sprintf("Resizing the filesystem on %s to %d (4k) blocks.", dev, blocks))
	}
	lines = append(lines, fmt.Sprintf("The filesystem on %s is now %d (4k) blocks long.", dev, blocks), "")
	for _, l := range lines {
		if !tl.Log("%s", l) {
			return errClosed
		}
	}
	return nil
}

// descBlocks is ext4's group descriptor block count for a size.
func descBlocks(size int64) int64 {
	groups := (size/4096 + 32767) / 32768
	return (groups*64 + 4095) / 4096
}
