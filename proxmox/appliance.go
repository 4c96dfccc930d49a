package proxmox

import (
	"context"
	"net/url"
)

// Appliance is an entry of the template catalogue (GET /nodes/{node}/aplinfo);
// every value is a string.
type Appliance struct {
	Template     string `json:"template"` // file name to download
	Package      string `json:"package"`
	Version      string `json:"version"`
	Type         string `json:"type"` // lxc
	OS           string `json:"os"`
	Section      string `json:"section"` // system, turnkeylinux, ...
	Headline     string `json:"headline"`
	Description  string `json:"description"`
	InfoPage     string `json:"infopage"`
	Location     string `json:"location"`
	Source       string `json:"source"`
	Maintainer   string `json:"maintainer"`
	Architecture string `json:"architecture"`
	MD5Sum       string `json:"md5sum"`
	SHA512Sum    string `json:"sha512sum"`
	ManageURL    string `json:"manageurl"`
}

// Aplinfo returns the node's appliance catalogue (empty until pveam update).
func (c *Client) Aplinfo(ctx context.Context, node string) ([]Appliance, error) {
	var out []Appliance
	if err := c.get(ctx, apiPath("nodes", node, "aplinfo"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// DownloadAppliance downloads template from the catalogue to storage and
// returns the task's UPID; the file then is <storage>:vztmpl/<template>.
func (c *Client) DownloadAppliance(ctx context.Context, node, storage, template string) (string, error) {
	var upid string
	f := url.Values{"storage": {storage}, "template": {template}}
	if err := c.post(ctx, apiPath("nodes", node, "aplinfo"), f, &upid); err != nil {
		return "", err
	}
	return upid, nil
}
