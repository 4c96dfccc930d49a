package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of `corral serve` and `corral demo`. Each field is
// a flag and an environment variable; flags win over the environment.
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
	TrustProxy      bool
	SecretKey       string // env only: a flag would show in `ps`
}

// setting describes one configuration knob once, for the flag, the
// environment variable and --help. ptr is a *string, *int, *bool or *time.Duration.
type setting struct {
	flag, env, help string
	ptr             any
}

func defaultConfig() Config {
	return Config{
		Addr:            ":8080",
		SSHAddr:         ":2222",
		DataDir:         "./data",
		LogLevel:        "info",
		LogFormat:       "text",
		SessionTTL:      7 * 24 * time.Hour,
		RefreshInterval: 60 * time.Second,
		SSHIdleTimeout:  15 * time.Minute,
		SSHMaxSessions:  10,
	}
}

func (c *Config) settings() []setting {
	return []setting{
		{"addr", "CORRAL_ADDR", "HTTP listen address for the web UI", &c.Addr},
		{"ssh-addr", "CORRAL_SSH_ADDR", "SSH gateway listen address (ssh -p 2222 you@corral); empty disables it", &c.SSHAddr},
		{"data", "CORRAL_DATA", "data directory: corral.db, secret.key, ssh_host_ed25519_key (created 0700)", &c.DataDir},
		{"redis", "REDIS_URL", "optional Redis URL for the VMID cache, e.g. redis://127.0.0.1:6379/0 (default: in memory)", &c.RedisURL},
		{"templates", "CORRAL_TEMPLATES", "optional directory of filesystem templates offered for import on /templates", &c.TemplatesDir},
		{"log-level", "CORRAL_LOG_LEVEL", "log level: debug, info, warn, error", &c.LogLevel},
		{"log-format", "CORRAL_LOG_FORMAT", "log format: text or json", &c.LogFormat},
		{"session-ttl", "CORRAL_SESSION_TTL", "how long a web sign-in lasts", &c.SessionTTL},
		{"refresh-interval", "CORRAL_REFRESH_INTERVAL", "how often the VMID cache re-reads each cluster", &c.RefreshInterval},
		{"ssh-idle-timeout", "CORRAL_SSH_IDLE_TIMEOUT", "close SSH gateway sessions idle this long", &c.SSHIdleTimeout},
		{"ssh-max-sessions", "CORRAL_SSH_MAX_SESSIONS", "concurrent SSH gateway sessions allowed per user", &c.SSHMaxSessions},
		{"trust-proxy", "CORRAL_TRUST_PROXY", "take client addresses from X-Forwarded-For (only behind a reverse proxy you run)", &c.TrustProxy},
	}
}

func (s setting) bind(fs *flag.FlagSet) {
	help := s.help + " (env " + s.env + ")"
	switch p := s.ptr.(type) {
	case *string:
		fs.StringVar(p, s.flag, *p, help)
	case *int:
		fs.IntVar(p, s.flag, *p, help)
	case *bool:
		fs.BoolVar(p, s.flag, *p, help)
	case *time.Duration:
		fs.DurationVar(p, s.flag, *p, help)
	}
}

func (s setting) set(v string) error {
	var err error
	switch p := s.ptr.(type) {
	case *string:
		*p = v
	case *int:
		*p, err = strconv.Atoi(v)
	case *bool:
		*p, err = strconv.ParseBool(v)
	case *time.Duration:
		*p, err = time.ParseDuration(v)
	}
	return err
}

// parseConfig overlays the environment and then flags on the defaults.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var problems []string
	for _, s := range cfg.settings() {
		if v := getenv(s.env); v != "" {
			if err := s.set(v); err != nil {
				problems = append(problems, fmt.Sprintf("%s=%q: %v", s.env, v, err))
			}
		}
		s.bind(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: corral %s [flags]\n\nEvery flag can also be set by the environment variable named after it.\nCORRAL_SECRET_KEY (env only): base64 or hex of 32 bytes sealing stored secrets; default: DATA/secret.key, created on first run.\n\nFlags:\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	cfg.SecretKey = getenv("CORRAL_SECRET_KEY")
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		return cfg, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return cfg, nil
}

// validate reports every problem at once.
func (c Config) validate() []string {
	var p []string
	if c.Addr == "" {
		p = append(p, "--addr must not be empty")
	}
	if c.DataDir == "" {
		p = append(p, "--data must not be empty")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		p = append(p, err.Error())
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p = append(p, fmt.Sprintf("--log-format must be text or json, not %q", c.LogFormat))
	}
	if c.SessionTTL < time.Minute {
		p = append(p, "--session-ttl must be at least 1m")
	}
	if c.RefreshInterval < time.Second {
		p = append(p, "--refresh-interval must be at least 1s")
	}
	if c.SSHMaxSessions < 1 {
		p = append(p, "--ssh-max-sessions must be at least 1")
	}
	return p
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", s)
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
