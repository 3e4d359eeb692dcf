// Command birjob-capacity measures the figures of the capacity model in the
// README's operations section ("Capacity"): what one PostgreSQL's event log
// sustains, what a node pays for events none of its clients want, what
// idle connections cost a node, and how long a node with a million saved
// alerts takes to start. Each measurement works on a scratch database it
// creates on the server and drops at the end, and starts birjob nodes as
// child processes of the real binary (bin/birjob, `make build`), on
// loopback only; it stops them before it exits.
//
//	birjob-capacity append   -writers 1,4,16 -batch 1,100 -duration 10s -repeat 2
//	birjob-capacity unwanted -nodes 3 -rates 1000,3000 -window 20s -repeat 2
//	birjob-capacity idle     -clients 100000 -step 5000
//	birjob-capacity startup  -alerts 1000000 -repeat 2
//
// The server is DATABASE_URL, else the local postgres://postgres@127.0.0.1:5432/postgres.
// Results are printed as Markdown tables (BENCHMARKS.md, "Capacity").
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/internal/procstat"
	"github.com/birjob/birjob/migrations"
)

const defaultServer = "postgres://postgres@127.0.0.1:5432/postgres"

const usage = `birjob-capacity measures birjob's capacity model (see BENCHMARKS.md).

  birjob-capacity append   [flags]   appends/s the event log sustains, with and without the commit-order lock
  birjob-capacity unwanted [flags]   a node's CPU and memory per 1,000 events/s none of its clients want
  birjob-capacity idle     [flags]   memory, descriptors and goroutines of idle SSE connections on one node
  birjob-capacity startup  [flags]   a node's start-up time with N saved alerts in PostgreSQL

Each takes -h for its flags. The server is DATABASE_URL, else ` + defaultServer + `.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	// The SSE client processes of "idle" are this binary too.
	if os.Args[1] == "sse-clients" {
		if err := sseClientsMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "birjob-capacity sse-clients:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	procstat.RaiseFDLimit(250_000)
	var err error
	switch os.Args[1] {
	case "append":
		err = appendMain(ctx, os.Args[2:])
	case "unwanted":
		err = unwantedMain(ctx, os.Args[2:])
	case "idle":
		err = idleMain(ctx, os.Args[2:])
	case "startup":
		err = startupMain(ctx, os.Args[2:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "birjob-capacity:", err)
		stop()
		os.Exit(1)
	}
}

func server() string {
	if s := os.Getenv("DATABASE_URL"); s != "" {
		return s
	}
	return defaultServer
}

// scratchDB creates a fresh database on the server, migrates it, and returns
// its URL and a function that drops it.
func scratchDB(ctx context.Context, what string) (string, func(), error) {
	srv := server()
	var b [4]byte
	rand.Read(b[:])
	name := "birjob_capacity_" + what + "_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, srv)
	if err != nil {
		return "", nil, fmt.Errorf("connect %s: %w", srv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), srv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "drop %s: %v\n", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop %s: %v\n", name, err)
		}
	}
	u, err := url.Parse(srv)
	if err != nil {
		drop()
		return "", nil, err
	}
	u.Path = "/" + name
	mc, err := pgx.Connect(ctx, u.String())
	if err != nil {
		drop()
		return "", nil, err
	}
	defer mc.Close(ctx)
	if err := migrations.Migrate(ctx, mc); err != nil {
		drop()
		return "", nil, fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(os.Stderr, "scratch database %s\n", name)
	return u.String(), drop, nil
}

// ints parses a comma-separated list of positive integers.
func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// header prints what every report starts with: the machine and its load.
func header(title string) {
	la, _ := os.ReadFile("/proc/loadavg")
	fields := strings.Fields(string(la))
	load := "?"
	if len(fields) >= 3 {
		load = strings.Join(fields[:3], " ")
	}
	fmt.Printf("\n## %s\n\n%s, %d CPUs, load average %s, server %s\n\n", title,
		time.Now().Format("2006-01-02 15:04"), runtime.NumCPU(), load, redact(server()))
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "?"
	}
	return u.Redacted()
}
