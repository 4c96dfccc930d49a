package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"maps"
	"os"
	osexec "os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// settingRow is one setting's expectations. Empty values follow the
// declaration: a setting that gives empty a meaning must take it from a
// flag and the environment alike; any other must refuse it from both.
type settingRow struct {
	flagVal  string // a valid value given as the flag
	flagWant any
	envVal   string // another valid value given as the variable
	envWant  any
	invalid  []string          // values refused with an error naming the flag and the variable
	with     map[string]string // other variables the setting needs (--metrics its token)
}

func TestEverySetting(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tmplA, tmplB := filepath.Join(dir, "tmpl-a"), filepath.Join(dir, "tmpl-b")
	for _, d := range []string{tmplA, tmplB} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

	rows := map[string]settingRow{
		"addr":             {flagVal: "127.0.0.1:9000", flagWant: "127.0.0.1:9000", envVal: ":7000", envWant: ":7000", invalid: []string{"banana"}},
		"ssh-addr":         {flagVal: "127.0.0.1:2022", flagWant: "127.0.0.1:2022", envVal: "[::1]:2023", envWant: "[::1]:2023", invalid: []string{"2222"}},
		"data":             {flagVal: filepath.Join(dir, "a"), flagWant: filepath.Join(dir, "a"), envVal: filepath.Join(dir, "b"), envWant: filepath.Join(dir, "b"), invalid: []string{file}},
		"redis":            {flagVal: "redis://127.0.0.1:6379/0", flagWant: "redis://127.0.0.1:6379/0", envVal: "redis://:hunter2@127.0.0.1:6380/1", envWant: "redis://:hunter2@127.0.0.1:6380/1", invalid: []string{"http://:hunter2@127.0.0.1:6379"}},
		"templates":        {flagVal: tmplA, flagWant: tmplA, envVal: tmplB, envWant: tmplB, invalid: []string{filepath.Join(dir, "missing"), file}},
		"log-level":        {flagVal: "debug", flagWant: "debug", envVal: "warn", envWant: "warn", invalid: []string{"loud"}},
		"log-format":       {flagVal: "json", flagWant: "json", envVal: "text", envWant: "text", invalid: []string{"xml"}},
		"session-ttl":      {flagVal: "12h", flagWant: 12 * time.Hour, envVal: "90m", envWant: 90 * time.Minute, invalid: []string{"banana", "30s"}},
		"refresh-interval": {flagVal: "5s", flagWant: 5 * time.Second, envVal: "2m", envWant: 2 * time.Minute, invalid: []string{"often", "500ms"}},
		"ssh-idle-timeout": {flagVal: "1h", flagWant: time.Hour, envVal: "30m", envWant: 30 * time.Minute, invalid: []string{"forever", "-1m", "0s"}},
		"ssh-max-sessions": {flagVal: "3", flagWant: 3, envVal: "20", envWant: 20, invalid: []string{"many", "0"}},
		"audit-retention":  {flagVal: "720h", flagWant: 720 * time.Hour, envVal: "48h", envWant: 48 * time.Hour, invalid: []string{"a while", "30m"}},
		"trust-proxy":      {flagVal: "true", flagWant: true, envVal: "1", envWant: true, invalid: []string{"maybe"}},
		"cookie-secure":    {flagVal: "true", flagWant: true, envVal: "t", envWant: true, invalid: []string{"yes-please"}},
		"metrics": {flagVal: "true", flagWant: true, envVal: "1", envWant: true, invalid: []string{"on"},
			with: map[string]string{"CORRAL_METRICS_TOKEN": strings.Repeat("t", 16)}},
		"CORRAL_METRICS_TOKEN": {envVal: "0123456789abcdef-token", envWant: "0123456789abcdef-token", invalid: []string{"short-token"}},
		"CORRAL_SECRET_KEY": {envVal: key, envWant: key,
			invalid: []string{"too-short", strings.Repeat("ab", 31)}},
	}

	var declared []string
	for _, s := range settings {
		declared = append(declared, s.name())
	}
	for name := range rows {
		if !slices.Contains(declared, name) {
			t.Errorf("row %q names no declared setting", name)
		}
	}

	serve, _ := commandNamed("serve")
	var with map[string]string // the current row's
	parse := func(args []string, environ map[string]string) (Config, error) {
		all := maps.Clone(with)
		if all == nil {
			all = map[string]string{}
		}
		maps.Copy(all, environ)
		cfg, _, err := parseConfig(serve, args, env(all))
		return cfg, err
	}
	value := func(s setting, cfg Config) any { return reflect.ValueOf(s.field(&cfg)).Elem().Interface() }
	refused := func(t *testing.T, s setting, err error, hidden string) {
		t.Helper()
		if exitCode(err) != 2 {
			t.Fatalf("err = %v, exit code %d, want 2", err, exitCode(err))
		}
		msg := err.Error()
		if !strings.Contains(msg, s.env) || (s.flag != "" && !strings.Contains(msg, "--"+s.flag)) {
			t.Errorf("error does not name both --%s and %s: %s", s.flag, s.env, msg)
		}
		if hidden != "" && strings.Contains(msg, hidden) {
			t.Errorf("error echoes %q: %s", hidden, msg)
		}
	}

	for _, s := range settings {
		row, ok := rows[s.name()]
		if !ok {
			t.Errorf("setting %s has no row in TestEverySetting", s.name())
			continue
		}
		with = row.with
		t.Run(s.name(), func(t *testing.T) {
			if s.scope&serve.scope == 0 {
				t.Fatalf("%s is not read by serve; test it through a command that reads it", s.name())
			}
			expect := func(t *testing.T, cfg Config, err error, want any, src source) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				if got := value(s, cfg); !reflect.DeepEqual(got, want) {
					t.Errorf("value = %#v, want %#v", got, want)
				}
				if cfg.from[s.name()] != src {
					t.Errorf("source = %s, want %s", cfg.from[s.name()].describe(s), src.describe(s))
				}
			}
			if s.flag != "" {
				t.Run("flag only", func(t *testing.T) {
					cfg, err := parse([]string{"--" + s.flag + "=" + row.flagVal}, nil)
					expect(t, cfg, err, row.flagWant, fromFlag)
				})
				t.Run("both, the flag wins", func(t *testing.T) {
					cfg, err := parse([]string{"--" + s.flag, row.flagVal}, map[string]string{s.env: row.envVal})
					expect(t, cfg, err, row.flagWant, fromFlag)
				})
				t.Run("flag empty", func(t *testing.T) {
					cfg, err := parse([]string{"--" + s.flag + "="}, nil)
					if s.empty == "" {
						refused(t, s, err, "")
						return
					}
					expect(t, cfg, err, "", fromFlag)
				})
			}
			t.Run("environment only", func(t *testing.T) {
				cfg, err := parse(nil, map[string]string{s.env: row.envVal})
				expect(t, cfg, err, row.envWant, fromEnv)
			})
			t.Run("environment set but empty", func(t *testing.T) {
				cfg, err := parse(nil, map[string]string{s.env: ""})
				if s.empty == "" {
					refused(t, s, err, "")
					return
				}
				expect(t, cfg, err, "", fromEnv)
			})
			t.Run("invalid", func(t *testing.T) {
				if len(row.invalid) == 0 {
					t.Fatal("the row gives no invalid value")
				}
				for _, bad := range row.invalid {
					hidden := ""
					if s.secret {
						hidden = bad
					} else if strings.Contains(bad, "hunter2") {
						hidden = "hunter2"
					}
					_, err := parse(nil, map[string]string{s.env: bad})
					refused(t, s, err, hidden)
					if s.flag != "" {
						_, err = parse([]string{"--" + s.flag + "=" + bad}, nil)
						refused(t, s, err, hidden)
					}
				}
			})
		})
	}
}

// TestDefaultsAreValid parses every command with nothing set: the declared
// defaults (and demo's own) pass their own checks.
func TestDefaultsAreValid(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, c := range commands() {
		cfg, _, err := parseConfig(c, nil, env(nil))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		for _, s := range settingsFor(c.scope) {
			if cfg.from[s.name()] != fromDefault {
				t.Errorf("%s: %s came from %s", c.name, s.name(), cfg.from[s.name()].describe(s))
			}
		}
		for _, s := range settings {
			if s.empty != "" {
				if _, ok := s.field(&Config{}).(*string); !ok {
					t.Errorf("%s gives empty a meaning but is not a string", s.name())
				}
			}
		}
	}
}

func TestCommandsReadOnlyTheirSettings(t *testing.T) {
	add, _ := commandNamed("user add")
	_, _, err := parseConfig(add, []string{"alice", "--addr", ":9000"}, env(nil))
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "-addr") {
		t.Fatalf("user add --addr: %v", err)
	}
	// A broken server setting does not stop account commands.
	cfg, pos, err := parseConfig(add, []string{"--data", "/srv/x", "alice"}, env(map[string]string{"CORRAL_SSH_MAX_SESSIONS": "lots"}))
	if err != nil || cfg.DataDir != "/srv/x" || !slices.Equal(pos, []string{"alice"}) {
		t.Fatalf("user add: cfg.DataDir=%q pos=%q err=%v", cfg.DataDir, pos, err)
	}
	_, pos, err = parseConfig(add, []string{"--", "-weird-name"}, env(nil))
	if err != nil || !slices.Equal(pos, []string{"-weird-name"}) {
		t.Fatalf("after --: pos=%q err=%v", pos, err)
	}
}

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's settings table from the declarations")

const (
	readmeTableStart = "<!-- settings table: generated from config.go; go test -run TestREADMESettingsTable -update-readme . -->\n"
	readmeTableEnd   = "<!-- end of settings table -->\n"
)

// settingsMarkdown is README's configuration table, from the declarations.
func settingsMarkdown() string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	var dataOnly []string
	for _, s := range settings {
		flagCol, def := "(environment only)", s.shownDefault(s.def)
		if s.flag != "" {
			flagCol = "`--" + s.flag + "`"
		}
		if s.def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", flagCol, s.env, def, s.meaning())
		if s.scope&forData != 0 {
			name := "`" + s.env + "`"
			if s.flag != "" {
				name = "`--" + s.flag + "` (" + name + ")"
			}
			dataOnly = append(dataOnly, name)
		}
	}
	fmt.Fprintf(&b, "\n`corral user` and `corral templates import` read only %s.\n", strings.Join(dataOnly, ", "))
	return b.String()
}

func TestREADMESettingsTable(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	before, rest, ok1 := strings.Cut(readme, readmeTableStart)
	table, after, ok2 := strings.Cut(rest, readmeTableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the settings table markers %q and %q", readmeTableStart, readmeTableEnd)
	}
	want := settingsMarkdown()
	if *updateREADME {
		if err := os.WriteFile("README.md", []byte(before+readmeTableStart+want+readmeTableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if table != want {
		t.Fatalf("README.md's settings table differs from the declarations in config.go; run\n  go test -run TestREADMESettingsTable -update-readme .\nwant:\n%s\ngot:\n%s", want, table)
	}
}

// TestHelpShowsEverySetting checks that each command's --help lists exactly
// the settings it reads, each as the README has it.
func TestHelpShowsEverySetting(t *testing.T) {
	for _, c := range commands() {
		var out bytes.Buffer
		if err := run(context.Background(), append(strings.Fields(c.name), "--help"), env(nil), nil, &out, &out); err != nil {
			t.Fatalf("%s --help: %v", c.name, err)
		}
		help := strings.Join(strings.Fields(out.String()), " ") // help wraps long lines
		for _, s := range settings {
			line := s.env
			if s.flag != "" {
				line = "--" + s.flag + ", " + s.env
			}
			reads := s.scope&c.scope != 0
			if strings.Contains(help, line) != reads {
				t.Errorf("%s --help: mentions %s = %v, but the command reads it = %v", c.name, s.name(), !reads, reads)
			}
			if reads && !strings.Contains(help, s.meaning()) {
				t.Errorf("%s --help: lacks %q", c.name, s.meaning())
			}
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-h"}, env(nil), nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(default 127.0.0.1:8080)") || !strings.Contains(out.String(), "corral-demo-*") {
		t.Errorf("demo --help does not show the demo's own defaults:\n%s", out.String())
	}
}

// TestHelpTouchesNothing runs every command with --help and -h (and the
// other ways to ask) in an empty working and temporary directory: each
// prints its help, succeeds, and creates nothing.
func TestHelpTouchesNothing(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	t.Setenv("TMPDIR", wd) // demo would make its directories here
	type ask struct {
		args []string
		want []string
	}
	asks := []ask{
		{[]string{"--help"}, nil},
		{[]string{"-h"}, nil},
		{[]string{"help"}, nil},
		{[]string{"user", "--help"}, []string{"Usage:", "corral user add NAME", "corral user passwd NAME"}},
		{[]string{"templates", "-h"}, []string{"Usage:", "corral templates import DIR"}},
		{[]string{"help", "user"}, []string{"corral user add NAME"}},
	}
	var list []string
	for _, c := range commands() {
		list = append(list, c.usage())
		usage := "Usage: " + c.usage()
		words := strings.Fields(c.name)
		asks = append(asks,
			ask{append(slices.Clone(words), "--help"), []string{usage}},
			ask{append(slices.Clone(words), "-h"), []string{usage}},
			ask{append([]string{"help"}, words...), []string{usage}},
		)
		if len(c.args) > 0 {
			asks = append(asks, ask{append(slices.Clone(words), "some-arg", "-h"), []string{usage}})
		}
	}
	for i := range asks[:3] {
		asks[i].want = list
	}
	for _, a := range asks {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), a.args, env(nil), strings.NewReader("a password\n"), &stdout, &stderr)
		if err != nil {
			t.Errorf("corral %s: %v", strings.Join(a.args, " "), err)
		}
		for _, w := range a.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("corral %s printed no %q:\n%s", strings.Join(a.args, " "), w, stdout.String())
			}
		}
		if stderr.Len() > 0 {
			t.Errorf("corral %s wrote to stderr: %s", strings.Join(a.args, " "), stderr.String())
		}
		if left, _ := os.ReadDir(wd); len(left) > 0 {
			t.Fatalf("corral %s created %s", strings.Join(a.args, " "), left[0].Name())
		}
	}
}

// TestMain lets a test run the real main in a child process, for its exit code.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("CORRAL_TEST_MAIN_ARGS"); ok {
		os.Unsetenv("CORRAL_TEST_MAIN_ARGS")
		os.Args = []string{"corral"}
		if args != "" {
			os.Args = append(os.Args, strings.Split(args, "\n")...)
		}
		main()
	}
	os.Exit(m.Run())
}

// TestExitCodes runs the binary's main: 0 for help, 2 for a wrong command
// line or invalid settings (which create nothing), 1 for a failure later.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		environ []string
		code    int
		says    []string
	}{
		{[]string{"--help"}, nil, 0, []string{"corral user add NAME"}},
		{[]string{"user", "add", "--help"}, nil, 0, []string{"Usage: corral user add NAME"}},
		{[]string{"serve", "--session-ttl=banana"}, nil, 2, []string{"--session-ttl", "CORRAL_SESSION_TTL", "banana"}},
		{nil, []string{"CORRAL_SSH_MAX_SESSIONS="}, 2, []string{"CORRAL_SSH_MAX_SESSIONS", "--ssh-max-sessions", "empty"}},
		{nil, []string{"CORRAL_LOG_FORMAT=xml", "CORRAL_ADDR=banana"}, 2, []string{"CORRAL_LOG_FORMAT", "CORRAL_ADDR"}},
		{[]string{"--no-such-flag"}, nil, 2, []string{"no-such-flag"}},
		{[]string{"frobnicate"}, nil, 2, []string{"frobnicate"}},
		{[]string{"user", "add"}, nil, 2, []string{"corral user add NAME"}},
		{[]string{"user"}, nil, 2, []string{"user add"}},
		{[]string{"templates", "import", "no-such-dir", "--data", "d"}, nil, 1, []string{"no-such-dir"}},
	} {
		wd := t.TempDir()
		cmd := osexec.Command(os.Args[0], "-test.run=^$")
		cmd.Dir = wd
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + wd, "CORRAL_TEST_MAIN_ARGS=" + strings.Join(tc.args, "\n")}, tc.environ...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*osexec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("corral %s (env %s)", strings.Join(tc.args, " "), strings.Join(tc.environ, " "))
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", name, code, tc.code, stdout.String(), stderr.String())
		}
		for _, w := range tc.says {
			if !strings.Contains(stdout.String()+stderr.String(), w) {
				t.Errorf("%s does not say %q:\n%s%s", name, w, stdout.String(), stderr.String())
			}
		}
		if left, _ := os.ReadDir(wd); code != 1 && len(left) > 0 {
			t.Errorf("%s created %s", name, left[0].Name())
		}
	}
}

// TestEmptySSHAddrTurnsGatewayOff is issue 21's report: CORRAL_SSH_ADDR set
// but empty turns the gateway off, and the start-up log says so once, with
// every setting and its source, and no secret.
func TestEmptySSHAddrTurnsGatewayOff(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	cfg := serveConfig(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, map[string]string{
		"CORRAL_SSH_ADDR": "", "CORRAL_SECRET_KEY": key, "REDIS_URL": "redis://:hunter2@127.0.0.1:1/0",
	})
	l, logs, stop := startServeConfig(t, cfg)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if l.SSH != "" {
		t.Fatalf("the SSH gateway listens on %s", l.SSH)
	}
	out := logs.String()
	if n := strings.Count(out, "msg=settings"); n != 1 {
		t.Fatalf("settings logged %d times:\n%s", n, out)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "msg=settings") {
			line = l
		}
	}
	for _, want := range []string{
		`ssh-addr="empty: turns the SSH gateway off (environment CORRAL_SSH_ADDR)"`,
		`addr="127.0.0.1:0 (flag --addr)"`,
		`session-ttl="168h (default)"`,
		`CORRAL_SECRET_KEY="(hidden) (environment CORRAL_SECRET_KEY)"`,
		`redis="redis://:xxxxx@127.0.0.1:1/0 (environment REDIS_URL)"`,
	} {
		if !strings.Contains(line, want) {
			t.Errorf("settings log lacks %s:\n%s", want, line)
		}
	}
	for _, s := range settings {
		if !strings.Contains(line, " "+s.name()+"=") {
			t.Errorf("settings log lacks %s:\n%s", s.name(), line)
		}
	}
	for _, secret := range []string{key, "hunter2"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a secret %q:\n%s", secret, out)
		}
	}
}

// Metrics without a token would be open to anyone who can reach the port.
func TestMetricsNeedToken(t *testing.T) {
	serve, _ := commandNamed("serve")
	_, _, err := parseConfig(serve, []string{"--metrics"}, env(nil))
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "needs CORRAL_METRICS_TOKEN") {
		t.Fatalf("--metrics without a token: %v (exit %d)", err, exitCode(err))
	}
	cfg, _, err := parseConfig(serve, []string{"--metrics"}, env(map[string]string{"CORRAL_METRICS_TOKEN": strings.Repeat("x", 20)}))
	if err != nil || !cfg.Metrics {
		t.Fatalf("--metrics with a token: %+v, %v", cfg.Metrics, err)
	}
}
