package store

import (
	"encoding/json"
	"fmt"
)

// Service is one service found in a container: a systemd unit, or
// credentials a script saved that belong to no unit (Unit and Status "").
// Jobs keep the services their discovery found; the newest discovery of
// a container is its EventServices event.
type Service struct {
	Name   string // unit name without ".service", or a credential file's name
	Unit   string // full unit name; "" for credentials that belong to no unit
	Status string // running, stopped (an installed unit that does not run), or ""
	Ports  []int  // listening TCP ports (IPv4 or IPv6, not loopback), ascending
	System bool   // part of the OS rather than an application
	// CredentialKeys names the keys of the service's credential file; the
	// values are only read on demand, never kept.
	CredentialKeys []string
	// CredentialFile is that file's name in the container's credential
	// directory: the unit's name, or the name a script saved them under
	// (redis for redis-server).
	CredentialFile string
}

// An EventServices event's Data holds the services (EncodeServices) under
// ServicesDataKey and the container's address under ServicesIPKey, so
// pages show services without opening SSH.
const (
	ServicesDataKey = "services"
	ServicesIPKey   = "ip"
)

// EncodeServices serialises services for an event's Data.
func EncodeServices(svcs []Service) string {
	b, _ := json.Marshal(svcs) // plain structs of strings and ints
	return string(b)
}

// DecodeServices reads what EncodeServices wrote.
func DecodeServices(s string) ([]Service, error) {
	var svcs []Service
	if err := json.Unmarshal([]byte(s), &svcs); err != nil {
		return nil, fmt.Errorf("store: decode services: %w", err)
	}
	return svcs, nil
}
