package handlers_test

import (
	"time"

	"corral/exec/access"
	"corral/exec/gateway"
	"corral/handlers"
)

// withConsole gives the test server a browser console on the gateway's
// shared path, keeping it in *shells; tweak may change its config.
func withConsole(shells **gateway.Shells, tweak func(*gateway.ShellsConfig)) testDeps {
	return func(d *handlers.Deps) {
		// The idle timeout only guards against a hang.
		cfg := gateway.ShellsConfig{IdleTimeout: time.Minute, MaxSessionsPerUser: 10}
		if tweak != nil {
			tweak(&cfg)
		}
		s := gateway.NewShells(cfg, access.GatewayAuditor{Log: d.Audit})
		d.Console = s
		if shells != nil {
			*shells = s
		}
	}
}
