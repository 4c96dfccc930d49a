package main

import (
	"context"
	"errors"
	"flag"
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
	"golang.org/x/sync/errgroup"

	"corral/handlers"
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

func flagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
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

// serve runs Corral until ctx ends, then shuts down in reverse order of
// start-up: HTTP (finishing in-flight requests), scheduler, database.
func serve(ctx context.Context, cfg Config, logOut io.Writer, ready func(listening)) error {
	log := newLogger(cfg, logOut)
	db, err := openStore(cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	}()

	if err := db.SeedTemplates(ctx); err != nil {
		return fmt.Errorf("seed built-in templates: %w", err)
	}

	h := handlers.New(handlers.Deps{
		Accounts:   db,
		Sessions:   db.Sessions("corral_session", cfg.SessionTTL),
		Audit:      db,
		Templates:  tmplfs.Library{DB: db, Dir: cfg.TemplatesDir},
		Nodes:      db,
		Containers: db,
		SSHKeys:    db,
		Proxmox:    handlers.NewProxmoxFactory(log.With("component", "proxmox")),
		Prober:     handlers.NewNodeProber(log.With("component", "probe")),
		Logger:     log.With("component", "http"),
		Version:    version,
	})
	e := newEcho(cfg, log)
	h.Register(e)

	sched, err := gocron.NewScheduler(gocron.WithLogger(gocronLogger{log.With("component", "cron")}))
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	if _, err := sched.NewJob(gocron.DurationJob(time.Hour), gocron.NewTask(func(ctx context.Context) {
		if n, err := db.PurgeExpiredSessions(ctx); err != nil {
			log.Error("purge expired sessions", "err", err)
		} else if n > 0 {
			log.Info("purged expired sessions", "count", n)
		}
	}), gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithStartAt(gocron.WithStartImmediately())); err != nil {
		return fmt.Errorf("schedule session purge: %w", err)
	}

	httpLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	sched.Start()
	log.Info("corral started", "version", version, "http", httpLn.Addr().String(), "data", cfg.DataDir)
	if ready != nil {
		ready(listening{HTTP: httpLn.Addr().String()})
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		err := srv.Shutdown(sctx)
		if serr := sched.Shutdown(); serr != nil {
			log.Error("scheduler shutdown", "err", serr)
		}
		return err
	})
	return g.Wait()
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
			log.Debug("request", "method", v.Method, "uri", v.URI, "status", v.Status, "latency", v.Latency, "remote", v.RemoteIP)
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
