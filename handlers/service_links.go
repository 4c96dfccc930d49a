package handlers

import (
	"net"
	"strconv"
	"strings"
)

// Which listening ports get a web link. Discovery only knows the port and
// the unit, so the protocol is inferred: SSH gets a command line, known
// non-web protocols their address, HTTPS ports an https link, and any
// other port (self-hosted web apps listen almost anywhere) an http link.
var (
	httpsPorts = map[int]bool{443: true, 8006: true, 8443: true, 9443: true, 10443: true}
	plainPorts = map[int]bool{
		21: true, 23: true, 25: true, 53: true, 110: true, 111: true, 123: true, 139: true, 143: true,
		389: true, 445: true, 465: true, 514: true, 587: true, 636: true, 853: true, 993: true, 995: true,
		1194: true, 1433: true, 1883: true, 2049: true, 3306: true, 3389: true, 5353: true, 5432: true,
		5672: true, 5900: true, 6379: true, 8883: true, 9092: true, 11211: true, 25565: true, 27017: true,
	}
	plainServices = map[string]bool{
		"postfix": true, "exim4": true, "dovecot": true, "mariadb": true, "mysql": true, "postgresql": true,
		"redis-server": true, "redis": true, "mosquitto": true, "dnsmasq": true, "named": true, "bind9": true,
		"unbound": true, "smbd": true, "nmbd": true, "nfs-server": true, "rpcbind": true, "chrony": true,
		"ntp": true, "vsftpd": true, "proftpd": true, "memcached": true, "rabbitmq-server": true, "mongod": true,
		"openvpn": true, "rsync": true,
	}
	sshServices = map[string]bool{"ssh": true, "sshd": true, "dropbear": true}
)

// portAccess says how to reach a service's port at ip: a web URL, or, for
// other protocols, a text to show (an ssh command or the address). Both
// are empty when the address is unknown.
func portAccess(ip, service string, port int) (link, text string) {
	if ip == "" {
		return "", ""
	}
	unit := strings.TrimSuffix(service, ".service")
	hostPort := net.JoinHostPort(ip, strconv.Itoa(port))
	switch {
	case port == 22 || sshServices[unit]:
		if port == 22 {
			return "", "ssh " + ip
		}
		return "", "ssh -p " + strconv.Itoa(port) + " " + ip
	case plainPorts[port] || plainServices[unit]:
		return "", hostPort
	case httpsPorts[port]:
		return "https://" + hostPort, ""
	}
	return "http://" + hostPort, ""
}
