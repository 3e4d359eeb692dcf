package demoboard

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"
)

// Main runs the board standalone ("birjob demo-board"): it parses args
// (-addr, default ":8081"; -seed; -interval; -lifetime; -per-page), serves
// at the root of its host until SIGINT or SIGTERM, then shuts down within a
// few seconds. It returns flag errors and listen errors.
func Main(args []string) error {
	fs := flag.NewFlagSet("demo-board", flag.ContinueOnError)
	addr := fs.String("addr", ":8081", "listen address")
	seed := fs.Int64("seed", 1, "content seed: the same seed gives the same jobs")
	interval := fs.Duration("interval", DefaultInterval, "time between two new jobs")
	lifetime := fs.Duration("lifetime", DefaultLifetime, "how long a job stays listed")
	perPage := fs.Int("per-page", DefaultPerPage, "jobs per list page")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo-board: unexpected arguments %q", fs.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return Serve(ctx, *addr, New(Options{Seed: *seed, Interval: *interval, Lifetime: *lifetime, PerPage: *perPage}))
}

// Serve serves b on addr until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, addr string, b *Board) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo-board: listen: %w", err)
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	slog.Info("demo board listening", "addr", ln.Addr().String(), "start_url", b.StartURL("http://"+ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("demo-board: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("demo-board: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("demo-board: serve: %w", err)
	}
	return nil
}
