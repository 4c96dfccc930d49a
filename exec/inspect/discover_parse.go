package inspect

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"corral/store"
)

// systemUnits are services of the OS itself; the UI folds them away.
var systemUnits = []string{
	"console-getty", "cron", "dbus", "networking", "postfix", "ssh", "sshd", "containerd", "docker",
	"rsyslog", "systemd-journald", "systemd-logind", "systemd-networkd", "systemd-resolved",
}

var systemPrefixes = []string{"systemd-", "container-getty@", "getty@", "serial-getty@", "user@", "postfix@"}

// IsSystemService reports whether name (without ".service") is part of the
// OS rather than an application.
func IsSystemService(name string) bool {
	if slices.Contains(systemUnits, name) {
		return true
	}
	for _, p := range systemPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// parseDiscovery merges the sections of discoverScript's output.
func parseDiscovery(out string) []store.Service {
	sec := splitSections(out)
	ports := ParseListeners(sec[markSS])
	pids := parsePIDs(sec[markPIDs])

	var svcs []store.Service
	for _, unit := range ParseUnits(sec[markUnits]) {
		name := strings.TrimSuffix(unit, ".service")
		s := store.Service{Name: name, Unit: unit, Status: "running", System: IsSystemService(name)}
		// The first PID of the unit's tree that listens wins: the main
		// process, else a child (a wrapper's server).
		for _, pid := range pids[unit] {
			if p := ports[pid]; len(p) > 0 {
				s.Ports = p
				break
			}
		}
		svcs = append(svcs, s)
	}
	svcs = placeCredentials(svcs, ParseUnits(sec[markFiles]), parseCredentialFiles(sec[markCreds]))
	SortServices(svcs)
	return svcs
}

// placeCredentials gives each credential file (save_credential SERVICE ...)
// to the unit it belongs to. SERVICE should be the unit's name, but scripts
// often use the package's (redis for redis-server), so first every file
// goes to the running unit of its name or an instance of it
// (code-server@coder), else an installed unit of its name (shown stopped);
// then a file still left goes to a unit of its family (the name followed
// by "-", "@", "." or a digit, e.g. redis-server, php8.2-fpm), running
// ones first. A file that belongs to no unit stays what it is, credentials
// saved in the container, never a made-up stopped service.
func placeCredentials(svcs []store.Service, installed []string, creds map[string][]string) []store.Service {
	files := slices.Sorted(maps.Keys(creds))
	give := func(i int, file string) {
		svcs[i].CredentialKeys, svcs[i].CredentialFile = creds[file], file
		delete(creds, file)
	}
	// stopped adds an installed unit that does not run, or finds it.
	stopped := func(unit string) int {
		name := strings.TrimSuffix(unit, ".service")
		if i := slices.IndexFunc(svcs, func(s store.Service) bool { return s.Unit == unit }); i >= 0 {
			return i
		}
		svcs = append(svcs, store.Service{Name: name, Unit: unit, Status: "stopped", System: IsSystemService(name)})
		return len(svcs) - 1
	}
	free := func(s store.Service) bool { return s.CredentialFile == "" }

	for _, file := range files {
		if i := slices.IndexFunc(svcs, func(s store.Service) bool { return free(s) && s.Name == file }); i >= 0 {
			give(i, file)
		} else if i := slices.IndexFunc(svcs, func(s store.Service) bool { return free(s) && instanceOf(s.Name) == file }); i >= 0 {
			give(i, file)
		} else if slices.Contains(installed, file+".service") {
			give(stopped(file+".service"), file)
		}
	}
	for _, file := range files {
		if _, left := creds[file]; !left {
			continue
		}
		best := -1
		for i, s := range svcs {
			if free(s) && !s.System && s.Status == "running" && inFamily(s.Name, file) && (best < 0 || betterFamily(s, svcs[best])) {
				best = i
			}
		}
		if best >= 0 {
			give(best, file)
			continue
		}
		var units []string
		for _, u := range installed {
			name := strings.TrimSuffix(u, ".service")
			if !strings.Contains(name, "@") && !IsSystemService(name) && inFamily(name, file) &&
				!slices.ContainsFunc(svcs, func(s store.Service) bool { return s.Unit == u && !free(s) }) {
				units = append(units, u)
			}
		}
		if len(units) > 0 {
			slices.SortFunc(units, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) })
			give(stopped(units[0]), file)
		}
	}
	for _, file := range slices.Sorted(maps.Keys(creds)) {
		svcs = append(svcs, store.Service{Name: file, CredentialKeys: creds[file], CredentialFile: file})
	}
	return svcs
}

// instanceOf is the template a unit instance comes from (code-server for
// code-server@coder), or "".
func instanceOf(name string) string {
	if t, _, ok := strings.Cut(name, "@"); ok {
		return t
	}
	return ""
}

// inFamily reports whether unit name is of the family of credential file
// name: file, then "-", "@", "." or a digit (redis-server for redis).
func inFamily(name, file string) bool {
	if len(name) <= len(file) || !strings.HasPrefix(name, file) {
		return false
	}
	c := name[len(file)]
	return c == '-' || c == '@' || c == '.' || c >= '0' && c <= '9'
}

// betterFamily prefers a unit that listens, then the shorter name.
func betterFamily(a, b store.Service) bool {
	if (len(a.Ports) > 0) != (len(b.Ports) > 0) {
		return len(a.Ports) > 0
	}
	return cmp.Or(cmp.Compare(len(a.Name), len(b.Name)), cmp.Compare(a.Name, b.Name)) < 0
}

// SortServices orders application services before system ones, by name.
func SortServices(svcs []store.Service) {
	slices.SortFunc(svcs, func(a, b store.Service) int {
		if a.System != b.System {
			if a.System {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// splitSections cuts the probe's output at its markers; each section is a
// slice of out, so a large output is not copied again.
func splitSections(out string) map[string]string {
	sec := map[string]string{}
	cur, start, pos := "", 0, 0
	for line := range strings.Lines(out) {
		switch t := strings.TrimRight(line, "\r\n"); t {
		case markUnits, markFiles, markSS, markPIDs, markCreds:
			if cur != "" {
				sec[cur] = out[start:pos]
			}
			cur, start = t, pos+len(line)
		}
		pos += len(line)
	}
	if cur != "" {
		sec[cur] = out[start:]
	}
	return sec
}

// ParseUnits reads `systemctl list-units --no-legend` output (with or
// without --plain) and returns the service unit names in order.
func ParseUnits(out string) []string {
	var units []string
	for line := range strings.Lines(out) {
		// A failed unit is marked with a bullet; --plain drops it.
		line = strings.TrimLeft(line, " \t●*")
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasSuffix(f[0], ".service") {
			continue
		}
		if ValidServiceName(f[0]) != nil || slices.Contains(units, f[0]) {
			continue
		}
		units = append(units, f[0])
	}
	return units
}

// ParseListeners reads `ss -tlnp` output and maps each listening process id
// to its TCP ports, ascending and without duplicates. Listeners bound only to
// loopback are left out: nobody outside the container can open them. Local
// addresses may be 0.0.0.0:P, *:P, [::]:P, :::P, [addr]:P or addr%dev:P.
func ParseListeners(out string) map[int][]int {
	m := map[int][]int{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] == "State" || f[0] == "Netid" {
			continue
		}
		local := f[3]
		if f[0] == "tcp" && len(f) >= 6 { // ss -a prints Netid first
			local = f[4]
		}
		port, ok := listenPort(local)
		if !ok {
			continue
		}
		for _, pid := range processPIDs(line) {
			if !slices.Contains(m[pid], port) {
				m[pid] = append(m[pid], port)
				slices.Sort(m[pid])
			}
		}
	}
	return m
}

// listenPort returns the port of a non-loopback local address.
func listenPort(addr string) (int, bool) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return 0, false
	}
	host, ps := addr[:i], addr[i+1:]
	port, err := strconv.Atoi(ps)
	if err != nil || port <= 0 || port > 65535 {
		return 0, false
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j] // 127.0.0.53%lo, fe80::1%eth0
	}
	switch host {
	case "", "*", "0.0.0.0", "::":
		return port, true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return 0, false
	}
	if ip.Unmap().IsLoopback() {
		return 0, false
	}
	return port, true
}

// processPIDs returns the pid=N values of ss's users:((...)) column.
func processPIDs(line string) []int {
	var pids []int
	for {
		i := strings.Index(line, "pid=")
		if i < 0 {
			return pids
		}
		line = line[i+4:]
		j := 0
		for j < len(line) && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(line[:j]); err == nil && n > 0 && !slices.Contains(pids, n) {
			pids = append(pids, n)
		}
		line = line[j:]
	}
}

// parsePIDs reads "UNIT MAINPID CHILD..." lines.
func parsePIDs(out string) map[string][]int {
	m := map[string][]int{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, s := range f[1:] {
			if n, err := strconv.Atoi(s); err == nil && n > 0 {
				m[f[0]] = append(m[f[0]], n)
			}
		}
	}
	return m
}

// parseCredentialFiles reads the credentials section: each file's name
// marker followed by its text. Only the keys are kept.
func parseCredentialFiles(out string) map[string][]string {
	m := map[string][]string{}
	name, start, pos := "", 0, 0
	flush := func() {
		if name == "" {
			return
		}
		var keys []string
		for _, c := range ParseCredentials(out[start:pos]) {
			keys = append(keys, c.Key)
		}
		if len(keys) > 0 {
			m[name] = keys
		}
	}
	for line := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(line, markFile); ok {
			flush()
			name = strings.TrimSpace(rest)
			if ValidServiceName(name) != nil {
				name = ""
			}
			start = pos + len(line)
		}
		pos += len(line)
	}
	flush()
	return m
}

// ParseCredentials reads KEY=VALUE lines: split at the first '=', both
// sides trimmed; lines without '=', with an empty key or starting with '#'
// are ignored. A repeated key keeps its last value, in first position.
func ParseCredentials(text string) []Credential {
	var out []Credential
	at := map[string]int{} // key -> index in out
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || strings.HasPrefix(line, "@@corral:") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			continue
		}
		if i, ok := at[k]; ok {
			out[i].Value = v
			continue
		}
		at[k] = len(out)
		out = append(out, Credential{Key: k, Value: v})
	}
	return out
}
