package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"corral/store"
)

// Config is every setting of Corral. Each field is declared once, in
// settings below; its flag, environment variable, default, --help line,
// README row and start-up log entry all come from that declaration.
type Config struct {
	Addr            string
	SSHAddr         string
	DataDir         string
	RedisURL        string
	TemplatesDir    string
	LogLevel        string
	LogFormat       string
	SessionTTL      time.Duration
	RefreshInterval time.Duration
	SSHIdleTimeout  time.Duration
	SSHMaxSessions  int
	AuditRetention  time.Duration
	TrustProxy      bool
	CookieSecure    bool
	Metrics         bool
	MetricsToken    string // env only, as SecretKey
	SecretKey       string // env only: a flag would show in `ps`

	// from says where each setting the command reads got its value, by setting name.
	from map[string]source
	// options holds the values of the running command's own flags, by name.
	options map[string]string
}

// An option is a flag of one command alone (`templates import --user`):
// not a setting, so it has no environment variable and is not logged.
// A boolean option takes no argument (`user add --invite`) and reads
// "true" when given.
type option struct {
	name, arg, help string
	boolean         bool
}

// option is the value of the running command's flag name ("" when absent).
func (c Config) option(name string) string { return c.options[name] }

// scope says which commands read a setting.
type scope uint8

const (
	forServer scope = 1 << iota // serve and demo
	forData                     // every command that opens the data directory
)

// source is where a setting's value came from.
type source uint8

const (
	fromDefault source = iota
	fromEnv
	fromFlag
)

// A setting is one configuration knob, declared once.
type setting struct {
	flag   string // without dashes; "" keeps the setting out of flags
	env    string
	def    string // the default, written as the flag takes it
	help   string // one phrase, for --help and the README
	empty  string // what an empty value does, completing "empty …"; "" refuses empty values
	secret bool   // never logged, never echoed in an error
	scope  scope
	field  func(*Config) any     // *string, *int, *bool or *time.Duration: the setting's kind
	check  func(c *Config) error // optional: refuses a parsed, non-empty value that makes no sense
}

// settings declares every setting. A new one needs a row in
// TestEverySetting, and README's table regenerated (TestREADMESettingsTable).
var settings = []setting{
	{flag: "addr", env: "CORRAL_ADDR", def: ":8080", scope: forServer,
		help:  "HTTP listen address for the web UI",
		field: func(c *Config) any { return &c.Addr }, check: func(c *Config) error { return listenAddr(c.Addr) }},
	{flag: "ssh-addr", env: "CORRAL_SSH_ADDR", def: ":2222", scope: forServer,
		help: "SSH gateway listen address (ssh -p 2222 you@corral)", empty: "turns the SSH gateway off",
		field: func(c *Config) any { return &c.SSHAddr }, check: func(c *Config) error { return listenAddr(c.SSHAddr) }},
	{flag: "data", env: "CORRAL_DATA", def: "./data", scope: forServer | forData,
		help:  "data directory, created 0700: corral.db, secret.key, ssh_host_ed25519_key",
		field: func(c *Config) any { return &c.DataDir }, check: func(c *Config) error { return notAFile(c.DataDir) }},
	{flag: "redis", env: "REDIS_URL", scope: forServer,
		help: "Redis URL for the VMID cache, e.g. redis://127.0.0.1:6379/0", empty: "keeps the VMID cache in memory",
		field: func(c *Config) any { return &c.RedisURL }, check: func(c *Config) error { return redisURL(c.RedisURL) }},
	{flag: "templates", env: "CORRAL_TEMPLATES", scope: forServer,
		help: "directory of filesystem templates offered for import on /templates", empty: "offers none",
		field: func(c *Config) any { return &c.TemplatesDir }, check: func(c *Config) error { return existingDir(c.TemplatesDir) }},
	{flag: "log-level", env: "CORRAL_LOG_LEVEL", def: "info", scope: forServer | forData,
		help:  "log level: debug, info, warn or error",
		field: func(c *Config) any { return &c.LogLevel }, check: func(c *Config) error { _, err := parseLevel(c.LogLevel); return err }},
	{flag: "log-format", env: "CORRAL_LOG_FORMAT", def: "text", scope: forServer | forData,
		help:  "log format: text or json",
		field: func(c *Config) any { return &c.LogFormat }, check: func(c *Config) error { return oneOf(c.LogFormat, "text", "json") }},
	{flag: "session-ttl", env: "CORRAL_SESSION_TTL", def: "168h", scope: forServer,
		help:  "how long a web sign-in lasts",
		field: func(c *Config) any { return &c.SessionTTL }, check: func(c *Config) error { return atLeast(c.SessionTTL, time.Minute) }},
	{flag: "refresh-interval", env: "CORRAL_REFRESH_INTERVAL", def: "1m", scope: forServer,
		help:  "how often the VMID cache re-reads each cluster",
		field: func(c *Config) any { return &c.RefreshInterval }, check: func(c *Config) error { return atLeast(c.RefreshInterval, time.Second) }},
	{flag: "ssh-idle-timeout", env: "CORRAL_SSH_IDLE_TIMEOUT", def: "15m", scope: forServer,
		help:  "SSH gateway and browser console sessions idle this long are closed",
		field: func(c *Config) any { return &c.SSHIdleTimeout }, check: func(c *Config) error { return atLeast(c.SSHIdleTimeout, time.Second) }},
	{flag: "ssh-max-sessions", env: "CORRAL_SSH_MAX_SESSIONS", def: "10", scope: forServer,
		help:  "concurrent SSH gateway and browser console sessions allowed per user",
		field: func(c *Config) any { return &c.SSHMaxSessions }, check: func(c *Config) error { return atLeastOne(c.SSHMaxSessions) }},
	{flag: "audit-retention", env: "CORRAL_AUDIT_RETENTION", def: "2160h", scope: forServer,
		help:  "how long the audit log (Settings → Activity) keeps entries; older ones are purged hourly",
		field: func(c *Config) any { return &c.AuditRetention }, check: func(c *Config) error { return atLeast(c.AuditRetention, time.Hour) }},
	{flag: "trust-proxy", env: "CORRAL_TRUST_PROXY", def: "false", scope: forServer,
		help:  "take the client address from X-Forwarded-For and the scheme from X-Forwarded-Proto (only behind a reverse proxy you run)",
		field: func(c *Config) any { return &c.TrustProxy }},
	{flag: "cookie-secure", env: "CORRAL_COOKIE_SECURE", def: "false", scope: forServer,
		help:  "mark every cookie Secure, for HTTPS through a proxy; without it cookies are Secure only over TLS or, with --trust-proxy, when X-Forwarded-Proto is https",
		field: func(c *Config) any { return &c.CookieSecure }},
	{flag: "metrics", env: "CORRAL_METRICS", def: "false", scope: forServer,
		help:  "serve Prometheus metrics at /metrics to scrapers presenting CORRAL_METRICS_TOKEN as a bearer token",
		field: func(c *Config) any { return &c.Metrics }},
	{env: "CORRAL_METRICS_TOKEN", secret: true, scope: forServer,
		help: "bearer token for /metrics, at least 16 characters; never a flag, so it stays out of ps", empty: "leaves /metrics closed",
		field: func(c *Config) any { return &c.MetricsToken }, check: func(c *Config) error { return minLength(c.MetricsToken, 16) }},
	{env: "CORRAL_SECRET_KEY", secret: true, scope: forServer | forData,
		help:  "32-byte key (base64 or hex) sealing stored secrets; unset: DATA/secret.key, created on first run; never a flag, so it stays out of ps",
		field: func(c *Config) any { return &c.SecretKey }, check: func(c *Config) error { return secretKey(c.SecretKey) }},
}

// name is how help, errors and the start-up log call the setting.
func (s setting) name() string {
	if s.flag != "" {
		return s.flag
	}
	return s.env
}

// meaning is the setting's help, with what an empty value does.
func (s setting) meaning() string {
	if s.empty != "" {
		return s.help + "; empty " + s.empty
	}
	return s.help
}

// shownDefault is the default as help and the README show it.
func (s setting) shownDefault(def string) string {
	switch {
	case def != "":
		return def
	case s.empty != "":
		return "empty"
	}
	return "unset"
}

func (s setting) isBool() bool {
	_, ok := s.field(&Config{}).(*bool)
	return ok
}

var errEmpty = errors.New("must not be empty")

// set parses val into c. Empty is refused unless the setting gives it a
// meaning, whether it came from the environment or a flag.
func (s setting) set(c *Config, val string, src source) error {
	if val == "" && s.empty == "" && src != fromDefault {
		return errEmpty
	}
	switch p := s.field(c).(type) {
	case *string:
		*p = val
	case *int:
		n, err := strconv.Atoi(val)
		if err != nil {
			return errors.New("not a whole number")
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return errors.New("not true or false")
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(val)
		if err != nil {
			return errors.New("not a duration such as 90s, 15m or 168h")
		}
		*p = d
	}
	if val == "" || s.check == nil {
		return nil
	}
	return s.check(c)
}

// problem names the setting both ways (the flag and the variable), as it
// was given, so an operator finds it whichever they used.
func (s setting) problem(val string, src source, err error) string {
	given, other := s.env, "--"+s.flag
	if src == fromFlag {
		given, other = "--"+s.flag, "environment "+s.env
	}
	if s.secret {
		given += " (value hidden)"
	} else {
		given += "=" + strconv.Quote(redactURL(val))
	}
	if s.flag != "" {
		given += " (" + other + ")"
	}
	if errors.Is(err, errEmpty) {
		return given + ": must not be empty; leave it out for the default"
	}
	return given + ": " + err.Error()
}

// shown is the effective value for the start-up log: secrets show only
// whether they are set, and URLs lose their passwords.
func (s setting) shown(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		switch {
		case s.secret && *p != "":
			return "(hidden)"
		case *p == "" && s.empty != "":
			return "empty: " + s.empty
		case *p == "":
			return "(unset)"
		}
		return redactURL(*p)
	case *int:
		return strconv.Itoa(*p)
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		return shortDuration(*p)
	}
	return ""
}

func (src source) describe(s setting) string {
	switch src {
	case fromEnv:
		return "environment " + s.env
	case fromFlag:
		return "flag --" + s.flag
	}
	return "default"
}

// settingsFor lists the settings a command reads, in declaration order.
func settingsFor(sc scope) []setting {
	var out []setting
	for _, s := range settings {
		if s.scope&sc != 0 {
			out = append(out, s)
		}
	}
	return out
}

// rawFlag keeps a flag's text; parseConfig parses it like the environment's.
type rawFlag struct {
	val    *string
	isBool bool
}

func (f rawFlag) String() string {
	if f.val == nil {
		return ""
	}
	return *f.val
}
func (f rawFlag) Set(v string) error { *f.val = v; return nil }
func (f rawFlag) IsBoolFlag() bool   { return f.isBool }

// usageError is a mistake in the command line or the settings; main exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// parseConfig reads the settings cmd uses: its defaults, then the
// environment, then flags; a variable that is set counts even when empty.
// Flags and positional arguments may mix. It reports every problem at once
// and touches nothing on disk.
func parseConfig(cmd command, args []string, lookupEnv func(string) (string, bool)) (Config, []string, error) {
	own := settingsFor(cmd.scope)
	fs := flag.NewFlagSet("corral "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints help and errors itself
	fs.Usage = func() {}
	given := map[string]*string{}
	for _, s := range own {
		if s.flag != "" {
			given[s.flag] = new(string)
			fs.Var(rawFlag{given[s.flag], s.isBool()}, s.flag, s.help)
		}
	}
	options := map[string]*string{}
	for _, o := range cmd.options {
		options[o.name] = new(string)
		fs.Var(rawFlag{options[o.name], o.boolean}, o.name, o.help)
	}
	pos, err := parseMixed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return Config{}, nil, err
	}
	if err != nil {
		return Config{}, nil, usageError{fmt.Sprintf("%v (see corral %s --help)", err, cmd.name)}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg := Config{from: map[string]source{}, options: map[string]string{}}
	for name, v := range options {
		cfg.options[name] = *v
	}
	var problems []string
	for _, s := range own {
		val, src := s.def, fromDefault
		if d, ok := cmd.defaults[s.name()]; ok {
			val = d
		}
		if v, ok := lookupEnv(s.env); ok {
			val, src = v, fromEnv
		}
		if set[s.flag] {
			val, src = *given[s.flag], fromFlag
		}
		cfg.from[s.name()] = src
		if err := s.set(&cfg, val, src); err != nil {
			problems = append(problems, s.problem(val, src, err))
		}
	}
	if cfg.Metrics && cfg.MetricsToken == "" {
		problems = append(problems, "--metrics (environment CORRAL_METRICS): needs CORRAL_METRICS_TOKEN, the bearer token scrapers present")
	}
	if len(problems) > 0 {
		return cfg, pos, usageError{fmt.Sprintf("invalid settings (see corral %s --help):\n  %s", cmd.name, strings.Join(problems, "\n  "))}
	}
	return cfg, pos, nil
}

// parseMixed parses flags anywhere among the positional arguments, which
// it returns; everything after "--" is positional.
func parseMixed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// writeSettingsHelp lists a command's settings as --help shows them.
func writeSettingsHelp(w io.Writer, cmd command) {
	if len(cmd.options) > 0 {
		fmt.Fprint(w, "\nOptions:\n\n")
		for _, o := range cmd.options {
			fmt.Fprintf(w, "  %s\n%s", strings.TrimSpace("--"+o.name+" "+o.arg), wrap(o.help, "      ", 80))
		}
	}
	own := settingsFor(cmd.scope)
	if len(own) == 0 {
		return
	}
	fmt.Fprint(w, "\nSettings: each is a flag and an environment variable; a flag wins, and an\nempty value means the same in both.\n\n")
	for _, s := range own {
		def := s.def
		if d, ok := cmd.defaults[s.name()]; ok {
			def = d
		}
		names := "--" + s.flag + ", " + s.env
		if s.flag == "" {
			names = s.env + " (environment only)"
		}
		fmt.Fprintf(w, "  %s  (default %s)\n%s", names, s.shownDefault(def), wrap(s.meaning(), "      ", 80))
	}
}

// wrap breaks text into indented lines of at most width columns.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	return b.String() + line + "\n"
}

// logSettings logs, once, the effective value of every setting the
// command read and where it came from.
func logSettings(log *slog.Logger, cfg Config) {
	var attrs []any
	for _, s := range settings {
		if src, ok := cfg.from[s.name()]; ok {
			attrs = append(attrs, slog.String(s.name(), s.shown(&cfg)+" ("+src.describe(s)+")"))
		}
	}
	log.Info("settings", attrs...)
}

func listenAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return errors.New("not a listen address such as :8080 or 127.0.0.1:8080")
	}
	return nil
}

func notAFile(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return errors.New("is a file, not a directory")
	}
	return nil
}

func existingDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such directory")
	case err != nil:
		return err
	case !fi.IsDir():
		return errors.New("is a file, not a directory")
	}
	return nil
}

func redisURL(u string) error {
	if _, err := redis.ParseURL(u); err != nil {
		return fmt.Errorf("not a Redis URL such as redis://127.0.0.1:6379/0 (%s)", strings.ReplaceAll(err.Error(), u, redactURL(u)))
	}
	return nil
}

func secretKey(k string) error {
	if _, err := store.ParseKey(k); err != nil {
		return errors.New("not 32 bytes in base64 or hex; make one with: openssl rand -base64 32")
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("not one of %s", strings.Join(allowed, ", "))
}

func atLeast(d, min time.Duration) error {
	if d < min {
		return fmt.Errorf("must be at least %s", shortDuration(min))
	}
	return nil
}

func atLeastOne(n int) error {
	if n < 1 {
		return errors.New("must be at least 1")
	}
	return nil
}

// shortDuration writes 168h rather than 168h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// redactURL hides the password of a URL (REDIS_URL may carry one).
func redactURL(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		return u.Redacted()
	}
	return v
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, errors.New("not one of debug, info, warn, error")
	}
	return l, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func minLength(s string, n int) error {
	if len(s) < n {
		return fmt.Errorf("too short: at least %d characters", n)
	}
	return nil
}
