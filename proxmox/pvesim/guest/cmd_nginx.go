package guest

import (
	"fmt"
	"regexp"
	"strings"
)

// The nginx stand-in (installed by nginx): -t checks what a configuration
// test would catch first (a missing main file, an enabled site that is
// missing or a dangling link, two default servers on one port), -v names
// the version, -s needs a running master.

const nginxConf = "/etc/nginx/nginx.conf"

// nginxDefaultServer finds "listen [ADDR:]PORT ... default_server;".
var nginxDefaultServer = regexp.MustCompile(`\blisten\s+([^\s;]+)[^;]*\bdefault_server\b[^;]*;`)

// nginxComment is a comment, up to the end of its line.
var nginxComment = regexp.MustCompile(`#[^\n]*`)

// nginxTest returns the first [emerg] message a configuration test prints,
// or "".
func (p *proc) nginxTest() string {
	if _, err := p.s.fs.Stat(nginxConf); err != nil {
		return fmt.Sprintf(`open() "%s" failed (2: No such file or directory)`, nginxConf)
	}
	seen := map[string]string{} // listen address -> file
	for _, dir := range []string{"/etc/nginx/conf.d", "/etc/nginx/sites-enabled"} {
		ents, _ := p.s.fs.ReadDir(dir)
		for _, e := range ents {
			path := dir + "/" + e.Name()
			if dir == "/etc/nginx/conf.d" && !strings.HasSuffix(path, ".conf") {
				continue
			}
			b, err := p.s.fs.ReadFile(path)
			if err != nil {
				return fmt.Sprintf(`open() "%s" failed (2: No such file or directory)`, path)
			}
			text := nginxComment.ReplaceAllStringFunc(string(b), func(c string) string { return strings.Repeat(" ", len(c)) })
			for _, m := range nginxDefaultServer.FindAllStringSubmatchIndex(text, -1) {
				addr := nginxListenAddr(text[m[2]:m[3]])
				line := strings.Count(text[:m[0]], "\n") + 1
				if _, dup := seen[addr]; dup {
					return fmt.Sprintf("a duplicate default server for %s in %s:%d", addr, path, line)
				}
				seen[addr] = path
			}
		}
	}
	return ""
}

// nginxListenAddr is a listen directive's address as nginx reports it:
// "80" -> "0.0.0.0:80", "[::]" -> "[::]:80".
func nginxListenAddr(a string) string {
	switch {
	case strings.HasPrefix(a, "["):
		if strings.Contains(a, "]:") {
			return a
		}
		return a + ":80"
	case strings.Contains(a, ":"):
		return a
	case strings.Trim(a, "0123456789") == "":
		return "0.0.0.0:" + a
	}
	return a + ":80"
}

func cmdNginx(p *proc) int {
	f := parseFlags(p.args[1:], "-s", "-c", "-g", "-p", "-e")
	switch {
	case f.has("-v"), f.has("-V"):
		fmt.Fprintln(p.err, "nginx version: nginx/1.22.1")
		return 0
	case f.has("-t"), f.has("-T"):
		if msg := p.nginxTest(); msg != "" {
			fmt.Fprintf(p.err, "nginx: [emerg] %s\nnginx: configuration file %s test failed\n", msg, nginxConf)
			return 1
		}
		if !f.has("-q") {
			fmt.Fprintf(p.err, "nginx: the configuration file %s syntax is ok\nnginx: configuration file %s test is successful\n", nginxConf, nginxConf)
		}
		return 0
	case f.has("-s"):
		running := false
		p.s.g.view(func(st *state) {
			u, ok := st.Units["nginx.service"]
			running = ok && u.Active == "active"
		})
		if !running {
			fmt.Fprintln(p.err, `nginx: [error] open() "/run/nginx.pid" failed (2: No such file or directory)`)
			return 1
		}
		if msg := p.nginxTest(); msg != "" {
			fmt.Fprintf(p.err, "nginx: [emerg] %s\n", msg)
			return 1
		}
	}
	return 0
}
