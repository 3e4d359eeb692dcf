// Package app wires birjob together: it reads the configuration, opens the
// database (or starts the embedded cluster), migrates, and runs the roles
// of this node — web server with the notification hub, source scheduler,
// matcher — until the context ends, then stops them in order.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/internal/pgembed"
	"github.com/birjob/birjob/migrations"
	"github.com/birjob/birjob/storage"
)

// App is one running birjob node.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	cluster *pgembed.Cluster
	pool    *pgxpool.Pool
	store   *storage.Store
	auth    *auth.Service
	reg     *prometheus.Registry
	// httpMetrics counts and times the requests of handler's mux.
	httpMetrics *httpx.Metrics
	listener    net.Listener
	server      *http.Server
	parts       *parts

	ready chan struct{}
}

// Options tune an App beyond the configuration (tests use them).
type Options struct {
	// HashCost overrides the bcrypt cost.
	HashCost int
	// Listener, when set, is used instead of listening on cfg.Addr.
	Listener net.Listener
}

// New opens the database (starting the embedded cluster when no
// DATABASE_URL is set), migrates it and builds the node's parts. Start it
// with Run.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*App, error) {
	a := &App{cfg: cfg, log: log, reg: prometheus.NewRegistry(), ready: make(chan struct{})}
	a.httpMetrics = httpx.NewMetrics(a.reg, func(route string) bool {
		return route == "/api/ws" || strings.HasPrefix(route, "/api/events")
	})
	if err := a.open(ctx, opts); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *App) open(ctx context.Context, opts Options) (err error) {
	cfg, log := a.cfg, a.log
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		dir := filepath.Join(cfg.DataDir, "pg")
		log.Info("no DATABASE_URL: starting the embedded PostgreSQL", "dir", dir)
		c, err := pgembed.Start(ctx, pgembed.Options{Dir: dir})
		if errors.Is(err, pgembed.ErrNoServer) {
			return err
		}
		if err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
		a.cluster = c
		dbURL = c.URL()
		if abs, _ := filepath.Abs(dir); c.Dir() != abs {
			log.Info("the embedded PostgreSQL's account cannot enter the data dir; its cluster lives elsewhere", "dir", c.Dir())
		}
		log.Info("embedded PostgreSQL ready", "port", c.Port(), "pid", c.PID(), "dir", c.Dir())
	}
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	if pcfg.MaxConns < 20 {
		pcfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	a.pool = pool
	if err := a.migrate(ctx); err != nil {
		return err
	}
	a.store = storage.New(pool)
	var authOpts []auth.Option
	if opts.HashCost > 0 {
		authOpts = append(authOpts, auth.WithHashCost(opts.HashCost))
	}
	a.auth = auth.NewService(a.store, log, authOpts...)
	if cfg.AdminEmail != "" {
		u, err := a.auth.BootstrapAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		log.Info("admin account ready", "user_id", u.ID, "email", u.Email)
	}
	if cfg.Web {
		a.listener = opts.Listener
		if a.listener == nil {
			l, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			a.listener = l
		}
	}
	if a.parts, err = buildParts(ctx, a); err != nil {
		return err
	}
	return nil
}

func (a *App) migrate(ctx context.Context) error {
	conn, err := a.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer conn.Release()
	if err := migrations.Migrate(ctx, conn.Conn()); err != nil {
		return err
	}
	return nil
}

// Addr is the web server's address (useful with BIRJOB_ADDR=:0).
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// URL is the base URL of the web server.
func (a *App) URL() string {
	addr, ok := a.listener.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Pool is the database pool.
func (a *App) Pool() *pgxpool.Pool { return a.pool }

// Ready is closed once the node serves.
func (a *App) Ready() <-chan struct{} { return a.ready }

func (a *App) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.handleReady)
	// /metrics tells about every source, user count and stream: only to
	// admins and to BIRJOB_METRICS_ALLOW (loopback and private networks by
	// default, where Prometheus lives; a client through a trusted proxy is
	// judged by its own address).
	mux.Handle("GET /metrics", auth.Restrict(a.cfg.MetricsAllow, promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg})))
	srv := api.New(a.store, a.parts.validate).WithSearch(a.parts.search).
		WithScraper(a.parts.scraper).WithStats(a.parts.stats()).WithAuth(a.auth).WithNotifications(a.parts.courier)
	if a.parts.accountMail != nil {
		srv.WithAccounts(a.parts.accountMail, a.cfg.RequireEmailVerification)
	}
	if a.parts.hub != nil {
		srv.WithHub(a.parts.hub)
	}
	srv.Routes(mux)
	a.parts.routes(mux)
	return auth.TrustProxies(a.cfg.TrustedProxies, a.auth.Middleware(a.httpMetrics.Wrap(mux)))
}

func (a *App) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	conn, err := a.pool.Acquire(ctx)
	if err != nil {
		httpx.Errorf(w, http.StatusServiceUnavailable, "database unreachable: %v", err)
		return
	}
	defer conn.Release()
	v, err := migrations.Current(ctx, conn.Conn())
	if err != nil {
		httpx.Errorf(w, http.StatusServiceUnavailable, "database unreachable: %v", err)
		return
	}
	if v != migrations.Latest() {
		httpx.Errorf(w, http.StatusServiceUnavailable, "schema at version %d, this birjob needs %d", v, migrations.Latest())
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "schema": v})
}

// Run serves until ctx ends, then shuts down in order: end the streams with
// a retry hint, stop accepting and finish requests, stop the background
// workers, close the pool, stop the embedded cluster. It is bounded by the
// configured shutdown timeout.
func (a *App) Run(ctx context.Context) error {
	defer a.close()
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for _, w := range a.parts.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(workCtx); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("worker stopped", "worker", w.name, "err", err)
				errc <- fmt.Errorf("%s: %w", w.name, err)
			}
		}()
	}
	if a.listener != nil {
		a.server = &http.Server{
			Handler:           a.handler(),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
		}
		go func() {
			if err := a.server.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
			}
		}()
		a.log.Info("birjob serving", "url", a.URL(), "node", a.cfg.Node)
	}
	close(a.ready)
	var runErr error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down")
	case runErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if a.parts.shutdownStreams != nil {
		a.parts.shutdownStreams(sctx)
	}
	if a.server != nil {
		if err := a.server.Shutdown(sctx); err != nil {
			a.log.Warn("http shutdown", "err", err)
			a.server.Close()
		}
	}
	stopWork()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-sctx.Done():
		a.log.Warn("workers did not stop in time")
	}
	return runErr
}

func (a *App) close() {
	if a.pool != nil {
		a.pool.Close()
		a.pool = nil
	}
	if a.cluster != nil {
		if err := a.cluster.Stop(); err != nil {
			a.log.Warn("stop embedded postgres", "err", err)
		} else {
			a.log.Info("embedded PostgreSQL stopped")
		}
		a.cluster = nil
	}
}

// purgeSessions deletes expired sessions and mailed tokens every hour;
// they are refused anyway, this only keeps the tables small.
func (a *App) purgeSessions(ctx context.Context) error {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := a.store.DeleteExpiredTokens(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("purge expired sessions", "err", err)
		} else if n > 0 {
			a.log.Info("purged expired sessions", "count", n)
		}
		// Mailed tokens a day past their expiry: kept that long so that a
		// late click is told "expired", not "not valid".
		if n, err := a.store.DeleteOldAccountTokens(ctx, time.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			a.log.Warn("purge old account tokens", "err", err)
		} else if n > 0 {
			a.log.Info("purged old account tokens", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// NewLogger returns the process logger.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	lvl := slog.LevelInfo
	if cfg.Debug {
		lvl = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
