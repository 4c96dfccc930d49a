package guest

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// journalFor returns the entries of the given units, or all entries.
func journalFor(st *state, units []string) []journalEntry {
	if len(units) == 0 {
		return slices.Clone(st.Journal)
	}
	var out []journalEntry
	for _, e := range st.Journal {
		if slices.Contains(units, e.Unit) {
			out = append(out, e)
		}
	}
	return out
}

// formatShort renders an entry like journalctl -o short.
func formatShort(e journalEntry, host string) string {
	return fmt.Sprintf("%s %s %s[%d]: %s", e.Time.UTC().Format("Jan 02 15:04:05"), host, e.Ident, e.PID, e.Msg)
}

func cmdJournalctl(p *proc) int {
	f := parseFlags(p.args[1:], "-u", "--unit", "-n", "--lines", "-o", "--output", "-t", "--identifier", "-p", "--since", "-S")
	var units []string
	for i := 1; i < len(p.args); i++ {
		a := p.args[i]
		switch {
		case (a == "-u" || a == "--unit") && i+1 < len(p.args):
			i++
			units = append(units, unitName(p.args[i]))
		case strings.HasPrefix(a, "--unit="):
			units = append(units, unitName(strings.TrimPrefix(a, "--unit=")))
		case strings.HasPrefix(a, "-u") && len(a) > 2:
			units = append(units, unitName(a[2:]))
		}
	}
	follow := f.has("-f", "--follow")
	n := -1
	if v, ok := f.get("-n", "--lines"); ok {
		if v == "all" {
			n = -1
		} else if k, err := strconv.Atoi(v); err == nil {
			n = k
		}
	} else if f.has("-e", "--pager-end") {
		n = 1000
	} else if follow {
		n = 10 // journalctl -f starts with the last ten lines
	}
	output, _ := f.get("-o", "--output")
	print := func(e journalEntry) {
		switch output {
		case "cat":
			fmt.Fprintln(p.out, e.Msg)
		case "short-iso":
			fmt.Fprintf(p.out, "%s %s %s[%d]: %s\n", e.Time.UTC().Format("2006-01-02T15:04:05-0700"), p.s.g.hostname, e.Ident, e.PID, e.Msg)
		default:
			fmt.Fprintln(p.out, formatShort(e, p.s.g.hostname))
		}
	}
	var entries []journalEntry
	p.s.g.view(func(st *state) { entries = journalFor(st, units) })
	if n >= 0 && len(entries) > n {
		entries = entries[len(entries)-n:]
	}
	if len(entries) == 0 && output != "cat" && !follow {
		fmt.Fprintln(p.out, "-- No entries --")
	}
	for _, e := range entries {
		print(e)
	}
	if !follow {
		return 0
	}
	// Follow: print what other commands log until the command is interrupted.
	var last *journalEntry
	if len(entries) > 0 {
		last = &entries[len(entries)-1]
	}
	for p.sleep(followPoll) {
		var all []journalEntry
		p.s.g.view(func(st *state) { all = journalFor(st, units) })
		// Everything after the last line printed; if the journal's cap
		// dropped that line, everything it still holds is newer.
		start := 0
		for i := len(all) - 1; last != nil && i >= 0; i-- {
			if all[i].same(*last) {
				start = i + 1
				break
			}
		}
		for i := start; i < len(all); i++ {
			print(all[i])
			last = &all[i]
		}
	}
	return 130
}

// followPoll is how often journalctl -f looks for new entries.
const followPoll = 50 * time.Millisecond

func (e journalEntry) same(o journalEntry) bool {
	return e.Time.Equal(o.Time) && e.Unit == o.Unit && e.Ident == o.Ident && e.PID == o.PID && e.Msg == o.Msg
}

// socket is one listening TCP socket of a running unit.
type socket struct {
	listen
	proc string
	pid  int
	fd   int
}

func (s *session) sockets() []socket {
	var out []socket
	s.g.view(func(st *state) {
		for _, u := range st.Units {
			if u.Active != "active" {
				continue
			}
			for i, l := range u.Listen {
				out = append(out, socket{l, u.Proc, u.PID, 6 + i})
			}
		}
	})
	slices.SortFunc(out, func(a, b socket) int {
		if a.Port != b.Port {
			return a.Port - b.Port
		}
		return strings.Compare(a.Addr, b.Addr)
	})
	return out
}

// cmdSs answers `ss -tlnp` and friends in iproute2's column layout.
func cmdSs(p *proc) int {
	f := parseFlags(p.args[1:])
	showProc := f.has("-p", "--processes")
	noHeader := f.has("-H", "--no-header")
	only4, only6 := f.has("-4", "--ipv4"), f.has("-6", "--ipv6")
	if f.has("-u", "--udp") && !f.has("-t", "--tcp") {
		if !noHeader {
			fmt.Fprintln(p.out, "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process")
		}
		return 0
	}
	if !noHeader {
		fmt.Fprintf(p.out, "%-6s %-6s %-6s %20s:%-5s %20s:%-5s%s\n", "State", "Recv-Q", "Send-Q", "Local Address", "Port", "Peer Address", "Port", "Process")
	}
	for _, s := range p.s.sockets() {
		v6 := strings.HasPrefix(s.Addr, "[") || s.Addr == "*"
		if only4 && v6 || only6 && !v6 {
			continue
		}
		peer := "0.0.0.0"
		if strings.HasPrefix(s.Addr, "[") {
			peer = "[::]"
		} else if s.Addr == "*" {
			peer = "*"
		}
		backlog := 128
		if s.proc == "nginx" || s.proc == "apache2" {
			backlog = 511
		}
		line := fmt.Sprintf("%-6s %-6d %-6d %20s:%-5d %20s:%-5s", "LISTEN", 0, backlog, s.Addr, s.Port, peer, "*")
		if showProc {
			line += fmt.Sprintf(`users:(("%s",pid=%d,fd=%d))`, s.proc, s.pid, s.fd)
		}
		fmt.Fprintln(p.out, strings.TrimRight(line, " "))
	}
	return 0
}

func (s *session) address() string {
	var addr string
	s.g.view(func(st *state) { addr = st.Address })
	return addr
}

func cmdIP(p *proc) int {
	args := p.args[1:]
	oneLine := false
	var rest []string
	for _, a := range args {
		switch a {
		case "-4", "-br", "-brief":
		case "-o", "-oneline":
			oneLine = true
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) == 0 || !strings.HasPrefix("address", rest[0]) && rest[0] != "a" {
		if len(rest) > 0 && strings.HasPrefix("route", rest[0]) {
			pfx, err := netip.ParsePrefix(p.s.address())
			if err == nil {
				gw := pfx.Masked().Addr().Next()
				fmt.Fprintf(p.out, "default via %s dev eth0 onlink\n%s dev eth0 proto kernel scope link src %s\n", gw, pfx.Masked(), pfx.Addr())
			}
			return 0
		}
		fmt.Fprintln(p.err, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }")
		return 255
	}
	global := slices.Contains(rest, "global")
	addr := p.s.address()
	brd := ""
	if pfx, err := netip.ParsePrefix(addr); err == nil && pfx.Addr().Is4() {
		b := pfx.Masked().Addr().As4()
		bits := pfx.Bits()
		for i := bits; i < 32; i++ {
			b[i/8] |= 1 << (7 - i%8)
		}
		brd = netip.AddrFrom4(b).String()
	}
	if oneLine {
		if !global {
			fmt.Fprintln(p.out, `1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever`)
		}
		fmt.Fprintf(p.out, "2: eth0    inet %s brd %s scope global eth0\\       valid_lft forever preferred_lft forever\n", addr, brd)
		return 0
	}
	if !global {
		fmt.Fprint(p.out, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n")
	}
	fmt.Fprintf(p.out, "2: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000 link-netnsid 0\n    inet %s brd %s scope global eth0\n       valid_lft forever preferred_lft forever\n", addr, brd)
	return 0
}

// cmdNetwork stands in for curl and wget: the sandbox has no network.
func cmdNetwork(p *proc) int {
	host := "the host"
	for _, a := range p.args[1:] {
		if !strings.HasPrefix(a, "-") && strings.Contains(a, ".") || strings.Contains(a, "://") {
			host = a
			break
		}
	}
	if strings.Contains(host, "://") {
		host = strings.SplitN(strings.SplitN(host, "://", 2)[1], "/", 2)[0]
	}
	if p.name() == "wget" {
		fmt.Fprintf(p.err, "wget: unable to resolve host address '%s': Network is unreachable\n", host)
		return 4
	}
	fmt.Fprintf(p.err, "curl: (7) Failed to connect to %s: Network is unreachable\n", host)
	return 7
}
