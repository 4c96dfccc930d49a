package guest

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

func cmdSystemctl(p *proc) int {
	f := parseFlags(p.args[1:], "-t", "--type", "--state", "-p", "--property", "-n", "--lines")
	sub := "list-units"
	args := f.args
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	units := make([]string, len(args))
	for i, a := range args {
		units[i] = unitName(a)
	}
	switch sub {
	case "daemon-reload", "daemon-reexec", "reset-failed":
		if sub == "reset-failed" {
			p.s.g.update(func(st *state) error {
				for _, u := range st.Units {
					if u.Active == "failed" {
						u.Active = "inactive"
					}
				}
				return nil
			})
		}
		return 0
	case "start", "stop", "restart", "reload", "try-restart", "reload-or-restart":
		return p.systemctlRun(sub, units)
	case "enable", "disable":
		return p.systemctlEnable(sub, units, f.has("--now"))
	case "is-active", "is-failed", "is-enabled":
		return p.systemctlIs(sub, units, f.has("-q", "--quiet"))
	case "status":
		return p.systemctlStatus(units)
	case "show":
		return p.systemctlShow(units, f)
	case "list-units":
		return p.systemctlListUnits(f)
	case "list-unit-files":
		return p.systemctlListUnitFiles(f)
	case "mask", "unmask":
		return 0
	}
	fmt.Fprintf(p.err, "Unknown command verb '%s'.\n", sub)
	return 1
}

func (p *proc) systemctlRun(verb string, units []string) int {
	if len(units) == 0 {
		fmt.Fprintf(p.err, "Too few arguments.\n")
		return 1
	}
	code := 0
	p.s.g.update(func(st *state) error {
		for _, name := range units {
			if _, ok := loadUnit(p.s.fs, name); !ok && verb != "stop" {
				fmt.Fprintf(p.err, "Failed to %s %s: Unit %s not found.\n", verb, name, name)
				code = 5
				continue
			}
			if verb == "stop" {
				if _, ok := st.Units[name]; !ok {
					if _, exists := loadUnit(p.s.fs, name); !exists {
						fmt.Fprintf(p.err, "Failed to stop %s: Unit %s not loaded.\n", name, name)
						code = 5
					}
					continue
				}
				p.s.g.stopUnit(st, name)
				continue
			}
			switch verb {
			case "start":
			case "try-restart":
				if st.unit(name).Active != "active" {
					continue
				}
				p.s.g.stopUnit(st, name)
			default:
				p.s.g.stopUnit(st, name)
			}
			if !p.s.g.startUnit(p.s.fs, st, name) {
				fmt.Fprintf(p.err, "Job for %s failed because the control process exited with error code.\nSee \"systemctl status %s\" and \"journalctl -xeu %s\" for details.\n", name, name, name)
				code = 1
			}
		}
		return nil
	})
	return code
}

func (p *proc) systemctlEnable(verb string, units []string, now bool) int {
	code := 0
	p.s.g.update(func(st *state) error {
		for _, name := range units {
			u, ok := loadUnit(p.s.fs, name)
			if !ok {
				fmt.Fprintf(p.err, "Failed to %s unit: Unit file %s does not exist.\n", verb, name)
				code = 1
				continue
			}
			if verb == "enable" {
				if link := p.s.g.enableUnit(p.s.fs, st, name); link != "" {
					fmt.Fprintf(p.err, "Created symlink %s.\n", link)
				}
				if now && !p.s.g.startUnit(p.s.fs, st, name) {
					fmt.Fprintf(p.err, "Job for %s failed because the control process exited with error code.\nSee \"systemctl status %s\" and \"journalctl -xeu %s\" for details.\n", name, name, name)
					code = 1
				}
				continue
			}
			st.unit(name).Enabled = false
			link := "/etc/systemd/system/multi-user.target.wants/" + u.name
			if p.s.fs.Remove(link) == nil {
				fmt.Fprintf(p.err, "Removed \"%s\".\n", link)
			}
			if now {
				p.s.g.stopUnit(st, name)
			}
		}
		return nil
	})
	return code
}

func (p *proc) systemctlIs(verb string, units []string, quiet bool) int {
	code := 0
	p.s.g.view(func(st *state) {
		for i, name := range units {
			_, exists := loadUnit(p.s.fs, name)
			u := st.Units[name]
			var answer string
			ok := false
			switch verb {
			case "is-active", "is-failed":
				answer = "inactive"
				if u != nil {
					answer = u.Active
				}
				ok = verb == "is-active" && answer == "active" || verb == "is-failed" && answer == "failed"
			case "is-enabled":
				if !exists {
					fmt.Fprintf(p.err, "Failed to get unit file state for %s: No such file or directory\n", name)
					code = 1
					continue
				}
				answer = "disabled"
				if u != nil && u.Enabled {
					answer, ok = "enabled", true
				}
			}
			if !quiet {
				fmt.Fprintln(p.out, answer)
			}
			if !ok && (i == 0 || code == 0) {
				code = 3
				if verb == "is-enabled" {
					code = 1
				}
			}
		}
	})
	return code
}

// activeDesc renders the Active: line of systemctl status.
func activeDesc(u *unitState, now time.Time) string {
	if u == nil {
		return "inactive (dead)"
	}
	since := " since " + u.Since.UTC().Format("Mon 2006-01-02 15:04:05 MST") + "; " + ago(now.Sub(u.Since)) + " ago"
	switch u.Active {
	case "active":
		return "active (running)" + since
	case "failed":
		return "failed (Result: exit-code)" + since
	}
	if u.Since.IsZero() {
		return "inactive (dead)"
	}
	return "inactive (dead)" + since
}

func ago(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dmin", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh", int(d.Hours()))
}

func (p *proc) systemctlStatus(units []string) int {
	code := 0
	now := p.s.g.now()
	p.s.g.view(func(st *state) {
		for i, name := range units {
			uf, ok := loadUnit(p.s.fs, name)
			if !ok {
				fmt.Fprintf(p.err, "Unit %s could not be found.\n", name)
				code = 4
				continue
			}
			if i > 0 {
				fmt.Fprintln(p.out)
			}
			u := st.Units[name]
			enabled := "disabled"
			if u != nil && u.Enabled {
				enabled = "enabled"
			}
			dot := "○"
			switch {
			case u != nil && u.Active == "active":
				dot = "●"
			case u != nil && u.Active == "failed":
				dot = "×"
			}
			fmt.Fprintf(p.out, "%s %s - %s\n", dot, name, uf.desc)
			fmt.Fprintf(p.out, "     Loaded: loaded (%s; %s; preset: enabled)\n", uf.path, enabled)
			fmt.Fprintf(p.out, "     Active: %s\n", activeDesc(u, now))
			if u != nil && u.Active == "active" {
				fmt.Fprintf(p.out, "   Main PID: %d (%s)\n", u.PID, u.Proc)
			}
			entries := journalFor(st, []string{name})
			if len(entries) > 10 {
				entries = entries[len(entries)-10:]
			}
			if len(entries) > 0 {
				fmt.Fprintln(p.out)
			}
			for _, e := range entries {
				fmt.Fprintln(p.out, formatShort(e, p.s.g.hostname))
			}
			if u == nil || u.Active != "active" {
				if code == 0 {
					code = 3
				}
			}
		}
	})
	return code
}

func (p *proc) systemctlShow(units []string, f flags) int {
	props, _ := f.get("-p", "--property")
	value := f.has("--value")
	p.s.g.view(func(st *state) {
		for _, name := range units {
			uf, loaded := loadUnit(p.s.fs, name)
			u := st.Units[name]
			if u == nil {
				u = &unitState{Active: "inactive"}
			}
			sub := map[string]string{"active": "running", "inactive": "dead", "failed": "failed"}[u.Active]
			all := [][2]string{
				{"Id", name}, {"MainPID", fmt.Sprint(u.PID)}, {"ExecMainPID", fmt.Sprint(u.PID)},
				{"ActiveState", u.Active}, {"SubState", sub}, {"LoadState", "not-found"},
				{"UnitFileState", map[bool]string{true: "enabled", false: "disabled"}[u.Enabled]},
			}
			if loaded {
				all[5][1] = "loaded"
				all = append(all, [2]string{"Description", uf.desc}, [2]string{"FragmentPath", uf.path})
			}
			for _, kv := range all {
				if props != "" && !slices.Contains(strings.Split(props, ","), kv[0]) {
					continue
				}
				if value {
					fmt.Fprintln(p.out, kv[1])
				} else {
					fmt.Fprintf(p.out, "%s=%s\n", kv[0], kv[1])
				}
			}
		}
	})
	return 0
}

func (p *proc) systemctlListUnits(f flags) int {
	if t, ok := f.get("-t", "--type"); ok && t != "service" {
		if !f.has("--no-legend") {
			fmt.Fprintln(p.out, "0 loaded units listed.")
		}
		return 0
	}
	stateFilter, hasFilter := f.get("--state")
	all := f.has("-a", "--all")
	type row struct{ unit, load, active, sub, desc string }
	var rows []row
	p.s.g.view(func(st *state) {
		names := allUnitFiles(p.s.fs)
		for n := range st.Units {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		for _, n := range names {
			u := st.Units[n]
			if u == nil {
				u = &unitState{Active: "inactive"}
			}
			sub := map[string]string{"active": "running", "inactive": "dead", "failed": "failed"}[u.Active]
			switch {
			case hasFilter:
				if !slices.ContainsFunc(strings.Split(stateFilter, ","), func(s string) bool { return s == u.Active || s == sub }) {
					continue
				}
			case !all && u.Active == "inactive":
				continue
			}
			r := row{n, "not-found", u.Active, sub, n}
			if uf, ok := loadUnit(p.s.fs, n); ok {
				r.load, r.desc = "loaded", uf.desc
			}
			rows = append(rows, r)
		}
	})
	legend := !f.has("--no-legend")
	plain := f.has("--plain")
	w := [4]int{len("UNIT"), len("LOAD"), len("ACTIVE"), len("SUB")}
	for _, r := range rows {
		for i, s := range []string{r.unit, r.load, r.active, r.sub} {
			w[i] = max(w[i], len(s))
		}
	}
	line := func(mark, unit, load, active, sub, desc string) {
		prefix := mark + " "
		if plain {
			prefix = ""
		}
		fmt.Fprintf(p.out, "%s%-*s %-*s %-*s %-*s %s\n", prefix, w[0], unit, w[1], load, w[2], active, w[3], sub, desc)
	}
	if legend {
		line(" ", "UNIT", "LOAD", "ACTIVE", "SUB", "DESCRIPTION")
	}
	for _, r := range rows {
		mark := " "
		if r.active == "failed" {
			mark = "●"
		}
		line(mark, r.unit, r.load, r.active, r.sub, r.desc)
	}
	if legend {
		fmt.Fprintf(p.out, "\nLOAD   = Reflects whether the unit definition was properly loaded.\nACTIVE = The high-level unit activation state, i.e. generalization of SUB.\nSUB    = The low-level unit activation state, values depend on unit type.\n\n%d loaded units listed.\n", len(rows))
	}
	return 0
}

func (p *proc) systemctlListUnitFiles(f flags) int {
	names := allUnitFiles(p.s.fs)
	var enabled map[string]bool
	p.s.g.view(func(st *state) {
		enabled = map[string]bool{}
		for n, u := range st.Units {
			enabled[n] = u.Enabled
		}
	})
	w := len("UNIT FILE")
	for _, n := range names {
		w = max(w, len(n))
	}
	legend := !f.has("--no-legend")
	if legend {
		fmt.Fprintf(p.out, "%-*s %-8s %s\n", w, "UNIT FILE", "STATE", "PRESET")
	}
	for _, n := range names {
		state := "disabled"
		if enabled[n] {
			state = "enabled"
		}
		fmt.Fprintf(p.out, "%-*s %-8s %s\n", w, n, state, "enabled")
	}
	if legend {
		fmt.Fprintf(p.out, "\n%d unit files listed.\n", len(names))
	}
	return 0
}
