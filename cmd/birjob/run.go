package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/pgembed"
)

const usage = `birjob — job alerts delivered the moment a job appears.

Usage:
  birjob [flags]              run everything (web, scheduler, scrapers, matcher)
  birjob config [flags]       print the effective configuration (no secrets)
  birjob admin [flags]        create or update the admin of BIRJOB_ADMIN_EMAIL/PASSWORD and exit
  birjob migrate [flags]      apply database migrations and exit
  birjob demo-board [-addr :8081] [-seed 1] [-interval 5s]
                              serve the demo job board on its own
  birjob healthcheck          exit 0 when the local server answers /healthz (for container health checks)
  birjob help                 this text

`

// run runs the birjob command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help":
		fmt.Fprint(stdout, usage)
		config.Usage(stdout)
		return 0
	case "demo-board":
		if err := demoBoardMain(args); err != nil {
			fmt.Fprintln(stderr, "birjob demo-board:", err)
			return 1
		}
		return 0
	case "healthcheck":
		return healthcheck(stderr)
	case "", "serve", "config", "admin", "migrate":
	default:
		fmt.Fprintf(stderr, "birjob: unknown command %q (try birjob help)\n", cmd)
		return 2
	}
	cfg, _, err := config.Load(args, os.Getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "birjob:", err)
		return 2
	}
	if cmd == "config" {
		cfg.Print(stdout)
		return 0
	}
	log := NewLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd == "admin" {
		if cfg.AdminEmail == "" {
			fmt.Fprintln(stderr, "birjob admin: set BIRJOB_ADMIN_EMAIL and BIRJOB_ADMIN_PASSWORD (or -admin-email and -admin-password)")
			return 2
		}
		cfg.Web, cfg.Scrape, cfg.Match, cfg.Demo = false, false, false, config.DemoOff
	}
	if cmd == "migrate" {
		cfg.Web, cfg.Scrape, cfg.Match, cfg.Demo = false, false, false, config.DemoOff
	}
	a, err := New(ctx, cfg, log, Options{})
	if err != nil {
		if errors.Is(err, pgembed.ErrNoServer) {
			fmt.Fprintln(stderr, "birjob:", err)
			return 1
		}
		fmt.Fprintln(stderr, "birjob:", err)
		return 1
	}
	if cmd == "admin" || cmd == "migrate" {
		a.close()
		log.Info("done", "command", cmd)
		return 0
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "birjob:", err)
		return 1
	}
	return 0
}

// healthcheck asks the local server's /healthz; for a container's health
// check, where no curl is installed.
func healthcheck(stderr io.Writer) int {
	cfg, _, err := config.Load(nil, os.Getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "birjob:", err)
		return 2
	}
	_, port, _ := net.SplitHostPort(cfg.Addr)
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		fmt.Fprintln(stderr, "birjob healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "birjob healthcheck: status", resp.Status)
		return 1
	}
	return 0
}
