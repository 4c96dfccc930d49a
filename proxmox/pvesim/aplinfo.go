package pvesim

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"strings"
)

// appliance is one entry of the appliance index (`pveam available`).
type appliance struct {
	template, pkg, version, os, section, headline string
}

// aplCatalogue is a small copy of the Proxmox appliance index.
func aplCatalogue() []appliance {
	return []appliance{
		{"debian-12-standard_12.12-1_amd64.tar.zst", "debian-12-standard", "12.12-1", "debian-12", "system", "Debian 12 Bookworm (standard)"},
		{"debian-13-standard_13.1-2_amd64.tar.zst", "debian-13-standard", "13.1-2", "debian-13", "system", "Debian 13 Trixie (standard)"},
		{"ubuntu-24.04-standard_24.04-2_amd64.tar.zst", "ubuntu-24.04-standard", "24.04-2", "ubuntu-24.04", "system", "Ubuntu 24.04 Noble (standard)"},
		{"ubuntu-22.04-standard_22.04-1_amd64.tar.zst", "ubuntu-22.04-standard", "22.04-1", "ubuntu-22.04", "system", "Ubuntu 22.04 Jammy (standard)"},
		{"alpine-3.22-default_20250617_amd64.tar.xz", "alpine-3.22-default", "20250617", "alpine-3.22", "system", "Alpine Linux 3.22 (default)"},
		{"fedora-42-default_20250428_amd64.tar.xz", "fedora-42-default", "20250428", "fedora-42", "system", "Fedora 42 (default)"},
		{"archlinux-base_20240911-1_amd64.tar.zst", "archlinux-base", "20240911-1", "archlinux", "system", "ArchLinux base image"},
		{"rockylinux-9-default_20240912_amd64.tar.xz", "rockylinux-9-default", "20240912", "rockylinux-9", "system", "Rocky Linux 9 (default)"},
		{"debian-12-turnkey-wordpress_18.1-1_amd64.tar.gz", "turnkey-wordpress", "18.1-1", "debian-12", "turnkeylinux", "TurnKey WordPress"},
		{"debian-12-turnkey-nextcloud_18.1-1_amd64.tar.gz", "turnkey-nextcloud", "18.1-1", "debian-12", "turnkeylinux", "TurnKey Nextcloud"},
	}
}

func (a appliance) source() string {
	if a.section == "turnkeylinux" {
		return "https://releases.turnkeylinux.org/pve"
	}
	return "http://download.proxmox.com/images"
}

func (a appliance) location() string {
	if a.section == "turnkeylinux" {
		return a.source() + "/" + a.template
	}
	return a.source() + "/system/" + a.template
}

// row is the /aplinfo object: every value a string.
func (a appliance) row() map[string]any {
	md := md5.Sum([]byte(a.template))
	sh := sha512.Sum512([]byte(a.template))
	maint := "Proxmox Support Team <support@proxmox.com>"
	if a.section == "turnkeylinux" {
		maint = "Turnkey Linux <support@turnkeylinux.org>"
	}
	row := map[string]any{
		"template": a.template, "package": a.pkg, "version": a.version, "type": "lxc", "os": a.os,
		"section": a.section, "headline": a.headline,
		"description": a.headline + ". " + strings.Repeat("A small, ready-to-use container template. ", 2),
		"infopage":    "https://pve.proxmox.com/wiki/Linux_Container#pct_supported_distributions",
		"location":    a.location(), "source": a.source(), "maintainer": maint, "architecture": "amd64",
		"md5sum": hex.EncodeToString(md[:]), "sha512sum": hex.EncodeToString(sh[:]),
	}
	if a.section == "turnkeylinux" {
		row["manageurl"] = "https://__IPADDRESS__/"
	}
	return row
}
