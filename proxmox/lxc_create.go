package proxmox

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// CreateLXCParams are the parameters of POST /nodes/{node}/lxc. Zero values
// are omitted so Proxmox applies its defaults.
type CreateLXCParams struct {
	VMID          int    // required
	OSTemplate    string // required, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
	Hostname      string
	Storage       string // storage for rootfs when RootFS is only a size
	RootFS        string // local-lvm:8 (GiB) or just 8
	Cores         int
	Memory        int  // MiB
	Swap          *int // MiB; nil for the default, 0 for no swap
	Net           map[int]NetConfig
	Password      string // root password inside the CT; never logged
	SSHPublicKeys string // one OpenSSH key per line
	// Unprivileged is sent explicitly when set: the default flipped from
	// privileged to unprivileged in PVE 9.
	Unprivileged *bool
	Features     *Features
	Start        bool
	OnBoot       bool
	Tags         []string
	Nameserver   string
	Searchdomain string
	Description  string
	Pool         string
}

// form encodes p with booleans as 1/0.
func (p CreateLXCParams) form() (url.Values, error) {
	if p.VMID <= 0 || p.OSTemplate == "" {
		return nil, errors.New("vmid and ostemplate are required")
	}
	f := url.Values{}
	f.Set("vmid", strconv.Itoa(p.VMID))
	f.Set("ostemplate", p.OSTemplate)
	setString(f, "hostname", p.Hostname)
	setString(f, "storage", p.Storage)
	setString(f, "rootfs", p.RootFS)
	setInt(f, "cores", p.Cores)
	setInt(f, "memory", p.Memory)
	if p.Swap != nil {
		f.Set("swap", strconv.Itoa(*p.Swap))
	}
	idx := make([]int, 0, len(p.Net))
	for i := range p.Net {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		f.Set("net"+strconv.Itoa(i), p.Net[i].String())
	}
	setString(f, "password", p.Password)
	setString(f, "ssh-public-keys", p.SSHPublicKeys)
	if p.Unprivileged != nil {
		f.Set("unprivileged", boolForm(*p.Unprivileged))
	}
	if p.Features != nil {
		setString(f, "features", p.Features.String())
	}
	if p.Start {
		f.Set("start", "1")
	}
	if p.OnBoot {
		f.Set("onboot", "1")
	}
	setString(f, "tags", strings.Join(p.Tags, ";"))
	setString(f, "nameserver", p.Nameserver)
	setString(f, "searchdomain", p.Searchdomain)
	setString(f, "description", p.Description)
	setString(f, "pool", p.Pool)
	return f, nil
}

// CreateLXC starts creating a container and returns the task's UPID. The
// container exists (locked) from this moment; wait for the task to know
// whether it was built.
func (c *Client) CreateLXC(ctx context.Context, node string, p CreateLXCParams) (string, error) {
	f, err := p.form()
	if err != nil {
		return "", fmt.Errorf("proxmox: create lxc %d: %w", p.VMID, err)
	}
	var upid string
	if err := c.post(ctx, apiPath("nodes", node, "lxc"), f, &upid); err != nil {
		return "", err
	}
	return upid, nil
}

// boolForm is how the API validator wants booleans: "1" or "0".
func boolForm(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func setString(f url.Values, k, v string) {
	if v != "" {
		f.Set(k, v)
	}
}

func setInt(f url.Values, k string, v int) {
	if v != 0 {
		f.Set(k, strconv.Itoa(v))
	}
}
