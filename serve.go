package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"

	"corral/exec"
	"corral/exec/gateway"
	"corral/exec/provision"
	"corral/handlers"
	"corral/proxmox"
	"corral/proxmox/clusters"
	"corral/store"
	"corral/store/tmplfs"
)

// shutdownGrace is how long in-flight requests may run after SIGTERM.
const shutdownGrace = 10 * time.Second

// listening reports the addresses serve actually bound (":0" in tests).
type listening struct {
	HTTP string
	SSH  string
}

// openStore prepares the data directory and opens the database in it.
func openStore(cfg Config, log *slog.Logger) (*store.DB, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("restrict data directory: %w", err)
	}
	key, err := store.LoadKey(cfg.DataDir, cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	return store.Open(filepath.Join(cfg.DataDir, "corral.db"), store.Options{
		LockTimeout: time.Second, Key: key, Logger: log.With("component", "store"),
	})
}

// newVMIDStore is the VMID cache's storage: in memory, or Redis with an
// in-memory fallback while Redis is away.
func newVMIDStore(cfg Config, log *slog.Logger) (proxmox.VMIDStore, func(), error) {
	mem := proxmox.NewMemVMIDStore(nil)
	if cfg.RedisURL == "" {
		return mem, func() {}, nil
	}
	rdb, err := proxmox.NewRedisClient(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis: %w", err)
	}
	vs := proxmox.NewFallbackVMIDStore(proxmox.NewRedisVMIDStore(rdb, nil), mem, log.With("component", "vmid"), nil)
	return vs, func() { rdb.Close() }, nil
}

// serve runs Corral until ctx ends. Start-up goes store → caches → handlers
// → job runner → listeners → scheduler; shutdown runs in reverse: listeners
// (finishing in-flight requests), scheduler, runner, caches, database.
func serve(ctx context.Context, cfg Config, logOut io.Writer, ready func(listening)) error {
	log := newLogger(cfg, logOut)
	logSettings(log, cfg)
	db, err := openStore(cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	}()

	vstore, closeVStore, err := newVMIDStore(cfg, log)
	if err != nil {
		return err
	}
	defer closeVStore()
	// Every read of a node's API goes through one cache of clients, and
	// every read of a cluster through one reader.
	pve := clusters.NewClients(log.With("component", "proxmox"))
	reader := clusters.NewReader(pve)
	vmids := clusters.NewVMIDs(vstore, reader, db, log.With("component", "vmid"), clusters.WithRefreshInterval(cfg.RefreshInterval))
	defer vmids.Close()

	// The SSH gateway's host key exists before the pages that show its fingerprint.
	var gatewayInfo handlers.SSHGatewayInfo
	var hostKey ssh.Signer
	if cfg.SSHAddr != "" {
		if hostKey, err = gateway.LoadOrCreateHostKey(filepath.Join(cfg.DataDir, "ssh_host_ed25519_key")); err != nil {
			return fmt.Errorf("ssh gateway host key: %w", err)
		}
		_, port, _ := net.SplitHostPort(cfg.SSHAddr)
		gatewayInfo = handlers.SSHGatewayInfo{Fingerprint: gateway.Fingerprint(hostKey.PublicKey()), Port: port}
	}
	// One limiter for web and SSH sign-ins, so switching doors gives no extra tries.
	limiter := handlers.NewLoginLimiter(5, time.Minute, time.Now)

	runner, err := provision.New(provision.Config{
		Store: db, Proxmox: pve, VMIDs: vmids, Logger: log.With("component", "jobs"),
		Dial: func(ctx context.Context, n store.Node) (provision.Shell, error) {
			h, err := exec.Dial(ctx, handlers.HostTargetFor(n))
			if err != nil {
				return nil, err
			}
			return h, nil
		},
	})
	if err != nil {
		return fmt.Errorf("job runner: %w", err)
	}
	// Jobs a previous run left unfinished resume or are marked interrupted
	// before anything new is queued.
	if err := runner.Recover(ctx); err != nil {
		log.Warn("recovering unfinished jobs", "err", err)
	}

	// One path into containers for both doors, the SSH gateway and the
	// browser console: one session limit per account, one idle timeout.
	gatewayAudit := handlers.GatewayAuditor{Log: db, Keys: db, SignIns: db}
	shells := gateway.NewShells(gateway.ShellsConfig{IdleTimeout: cfg.SSHIdleTimeout,
		MaxSessionsPerUser: cfg.SSHMaxSessions, Logger: log.With("component", "ssh")}, gatewayAudit)

	h := handlers.New(handlers.Deps{
		Accounts:    db,
		Sessions:    db.Sessions("corral_session", cfg.SessionTTL),
		Audit:       db,
		Limiter:     limiter,
		Templates:   tmplfs.Library{DB: db, Dir: cfg.TemplatesDir},
		Proxmox:     pve,
		Clusters:    reader,
		Nodes:       db,
		Prober:      handlers.NewNodeProber(log.With("component", "probe")),
		Containers:  db,
		VMIDs:       vmids,
		Provisioner: runner,
		SSHKeys:     db,
		Events:      db,
		Services:    handlers.NewSSHInspector(),
		Locks:       handlers.NewContainerLocks(),
		SSHGateway:  gatewayInfo,
		Console:     shells,
		AuditTTL:    cfg.AuditRetention,
		Cookies:     handlers.CookiePolicy{AlwaysSecure: cfg.CookieSecure, TrustProxy: cfg.TrustProxy},
		Logger:      log.With("component", "http"),
		Version:     version,
	})
	e := newEcho(cfg, log)
	h.Register(e)

	sched, err := newScheduler(db, vmids, cfg, log)
	if err != nil {
		return err
	}

	httpLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer httpLn.Close()
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}

	var sshd *gateway.Server
	var sshLn net.Listener
	if cfg.SSHAddr != "" {
		sshd, err = gateway.NewServer(gateway.Config{
			Addr: cfg.SSHAddr, HostKey: hostKey, IdleTimeout: cfg.SSHIdleTimeout,
			MaxSessionsPerUser: cfg.SSHMaxSessions, Logger: log.With("component", "ssh"),
		}, gateway.Deps{
			Auth:      handlers.GatewayAuth{Accounts: db},
			Directory: h.GatewayDirectory(),
			Audit:     gatewayAudit,
			Limiter:   handlers.GatewayLimiter{L: limiter},
			Shells:    shells,
		})
		if err != nil {
			return fmt.Errorf("ssh gateway: %w", err)
		}
		if sshLn, err = net.Listen("tcp", cfg.SSHAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.SSHAddr, err)
		}
		defer sshLn.Close()
		h.UseGateway(sshd)
	}
	// `corral user …` reaches this process through the admin socket.
	var gw sshDisconnector = shells // without the gateway, only browser consoles
	if sshd != nil {
		gw = sshd
	} else {
		h.UseGateway(shells)
	}
	admin, err := listenAdmin(cfg.DataDir, db, gw, log)
	if err != nil {
		return err
	}
	defer admin.Close()

	up := listening{HTTP: httpLn.Addr().String()}
	if sshLn != nil {
		up.SSH = sshLn.Addr().String()
	}
	g, gctx := errgroup.WithContext(ctx)
	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan struct{})
	go func() { defer close(runnerDone); runner.Run(runCtx) }()
	sched.Start()
	log.Info("corral started", "version", version, "http", up.HTTP, "ssh", up.SSH, "data", cfg.DataDir, "redis", cfg.RedisURL != "")
	if ready != nil {
		ready(up)
	}

	g.Go(func() error { return admin.Serve(gctx) })
	g.Go(func() error {
		if err := srv.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	gatewayDone := make(chan struct{})
	if sshd != nil {
		g.Go(func() error {
			defer close(gatewayDone)
			if err := sshd.Serve(sshLn); !errors.Is(err, gateway.ErrServerClosed) && gctx.Err() == nil {
				return fmt.Errorf("ssh gateway: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		err := srv.Shutdown(sctx)
		// Browser consoles run on hijacked connections Shutdown leaves alone.
		if cerr := shells.Shutdown(sctx); cerr != nil {
			log.Warn("browser consoles still open at shutdown", "err", cerr)
		}
		if sshd != nil {
			// Close our listener and let Serve return before Shutdown waits
			// for open sessions: gliderlabs' Shutdown races with a Serve
			// that is still starting, and misses a listener it has not seen.
			sshLn.Close()
			<-gatewayDone
			if serr := sshd.Shutdown(sctx); serr != nil && !errors.Is(serr, gateway.ErrServerClosed) {
				// Sessions still open after the grace period are cut.
				log.Warn("ssh gateway shutdown: closing remaining sessions", "err", serr)
				sshd.Close()
			}
		}
		if serr := sched.Shutdown(); serr != nil {
			log.Error("scheduler shutdown", "err", serr)
		}
		// A job cut off here is left "running", exactly as after a crash:
		// the next start's Recover resumes it or marks it interrupted.
		stopRunner()
		<-runnerDone
		return err
	})
	return g.Wait()
}

// newScheduler registers the periodic jobs, each in singleton mode so a slow
// run is never overlapped by the next.
func newScheduler(db *store.DB, vmids *clusters.VMIDs, cfg Config, log *slog.Logger) (gocron.Scheduler, error) {
	sched, err := gocron.NewScheduler(gocron.WithLogger(gocronLogger{log.With("component", "cron")}))
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	single := gocron.WithSingletonMode(gocron.LimitModeReschedule)
	if _, err := sched.NewJob(gocron.DurationJob(time.Hour), gocron.NewTask(func(ctx context.Context) {
		if n, err := db.PurgeExpiredSessions(ctx); err != nil {
			log.Error("purge expired sessions", "err", err)
		} else if n > 0 {
			log.Info("purged expired sessions", "count", n)
		}
	}), single, gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
		return nil, fmt.Errorf("schedule session purge: %w", err)
	}
	if _, err := sched.NewJob(gocron.DurationJob(time.Hour), gocron.NewTask(func(ctx context.Context) {
		purgeRecords(ctx, db, cfg.AuditRetention, log)
	}), single, gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
		return nil, fmt.Errorf("schedule audit purge: %w", err)
	}
	if _, err := sched.NewJob(gocron.DurationJob(cfg.RefreshInterval), gocron.NewTask(func(ctx context.Context) {
		// Unreachable clusters are reported on the pages; here they would repeat every minute.
		if err := vmids.RefreshAll(ctx); err != nil {
			log.Debug("vmid refresh", "err", err)
		}
	}), single, gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
		return nil, fmt.Errorf("schedule vmid refresh: %w", err)
	}
	return sched, nil
}

func newEcho(cfg Config, log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Client addresses feed the login rate limit: never trust headers unless told to.
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit("8M"))
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRemoteIP: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.Debug("request", "method", v.Method, "uri", handlers.LogPath(v.URI), "status", v.Status, "latency", v.Latency, "remote", v.RemoteIP)
			return nil
		},
	}))
	return e
}

// gocronLogger adapts slog to gocron's logger interface.
type gocronLogger struct{ l *slog.Logger }

func (g gocronLogger) Debug(msg string, args ...any) { g.l.Debug(msg, args...) }
func (g gocronLogger) Info(msg string, args ...any)  { g.l.Debug(msg, args...) }
func (g gocronLogger) Warn(msg string, args ...any)  { g.l.Warn(msg, args...) }
func (g gocronLogger) Error(msg string, args ...any) { g.l.Error(msg, args...) }

// purgeRecords drops audit entries older than the retention and invite
// links past their expiry.
func purgeRecords(ctx context.Context, db *store.DB, retention time.Duration, log *slog.Logger) {
	if n, err := db.PurgeAudit(ctx, time.Now().Add(-retention)); err != nil {
		log.Error("purge audit log", "err", err)
	} else if n > 0 {
		log.Info("purged old audit entries", "count", n, "older_than", shortDuration(retention))
	}
	if n, err := db.PurgeExpiredInvites(ctx); err != nil {
		log.Error("purge invite links", "err", err)
	} else if n > 0 {
		log.Info("purged expired invite links", "count", n)
	}
}
