package guest

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
)

const kernelRelease = "6.8.12-4-pve"

func cmdSleep(p *proc) int {
	var total time.Duration
	for _, a := range p.args[1:] {
		unit := time.Second
		switch {
		case strings.HasSuffix(a, "m"):
			unit = time.Minute
		case strings.HasSuffix(a, "h"):
			unit = time.Hour
		case strings.HasSuffix(a, "d"):
			unit = 24 * time.Hour
		}
		n, err := strconv.ParseFloat(strings.TrimRight(a, "smhd"), 64)
		if err != nil {
			return p.fail("invalid time interval '%s'", a)
		}
		total += time.Duration(n * float64(unit))
	}
	if !p.sleep(total) {
		return 130
	}
	return 0
}

// strftime implements the date(1) conversions scripts use.
func strftime(t time.Time, f string) string {
	r := strings.NewReplacer(
		"%Y", t.Format("2006"), "%m", t.Format("01"), "%d", t.Format("02"), "%e", t.Format("_2"),
		"%H", t.Format("15"), "%M", t.Format("04"), "%S", t.Format("05"), "%y", t.Format("06"),
		"%F", t.Format("2006-01-02"), "%T", t.Format("15:04:05"), "%s", strconv.FormatInt(t.Unix(), 10),
		"%Z", t.Format("MST"), "%z", t.Format("-0700"), "%a", t.Format("Mon"), "%A", t.Format("Monday"),
		"%b", t.Format("Jan"), "%B", t.Format("January"), "%N", fmt.Sprintf("%09d", t.Nanosecond()),
		"%%", "%", "%n", "\n",
	)
	return r.Replace(f)
}

func cmdDate(p *proc) int {
	t := p.s.g.now().UTC()
	for _, a := range p.args[1:] {
		switch {
		case strings.HasPrefix(a, "+"):
			fmt.Fprintln(p.out, strftime(t, a[1:]))
			return 0
		case a == "-I" || a == "--iso-8601":
			fmt.Fprintln(p.out, t.Format("2006-01-02"))
			return 0
		case strings.HasPrefix(a, "-Isec") || strings.HasPrefix(a, "--iso-8601=sec"):
			fmt.Fprintln(p.out, t.Format("2006-01-02T15:04:05-07:00"))
			return 0
		case a == "-R":
			fmt.Fprintln(p.out, t.Format(time.RFC1123Z))
			return 0
		}
	}
	fmt.Fprintln(p.out, t.Format("Mon Jan _2 15:04:05 MST 2006"))
	return 0
}

func cmdUname(p *proc) int {
	f := parseFlags(p.args[1:])
	host := p.s.g.hostname
	if f.has("-a", "--all") {
		fmt.Fprintf(p.out, "Linux %s %s #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z) x86_64 GNU/Linux\n", host, kernelRelease)
		return 0
	}
	var parts []string
	if f.has("-s") || len(f.set) == 0 {
		parts = append(parts, "Linux")
	}
	if f.has("-n") {
		parts = append(parts, host)
	}
	if f.has("-r") {
		parts = append(parts, kernelRelease)
	}
	if f.has("-m", "-p", "-i") {
		parts = append(parts, "x86_64")
	}
	if f.has("-o") {
		parts = append(parts, "GNU/Linux")
	}
	fmt.Fprintln(p.out, strings.Join(parts, " "))
	return 0
}

func cmdHostname(p *proc) int {
	f := parseFlags(p.args[1:])
	switch {
	case f.has("-I", "--all-ip-addresses"):
		ip, _, _ := strings.Cut(p.s.address(), "/")
		fmt.Fprintln(p.out, ip+" ")
	case f.has("-i", "--ip-address"):
		fmt.Fprintln(p.out, "127.0.1.1")
	case len(f.args) > 0:
		return p.fail("you must be root to change the host name")
	default:
		fmt.Fprintln(p.out, p.s.g.hostname)
	}
	return 0
}

// account is one /etc/passwd line.
type account struct {
	name, uid, gid, home, shell string
}

func (s *session) accounts() []account {
	b, _ := s.fs.ReadFile("/etc/passwd")
	var out []account
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 7 {
			out = append(out, account{f[0], f[2], f[3], f[5], f[6]})
		}
	}
	return out
}

func (s *session) accountExists(file, name string) bool {
	b, _ := s.fs.ReadFile(file)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 3 && (f[0] == name || f[2] == name) {
			return true
		}
	}
	return false
}

// groupsOf lists the groups user is a member of, primary group first.
func (s *session) groupsOf(a account) [][2]string {
	b, _ := s.fs.ReadFile("/etc/group")
	var out [][2]string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) < 4 {
			continue
		}
		if f[2] == a.gid {
			out = append([][2]string{{f[2], f[0]}}, out...)
		} else if slices.Contains(strings.Split(f[3], ","), a.name) {
			out = append(out, [2]string{f[2], f[0]})
		}
	}
	return out
}

func cmdID(p *proc) int {
	f := parseFlags(p.args[1:])
	name := "root"
	if len(f.args) > 0 {
		name = f.args[0]
	}
	i := slices.IndexFunc(p.s.accounts(), func(a account) bool { return a.name == name || a.uid == name })
	if i < 0 {
		return p.fail("'%s': no such user", name)
	}
	a := p.s.accounts()[i]
	groups := p.s.groupsOf(a)
	gname := a.name
	if len(groups) > 0 {
		gname = groups[0][1]
	}
	switch {
	case f.has("-u") && f.has("-n"):
		fmt.Fprintln(p.out, a.name)
	case f.has("-u"):
		fmt.Fprintln(p.out, a.uid)
	case f.has("-g") && f.has("-n"):
		fmt.Fprintln(p.out, gname)
	case f.has("-g"):
		fmt.Fprintln(p.out, a.gid)
	case f.has("-G"):
		var ids []string
		for _, g := range groups {
			if f.has("-n") {
				ids = append(ids, g[1])
			} else {
				ids = append(ids, g[0])
			}
		}
		fmt.Fprintln(p.out, strings.Join(ids, " "))
	default:
		var gs []string
		for _, g := range groups {
			gs = append(gs, g[0]+"("+g[1]+")")
		}
		fmt.Fprintf(p.out, "uid=%s(%s) gid=%s(%s) groups=%s\n", a.uid, a.name, a.gid, gname, strings.Join(gs, ","))
	}
	return 0
}

func cmdWhoami(p *proc) int {
	fmt.Fprintln(p.out, "root")
	return 0
}

// cmdEnv prints the environment or runs a command with assignments added.
func cmdEnv(p *proc) int {
	args := p.args[1:]
	env := p.exportedEnv()
	for len(args) > 0 {
		switch {
		case args[0] == "-i":
			env = nil
		case strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "-"):
			env = append(env, args[0])
		default:
			goto run
		}
		args = args[1:]
	}
run:
	if len(args) == 0 {
		if p.name() == "printenv" && len(p.args) > 1 {
			v := p.env.Get(p.args[1])
			if !v.IsSet() {
				return 1
			}
			fmt.Fprintln(p.out, v.String())
			return 0
		}
		slices.Sort(env)
		for _, kv := range env {
			fmt.Fprintln(p.out, kv)
		}
		return 0
	}
	child := *p
	child.args = args
	child.env = expand.ListEnviron(env...)
	code, err := p.s.run(&child)
	if err != nil {
		return 126
	}
	return code
}

// which returns where name would be found: a Go command's conventional
// path or an executable file on PATH inside the root.
func (p *proc) which(name string) (string, bool) {
	if strings.Contains(name, "/") {
		fi, err := p.s.fs.Stat(p.path(name))
		return name, err == nil && fi.Mode()&0o111 != 0 && !fi.IsDir()
	}
	for dir := range strings.SplitSeq(p.getenv("PATH"), ":") {
		if dir == "" {
			continue
		}
		vp := clean(dir + "/" + name)
		if fi, err := p.s.fs.Stat(vp); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return vp, true
		}
	}
	if lookup(name) != nil && !strings.HasPrefix(name, "pvesim-") {
		return commandPath(name), true
	}
	if isShell(name) {
		return "/usr/bin/" + name, true
	}
	return "", false
}

func cmdWhich(p *proc) int {
	code := 0
	for _, n := range parseFlags(p.args[1:]).args {
		if path, ok := p.which(n); ok {
			fmt.Fprintln(p.out, path)
		} else {
			code = 1
		}
	}
	return code
}

func cmdCommandV(p *proc) int {
	code := 0
	for _, n := range p.args[1:] {
		switch fn, isFunc := strings.CutPrefix(n, funcMarker); {
		case isFunc:
			fmt.Fprintln(p.out, fn)
		case interp.IsBuiltin(n):
			fmt.Fprintln(p.out, n)
		default:
			if path, ok := p.which(n); ok {
				fmt.Fprintln(p.out, path)
			} else {
				code = 1
			}
		}
	}
	return code
}

func cmdType(p *proc) int {
	f := parseFlags(p.args[1:])
	code := 0
	for _, n := range f.args {
		fn, isFunc := strings.CutPrefix(n, funcMarker)
		path, found := p.which(n)
		kind, text := "", ""
		switch {
		case isFunc:
			kind, text = "function", fn+" is a function"
		case interp.IsBuiltin(n):
			kind, text = "builtin", n+" is a shell builtin"
		case found:
			kind, text = "file", n+" is "+path
		default:
			if !f.has("-t", "-p", "-P") {
				fmt.Fprintf(p.err, "bash: type: %s: not found\n", n)
			}
			code = 1
			continue
		}
		switch {
		case f.has("-t"):
			fmt.Fprintln(p.out, kind)
		case f.has("-p", "-P"):
			if kind == "file" {
				fmt.Fprintln(p.out, path)
			}
		default:
			fmt.Fprintln(p.out, text)
		}
	}
	return code
}

func cmdUseradd(p *proc) int {
	f := parseFlags(p.args[1:], "-s", "-d", "-u", "-g", "-G", "-c", "--shell", "--home", "--home-dir", "--uid", "--gecos", "--ingroup", "--comment", "--groups")
	if len(f.args) != 1 {
		return p.fail("invalid user name")
	}
	name := f.args[0]
	if p.s.accountExists("/etc/passwd", name) {
		fmt.Fprintf(p.err, "%s: user '%s' already exists\n", p.name(), name)
		return 9
	}
	uid := 1000
	if f.has("-r", "--system") {
		uid = 999
	}
	if v, ok := f.get("-u", "--uid"); ok {
		uid, _ = strconv.Atoi(v)
	}
	for p.s.accountExists("/etc/passwd", strconv.Itoa(uid)) {
		if f.has("-r", "--system") {
			uid--
		} else {
			uid++
		}
	}
	home, ok := f.get("-d", "--home", "--home-dir")
	if !ok {
		home = "/home/" + name
	}
	shell, ok := f.get("-s", "--shell")
	if !ok {
		shell = "/bin/sh"
		if p.name() == "adduser" {
			shell = "/bin/bash"
		}
	}
	comment, _ := f.get("-c", "--gecos", "--comment")
	id := strconv.Itoa(uid)
	if err := p.appendLine("/etc/passwd", strings.Join([]string{name, "x", id, id, comment, home, shell}, ":")); err != nil {
		return p.fail("%s", errText(err))
	}
	p.appendLine("/etc/group", name+":x:"+id+":")
	p.appendLine("/etc/shadow", name+":!:20000:0:99999:7:::")
	if groups, ok := f.get("-G", "--groups"); ok {
		p.addToGroups(name, strings.Split(groups, ","))
	}
	createHome := f.has("-m", "--create-home") || p.name() == "adduser" && !f.has("--no-create-home")
	if createHome {
		if err := p.s.fs.MkdirAll(home, 0o750); err != nil {
			return p.fail("cannot create directory %s", home)
		}
		p.s.g.update(func(st *state) error {
			st.Owners[clean(home)] = name + ":" + name
			return nil
		})
	}
	return 0
}

func cmdUsermod(p *proc) int {
	f := parseFlags(p.args[1:], "-G", "-g", "-s", "-d", "--groups", "--shell")
	if len(f.args) != 1 || !p.s.accountExists("/etc/passwd", f.args[0]) {
		fmt.Fprintf(p.err, "usermod: user '%s' does not exist\n", strings.Join(f.args, " "))
		return 6
	}
	if groups, ok := f.get("-G", "--groups"); ok {
		p.addToGroups(f.args[0], strings.Split(groups, ","))
	}
	return 0
}

func cmdGroupadd(p *proc) int {
	f := parseFlags(p.args[1:], "-g")
	if len(f.args) != 1 {
		return p.fail("invalid group name")
	}
	if p.s.accountExists("/etc/group", f.args[0]) {
		if f.has("-f") {
			return 0
		}
		fmt.Fprintf(p.err, "groupadd: group '%s' already exists\n", f.args[0])
		return 9
	}
	gid := 1001
	for p.s.accountExists("/etc/group", strconv.Itoa(gid)) {
		gid++
	}
	p.appendLine("/etc/group", fmt.Sprintf("%s:x:%d:", f.args[0], gid))
	return 0
}

func (p *proc) addToGroups(user string, groups []string) {
	b, _ := p.s.fs.ReadFile("/etc/group")
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		f := strings.Split(l, ":")
		if len(f) < 4 || !slices.Contains(groups, f[0]) {
			continue
		}
		members := slices.DeleteFunc(strings.Split(f[3], ","), func(s string) bool { return s == "" })
		if !slices.Contains(members, user) {
			members = append(members, user)
		}
		f[3] = strings.Join(members, ",")
		lines[i] = strings.Join(f, ":")
	}
	p.s.fs.WriteFile("/etc/group", []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func (p *proc) appendLine(vp, line string) error {
	fh, err := p.s.fs.OpenFile(vp, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer fh.Close()
	_, err = fmt.Fprintln(fh, line)
	return err
}

func cmdGetent(p *proc) int {
	if len(p.args) < 2 {
		return p.fail("wrong number of arguments")
	}
	file := map[string]string{"passwd": "/etc/passwd", "group": "/etc/group", "hosts": "/etc/hosts"}[p.args[1]]
	if file == "" {
		fmt.Fprintf(p.err, "Unknown database: %s\n", p.args[1])
		return 1
	}
	b, _ := p.s.fs.ReadFile(file)
	found := false
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ":")
		if len(p.args) > 2 && p.args[1] != "hosts" && f[0] != p.args[2] && (len(f) < 3 || f[2] != p.args[2]) {
			continue
		}
		if len(p.args) > 2 && p.args[1] == "hosts" && !slices.Contains(strings.Fields(l), p.args[2]) {
			continue
		}
		found = true
		fmt.Fprintln(p.out, l)
	}
	if !found {
		return 2
	}
	return 0
}

// cmdPgrep matches the main processes of running units; the sandbox has
// no child processes, so -P never matches.
func cmdPgrep(p *proc) int {
	f := parseFlags(p.args[1:], "-P", "-u")
	if f.has("-P") || len(f.args) == 0 {
		return 1
	}
	var pids []int
	p.s.g.view(func(st *state) {
		for name, u := range st.Units {
			if u.Active != "active" || u.PID == 0 {
				continue
			}
			hay := u.Proc
			if f.has("-f") {
				hay = u.Proc + " " + name
			}
			if f.has("-x") && hay == f.args[0] || !f.has("-x") && strings.Contains(hay, f.args[0]) {
				pids = append(pids, u.PID)
			}
		}
	})
	if len(pids) == 0 {
		return 1
	}
	slices.Sort(pids)
	for _, pid := range pids {
		fmt.Fprintln(p.out, pid)
	}
	return 0
}

// cmdSudo runs the command as root, which everything already is.
func cmdSudo(p *proc) int {
	args := p.args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		if (args[0] == "-u" || args[0] == "-g") && len(args) > 1 {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(p.err, "usage: sudo [-u user] command")
		return 1
	}
	child := *p
	child.args = args
	code, err := p.s.run(&child)
	if err != nil {
		return 1
	}
	return code
}
