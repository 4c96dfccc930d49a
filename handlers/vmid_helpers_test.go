package handlers_test

import "corral/proxmox/pvesim"

// vmidCountResources counts /cluster/resources requests to the named nodes
// (a zero-delay latency fault changes nothing else).
func vmidCountResources(sim *pvesim.Sim, nodes ...string) func() int {
	for _, n := range nodes {
		sim.Node(n).Faults().Set(pvesim.Fault{Path: "/cluster/resources", Kind: pvesim.FaultLatency})
	}
	return func() int {
		total := 0
		for _, n := range nodes {
			total += sim.Node(n).Faults().Hits("/cluster/resources")
		}
		return total
	}
}
