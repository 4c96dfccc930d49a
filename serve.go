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
	"corral/exec/access"
	"corral/exec/gateway"
	"corral/exec/nodeprobe"
	"corral/exec/provision"
	"corral/handlers"
	"corral/handlers/metrics"
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

// serve runs Corral until ctx ends: it builds the application, then runs it.
func serve(ctx context.Context, cfg Config, logOut io.Writer, ready func(listening)) error {
	a, err := build(ctx, cfg, logOut)
	defer a.close() // also what a failed build had opened
	if err != nil {
		return err
	}
	return a.run(ctx, ready)
}

// app is Corral built and bound but not yet serving: the store, the caches,
// the services both doors share, the web handlers and the SSH gateway built
// from them, the job runner, the scheduler and the listeners.
type app struct {
	cfg    Config
	log    *slog.Logger
	runner *provision.Runner
	sched  gocron.Scheduler
	srv    *http.Server
	httpLn net.Listener
	sshd   *gateway.Server // nil without --ssh
	shells *gateway.Shells // the way into containers, for both doors
	sshLn  net.Listener
	admin  *adminServer
	up     listening
	stats  *metrics.Metrics // nil without --metrics

	closers []func() // run in reverse by close
}

// onClose registers fn to run when the app closes, before what was
// registered earlier.
func (a *app) onClose(fn func()) { a.closers = append(a.closers, fn) }

// close releases what build opened, last first: listeners, caches, database.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// services are what the web pages and the SSH gateway share; serve builds
// them once, and each door from them.
type services struct {
	db      *store.DB
	clients clusters.Clients
	reader  *clusters.Reader
	vmids   *clusters.VMIDs
	limiter *access.LoginLimiter // one for both doors: switching gives no extra tries
	runner  *provision.Runner
	hostKey ssh.Signer // the gateway's; nil without --ssh
	// shells is the one way into containers for both doors, the SSH
	// gateway and the browser console: one session limit per account, one
	// idle timeout, one audit trail.
	shells *gateway.Shells
	audit  access.GatewayAuditor
}

// build wires Corral in order store → caches → services → job runner →
// handlers and gateway → listeners → scheduler. On error the returned app
// still holds what was opened, for close.
func build(ctx context.Context, cfg Config, logOut io.Writer) (*app, error) {
	log := newLogger(cfg, logOut)
	logSettings(log, cfg)
	a := &app{cfg: cfg, log: log}
	if cfg.Metrics {
		a.stats = metrics.New(log.With("component", "metrics"))
	}
	svc, err := a.buildServices(ctx)
	if err != nil {
		return a, err
	}
	a.runner, a.shells = svc.runner, svc.shells

	h := a.buildHandlers(svc)
	e := newEcho(cfg, log)
	if a.stats != nil {
		a.stats.SetSources(metrics.Sources{Jobs: svc.db.JobCounts, Sessions: svc.shells.Open})
		e.Use(a.stats.Middleware())
		e.GET("/metrics", a.stats.Handler(cfg.MetricsToken))
	}
	h.Register(e)
	if a.sched, err = newScheduler(svc.db, svc.vmids, cfg, log); err != nil {
		return a, err
	}

	if a.httpLn, err = net.Listen("tcp", cfg.Addr); err != nil {
		return a, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a.onClose(func() { a.httpLn.Close() })
	a.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	a.up = listening{HTTP: a.httpLn.Addr().String()}

	if cfg.SSHAddr != "" {
		if a.sshd, err = buildGateway(cfg, svc, log); err != nil {
			return a, err
		}
		if a.sshLn, err = net.Listen("tcp", cfg.SSHAddr); err != nil {
			return a, fmt.Errorf("listen on %s: %w", cfg.SSHAddr, err)
		}
		a.onClose(func() { a.sshLn.Close() })
		a.up.SSH = a.sshLn.Addr().String()
		h.UseGateway(a.sshd)
	}
	// `corral user …` reaches this process through the admin socket.
	var gw sshDisconnector = svc.shells // without the gateway, only browser consoles
	if a.sshd != nil {
		gw = a.sshd
	} else {
		h.UseGateway(svc.shells)
	}
	if a.admin, err = listenAdmin(cfg.DataDir, svc.db, gw, log); err != nil {
		return a, err
	}
	a.onClose(func() { a.admin.Close() })
	return a, nil
}

// buildServices opens the store and the caches and builds the services
// both doors share, and the job runner over them.
func (a *app) buildServices(ctx context.Context) (*services, error) {
	cfg, log := a.cfg, a.log
	db, err := openStore(cfg, log)
	if err != nil {
		return nil, err
	}
	a.onClose(func() {
		if err := db.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	})
	vstore, closeVStore, err := newVMIDStore(cfg, log)
	if err != nil {
		return nil, err
	}
	a.onClose(closeVStore)
	// Every read of a node's API goes through one cache of clients, and
	// every read of a cluster through one reader, which shares a read
	// among everyone asking within a few seconds (issue 17).
	svc := &services{db: db, clients: clusters.NewClients(log.With("component", "proxmox"), a.proxmoxOptions()...)}
	svc.reader = clusters.NewReader(svc.clients, clusters.WithFreshness(clusters.DefaultFreshness))
	vopts := []clusters.VMIDOption{clusters.WithRefreshInterval(cfg.RefreshInterval)}
	if a.stats != nil {
		vopts = append(vopts, clusters.WithLookupObserver(a.stats.VMIDLookup),
			clusters.WithRefreshObserver(func(r clusters.RefreshResult) { a.stats.VMIDRefresh(r.Duration, r.Err) }))
	}
	svc.vmids = clusters.NewVMIDs(vstore, svc.reader, db, log.With("component", "vmid"), vopts...)
	a.onClose(svc.vmids.Close)
	svc.limiter = access.NewLoginLimiter(5, time.Minute, time.Now)
	svc.audit = access.GatewayAuditor{Log: db, Keys: db, SignIns: db}
	svc.shells = gateway.NewShells(gateway.ShellsConfig{IdleTimeout: cfg.SSHIdleTimeout,
		MaxSessionsPerUser: cfg.SSHMaxSessions, Logger: log.With("component", "ssh")}, svc.audit)

	// The SSH gateway's host key exists before the pages that show its fingerprint.
	if cfg.SSHAddr != "" {
		if svc.hostKey, err = gateway.LoadOrCreateHostKey(filepath.Join(cfg.DataDir, "ssh_host_ed25519_key")); err != nil {
			return nil, fmt.Errorf("ssh gateway host key: %w", err)
		}
	}

	svc.runner, err = provision.New(provision.Config{
		Store: db, Proxmox: svc.clients, VMIDs: svc.vmids, Logger: log.With("component", "jobs"),
		Dial: func(ctx context.Context, n store.Node) (provision.Shell, error) {
			h, err := exec.Dial(ctx, access.HostTarget(n))
			if err != nil {
				return nil, err
			}
			return h, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("job runner: %w", err)
	}
	// Jobs a previous run left unfinished resume or are marked interrupted
	// before anything new is queued.
	if err := svc.runner.Recover(ctx); err != nil {
		log.Warn("recovering unfinished jobs", "err", err)
	}
	return svc, nil
}

// proxmoxOptions are the options of every Proxmox client: with --metrics,
// each request is counted.
func (a *app) proxmoxOptions() []proxmox.Option {
	if a.stats == nil {
		return nil
	}
	return []proxmox.Option{proxmox.WithObserver(a.stats.ObserveProxmox)}
}

// buildHandlers builds the web door from the shared services.
func (a *app) buildHandlers(svc *services) *handlers.Handler {
	cfg, db := a.cfg, svc.db
	var gatewayInfo handlers.SSHGatewayInfo
	if svc.hostKey != nil {
		_, port, _ := net.SplitHostPort(cfg.SSHAddr)
		gatewayInfo = handlers.SSHGatewayInfo{Fingerprint: gateway.Fingerprint(svc.hostKey.PublicKey()), Port: port}
	}
	return handlers.New(handlers.Deps{
		Accounts:    db,
		Sessions:    db.Sessions("corral_session", cfg.SessionTTL),
		Audit:       db,
		Limiter:     svc.limiter,
		Templates:   tmplfs.Library{DB: db, Dir: cfg.TemplatesDir},
		Proxmox:     svc.clients,
		Clusters:    svc.reader,
		Nodes:       db,
		Prober:      nodeprobe.New(a.log.With("component", "probe"), a.proxmoxOptions()...),
		Containers:  db,
		VMIDs:       svc.vmids,
		Provisioner: svc.runner,
		SSHKeys:     db,
		Events:      db,
		Services:    handlers.NewSSHInspector(),
		Locks:       handlers.NewContainerLocks(),
		SSHGateway:  gatewayInfo,
		Console:     svc.shells,
		AuditTTL:    cfg.AuditRetention,
		Cookies:     handlers.CookiePolicy{AlwaysSecure: cfg.CookieSecure, TrustProxy: cfg.TrustProxy},
		Logger:      a.log.With("component", "http"),
		Version:     version,
	})
}

// buildGateway builds the SSH door from the shared services.
func buildGateway(cfg Config, svc *services, log *slog.Logger) (*gateway.Server, error) {
	db := svc.db
	sshd, err := gateway.NewServer(gateway.Config{
		Addr: cfg.SSHAddr, HostKey: svc.hostKey, IdleTimeout: cfg.SSHIdleTimeout,
		MaxSessionsPerUser: cfg.SSHMaxSessions, Logger: log.With("component", "ssh"),
	}, gateway.Deps{
		Auth:      access.GatewayAuth{Accounts: db},
		Directory: access.Directory{Nodes: db, Clusters: svc.reader},
		Audit:     svc.audit,
		Limiter:   access.GatewayLimiter{L: svc.limiter},
		Shells:    svc.shells,
	})
	if err != nil {
		return nil, fmt.Errorf("ssh gateway: %w", err)
	}
	return sshd, nil
}

// run serves until ctx ends, then shuts down in reverse order of start:
// listeners (finishing in-flight requests), scheduler, runner.
func (a *app) run(ctx context.Context, ready func(listening)) error {
	log := a.log
	g, gctx := errgroup.WithContext(ctx)
	runCtx, stopRunner := context.WithCancel(context.Background())
	runnerDone := make(chan struct{})
	go func() { defer close(runnerDone); a.runner.Run(runCtx) }()
	a.sched.Start()
	log.Info("corral started", "version", version, "http", a.up.HTTP, "ssh", a.up.SSH, "data", a.cfg.DataDir, "redis", a.cfg.RedisURL != "")
	if ready != nil {
		ready(a.up)
	}

	g.Go(func() error { return a.admin.Serve(gctx) })
	g.Go(func() error {
		if err := a.srv.Serve(a.httpLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	gatewayDone := make(chan struct{})
	if a.sshd != nil {
		g.Go(func() error {
			defer close(gatewayDone)
			if err := a.sshd.Serve(a.sshLn); !errors.Is(err, gateway.ErrServerClosed) && gctx.Err() == nil {
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
		err := a.srv.Shutdown(sctx)
		// Browser consoles run on hijacked connections Shutdown leaves alone.
		if cerr := a.shells.Shutdown(sctx); cerr != nil {
			log.Warn("browser consoles still open at shutdown", "err", cerr)
		}
		if a.sshd != nil {
			a.shutdownGateway(sctx, gatewayDone)
		}
		if serr := a.sched.Shutdown(); serr != nil {
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

// shutdownGateway closes the SSH listener, lets Serve return, then waits
// for open sessions until sctx ends and cuts the rest.
func (a *app) shutdownGateway(sctx context.Context, served <-chan struct{}) {
	// Close our listener and let Serve return before Shutdown waits
	// for open sessions: gliderlabs' Shutdown races with a Serve
	// that is still starting, and misses a listener it has not seen.
	a.sshLn.Close()
	<-served
	if err := a.sshd.Shutdown(sctx); err != nil && !errors.Is(err, gateway.ErrServerClosed) {
		// Sessions still open after the grace period are cut.
		a.log.Warn("ssh gateway shutdown: closing remaining sessions", "err", err)
		a.sshd.Close()
	}
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
