package pvesim

import (
	"fmt"
	"hash/fnv"
)

// Scale describes a large estate for load tests and benchmarks: Clusters
// corosync clusters of NodesPerCluster nodes each, plus Standalone
// standalone nodes, every node holding GuestsPerNode guests. For example
// Scale{Clusters: 5, NodesPerCluster: 8, Standalone: 10, GuestsPerNode: 100}
// is 50 nodes and 5,000 guests.
type Scale struct {
	Clusters        int
	NodesPerCluster int
	Standalone      int
	GuestsPerNode   int
}

// scaleClusterNames are the first cluster names; more clusters get numbered ones.
var scaleClusterNames = []string{"homelab", "garage", "attic", "office", "rack", "basement", "shed", "lab"}

// scaleServices are what home labs run, with the tags people give them.
var scaleServices = []struct{ name, tags string }{
	{"pihole", "dns;infra"}, {"adguard", "dns;infra"}, {"unbound", "dns"}, {"traefik", "proxy;infra"},
	{"nginx", "web"}, {"caddy", "proxy;web"}, {"nextcloud", "cloud;web"}, {"jellyfin", "media"},
	{"plex", "media"}, {"sonarr", "arr;media"}, {"radarr", "arr;media"}, {"prowlarr", "arr"},
	{"qbittorrent", "media"}, {"immich", "photos"}, {"paperless", "docs"}, {"gitea", "dev"},
	{"forgejo", "dev"}, {"vaultwarden", "security"}, {"grafana", "monitoring"}, {"prometheus", "monitoring"},
	{"loki", "monitoring"}, {"influxdb", "db;monitoring"}, {"mosquitto", "iot;mqtt"}, {"zigbee2mqtt", "iot"},
	{"nodered", "iot"}, {"postgres", "db"}, {"mariadb", "db"}, {"redis", "db"},
	{"minio", "storage"}, {"syncthing", "storage"}, {"wireguard", "vpn"}, {"tailscale", "vpn"},
	{"uptime-kuma", "monitoring"}, {"homepage", "web"}, {"frigate", "cctv;media"}, {"mealie", ""},
	{"wikijs", "docs"}, {"bookstack", "docs"}, {"ntfy", ""}, {"gotify", ""},
}

// scaleVMs are the QEMU VMs that sit between the containers.
var scaleVMs = []string{"win11", "truenas", "haos", "opnsense", "debian-desktop", "k3s-master"}

// Options returns the estate as Options: cluster names from "homelab" on
// with nodes "<cluster>-pve01"…, standalone nodes "solo-pve01"…, and per
// estate VMIDs from 100 with the odd gap, guests dealt round-robin over the
// estate's nodes. About 1 in 20 guests is a QEMU VM, 1 in 97 a template,
// about 70% run; names, tags, cores, memory and disks vary realistically
// and deterministically. It carries the Corral token of DemoOptions
// (DemoTokenID / DemoTokenSecret, CorralACL). Tasks run the default
// 300ms; change any field before New.
func (sc Scale) Options() Options {
	opts := Options{
		Seed: 1,
		Tokens: []TokenSpec{{
			User: "corral@pve", ID: "corral", Secret: DemoTokenSecret,
			Privsep: true, Privileges: CorralACL(),
		}},
	}
	for c := range sc.Clusters {
		name := fmt.Sprintf("cluster%02d", c+1)
		if c < len(scaleClusterNames) {
			name = scaleClusterNames[c]
		}
		spec := ClusterSpec{Name: name}
		for i := range sc.NodesPerCluster {
			spec.Nodes = append(spec.Nodes, fmt.Sprintf("%s-pve%02d", name, i+1))
		}
		opts.Clusters = append(opts.Clusters, spec)
		opts.Guests = append(opts.Guests, scaleGuests(name, spec.Nodes, sc.GuestsPerNode)...)
	}
	for i := range sc.Standalone {
		name := fmt.Sprintf("solo-pve%02d", i+1)
		opts.Standalone = append(opts.Standalone, name)
		opts.Guests = append(opts.Guests, scaleGuests(name, []string{name}, sc.GuestsPerNode)...)
	}
	return opts
}

// scaleGuests deals perNode guests to each of nodes, VMIDs unique in the estate.
func scaleGuests(estate string, nodes []string, perNode int) []GuestSpec {
	total := perNode * len(nodes)
	out := make([]GuestSpec, 0, total)
	for k := range total {
		h := scaleHash(estate, k)
		g := GuestSpec{
			Node:      nodes[k%len(nodes)],
			VMID:      100 + k + k/9, // the odd gap, as deleted guests leave
			Running:   h%10 < 7,
			Cores:     1 << (h >> 4 % 3),
			MemoryMiB: 256 << (h >> 8 % 5),
			DiskGiB:   []int{2, 4, 8, 8, 16, 32}[h>>12%6],
		}
		switch {
		case k%20 == 19:
			g.Type = QEMU
			g.Name = fmt.Sprintf("%s-%d", scaleVMs[h>>16%uint32(len(scaleVMs))], k/20+1)
			g.MemoryMiB *= 4
			g.DiskGiB *= 4
		case k%97 == 96:
			g.Name, g.Template, g.Running, g.Tags = fmt.Sprintf("debian-base-%d", k/97+1), true, false, "template"
		default:
			svc := scaleServices[h>>16%uint32(len(scaleServices))]
			g.Name, g.Tags = fmt.Sprintf("%s-%02d", svc.name, k%100), svc.tags
		}
		out = append(out, g)
	}
	return out
}

func scaleHash(estate string, k int) uint32 {
	f := fnv.New32a()
	fmt.Fprintf(f, "%s/%d", estate, k)
	return f.Sum32()
}
