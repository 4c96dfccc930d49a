package guest

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// unitDirs are searched in systemd's order of precedence.
func unitDirs() []string {
	return []string{"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}
}

// unitFile is the part of a unit file the sandbox acts on.
type unitFile struct {
	name, path, desc, exec string
	env                    map[string]string
}

// unitName adds ".service" to a bare name, as systemctl does.
func unitName(n string) string {
	for _, suffix := range []string{".service", ".socket", ".timer", ".target", ".mount", ".path"} {
		if strings.HasSuffix(n, suffix) {
			return n
		}
	}
	return n + ".service"
}

func loadUnit(v *vfs, name string) (*unitFile, bool) {
	for _, d := range unitDirs() {
		b, err := v.ReadFile(d + "/" + name)
		if err != nil {
			continue
		}
		u := &unitFile{name: name, path: d + "/" + name, env: map[string]string{}}
		for _, line := range strings.Split(string(b), "\n") {
			key, val, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok {
				continue
			}
			switch strings.TrimSpace(key) {
			case "Description":
				u.desc = strings.TrimSpace(val)
			case "ExecStart":
				if u.exec == "" {
					u.exec = strings.TrimSpace(val)
				}
			case "Environment":
				for _, kv := range splitEnvironment(val) {
					if k, v, ok := strings.Cut(kv, "="); ok {
						u.env[k] = v
					}
				}
			}
		}
		if u.desc == "" {
			u.desc = name
		}
		return u, true
	}
	return nil, false
}

// splitEnvironment splits an Environment= value into assignments, honouring
// double quotes around each one.
func splitEnvironment(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// allUnitFiles lists unit names found on disk, sorted.
func allUnitFiles(v *vfs) []string {
	var names []string
	for _, d := range unitDirs() {
		ents, _ := v.ReadDir(d)
		for _, e := range ents {
			if e.Type()&fs.ModeType == 0 && strings.HasSuffix(e.Name(), ".service") && !slices.Contains(names, e.Name()) {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names)
	return names
}

// unitListen decides what a started unit listens on: the catalogue for a
// package's unit, else Environment=PORT=N, else --port/-p in ExecStart.
func unitListen(u *unitFile) []listen {
	if spec, ok := catalogueUnit(u.name); ok {
		return spec.listen
	}
	if port, err := strconv.Atoi(u.env["PORT"]); err == nil && port > 0 {
		return []listen{{"0.0.0.0", port}}
	}
	if m := regexp.MustCompile(`(?:--port[= ]|-p )(\d+)`).FindStringSubmatch(u.exec); m != nil {
		port, _ := strconv.Atoi(m[1])
		return []listen{{"0.0.0.0", port}}
	}
	return nil
}

// execBinary is the program of an ExecStart line, without systemd's
// prefixes (-, @, +, !).
func execBinary(exec string) string {
	f := strings.Fields(exec)
	if len(f) == 0 {
		return ""
	}
	return strings.TrimLeft(f[0], "-@+!:")
}

// startUnit starts a unit, recording it in the journal. It reports whether
// the unit is running afterwards. Called inside update.
func (g *Guest) startUnit(v *vfs, st *state, name string) bool {
	u, ok := loadUnit(v, name)
	if !ok {
		return false
	}
	us := st.unit(name)
	if us.Active == "active" {
		return true
	}
	now := g.now()
	st.log(now, name, "systemd", 1, fmt.Sprintf("Starting %s - %s...", name, u.desc))
	bin := execBinary(u.exec)
	fi, err := v.Stat(bin)
	if bin == "" || err != nil || !fi.Mode().IsRegular() || !strings.HasPrefix(bin, "/") {
		pid := st.pid()
		reason := "No such file or directory"
		if bin == "" {
			reason = "Missing ExecStart="
		}
		st.log(now, name, "("+baseName(bin)+")", pid, fmt.Sprintf("%s: Failed to locate executable %s: %s", name, bin, reason))
		st.log(now, name, "("+baseName(bin)+")", pid, fmt.Sprintf("%s: Failed at step EXEC spawning %s: %s", name, bin, reason))
		st.log(now, name, "systemd", 1, fmt.Sprintf("%s: Main process exited, code=exited, status=203/EXEC", name))
		st.log(now, name, "systemd", 1, fmt.Sprintf("%s: Failed with result 'exit-code'.", name))
		st.log(now, name, "systemd", 1, fmt.Sprintf("Failed to start %s - %s.", name, u.desc))
		us.Active, us.PID, us.Listen, us.Since = "failed", 0, nil, now
		return false
	}
	us.Active, us.PID, us.Proc, us.Listen, us.Since = "active", st.pid(), baseName(bin), unitListen(u), now
	for _, l := range us.Listen {
		st.log(now, name, us.Proc, us.PID, fmt.Sprintf("listening on %s:%d", l.Addr, l.Port))
	}
	st.log(now, name, "systemd", 1, fmt.Sprintf("Started %s - %s.", name, u.desc))
	return true
}

// stopUnit stops a running unit. Called inside update.
func (g *Guest) stopUnit(st *state, name string) {
	us, ok := st.Units[name]
	if !ok || us.Active != "active" {
		if ok && us.Active == "failed" {
			us.Active = "inactive"
		}
		return
	}
	now := g.now()
	st.log(now, name, "systemd", 1, fmt.Sprintf("Stopping %s...", name))
	st.log(now, name, "systemd", 1, fmt.Sprintf("%s: Deactivated successfully.", name))
	st.log(now, name, "systemd", 1, fmt.Sprintf("Stopped %s.", name))
	us.Active, us.PID, us.Listen, us.Since = "inactive", 0, nil, now
}

// enableUnit links the unit into multi-user.target.wants and returns the
// link it created. Called inside update.
func (g *Guest) enableUnit(v *vfs, st *state, name string) string {
	u, ok := loadUnit(v, name)
	if !ok {
		return ""
	}
	st.unit(name).Enabled = true
	link := "/etc/systemd/system/multi-user.target.wants/" + name
	if _, err := v.Lstat(link); err == nil {
		return ""
	}
	v.MkdirAll(dirName(link), 0o755)
	if v.Symlink(u.path, link) != nil {
		return ""
	}
	return link + " → " + u.path
}
