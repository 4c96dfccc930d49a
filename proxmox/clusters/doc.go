// Package clusters reads a user's Proxmox clusters through the nodes the
// user registered. Clients opens a node's API with its pinned trust and
// shares one client per node's settings; Reader reads /cluster/resources
// once per cluster, asking its members in turn under one deadline policy;
// VMIDs keeps the VMID cache from those reads. The dashboard, the SSH
// gateway's container list and the VMID checks all read clusters here,
// and nowhere else: this is where concurrent reads of one cluster are to
// be shared.
//
// A sub-package of proxmox, it imports store for the node records; the
// proxmox package itself imports nothing of Corral.
package clusters
