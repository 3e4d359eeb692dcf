package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/matcher/alertgen"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// startupMain measures a node's start-up with -alerts saved alerts in
// PostgreSQL (three per user, from the matcher's alert generator, as in
// BENCHMARKS.md's matcher figures): the time from starting the process to
// serving HTTP, and to the matcher's "loaded criteria" (its index built from
// every alert, after which it matches), and the node's memory then.
func startupMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	nAlerts := fs.Int("alerts", 1_000_000, "saved alerts")
	repeat := fs.Int("repeat", 2, "node starts to time")
	seed := fs.Uint64("seed", 1, "generator seed")
	binFlag(fs)
	fs.Parse(args)
	if *nAlerts < 1 || *nAlerts > 5_000_000 || *repeat < 1 || *repeat > 10 {
		return fmt.Errorf("1..5,000,000 alerts, 1..10 starts")
	}
	dbURL, drop, err := scratchDB(ctx, "startup")
	if err != nil {
		return err
	}
	defer drop()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	t := time.Now()
	if err := loadAlerts(ctx, pool, *nAlerts, *seed); err != nil {
		return err
	}
	var size int64
	pool.QueryRow(ctx, `SELECT pg_total_relation_size('alerts')`).Scan(&size)
	loadTook := time.Since(t)

	header(fmt.Sprintf("Node start-up with %d saved alerts", *nAlerts))
	fmt.Printf("fixtures: %d alerts of %d users written in %s (alerts table %s); node: web and matcher roles\n\n",
		*nAlerts, (*nAlerts+2)/3, loadTook.Round(time.Second), mib(size))
	fmt.Println("| start | serving HTTP after | matcher index built after | of which loading (matcher's took_ms) | node CPU until built | alerts loaded | node RSS | Go heap in use | machine |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for run := 1; run <= *repeat; run++ {
		m0 := machineNow()
		n, err := startNode(ctx, "cap-startup", dbURL, map[string]string{"BIRJOB_MATCH": "true"})
		if err != nil {
			return err
		}
		serving, _ := n.when("birjob serving")
		loaded, err := n.waitLog(ctx, "matcher loaded criteria", 10*time.Minute)
		if err != nil {
			n.stop()
			return err
		}
		cpu := procCPU(n.pid())
		took, _ := n.attrOf("matcher loaded criteria", "took_ms").(float64)
		alerts, _ := n.attrOf("matcher loaded criteria", "alerts").(float64)
		mach := machineNow().since(m0)
		time.Sleep(2 * time.Second)
		m := n.metrics()
		fmt.Printf("| %d | %s | %s | %.2f s | %.2f s | %.0f | %s | %s | %s |\n", run,
			serving.Sub(n.started).Round(time.Millisecond), loaded.Sub(n.started).Round(time.Millisecond), took/1000,
			cpu.Seconds(), alerts, mib(rss(n.pid())), mib(int64(m["go_memstats_heap_inuse_bytes"])), mach)
		n.stop()
	}
	return loadPhases(ctx, pool, *repeat)
}

// loadPhases times, in this process, the first two steps of the matcher's
// load: reading every alert through storage (EachActiveAlert, the query
// the matcher runs) and also decoding each one's criteria, so that the
// index build is the rest.
func loadPhases(ctx context.Context, pool *pgxpool.Pool, repeat int) error {
	st := storage.New(pool)
	fmt.Println("\n| the matcher's load, step by step (in this process) | wall | CPU of this process |")
	fmt.Println("|---|---|---|")
	for range repeat {
		for _, decode := range []bool{false, true} {
			t, c := time.Now(), selfCPU()
			var k int
			err := st.EachActiveAlert(ctx, func(a storage.AlertCriteria) error {
				k++
				if decode {
					var c model.Criteria
					return json.Unmarshal(a.Criteria, &c)
				}
				return nil
			})
			if err != nil {
				return err
			}
			what := fmt.Sprintf("read %d alerts (EachActiveAlert)", k)
			if decode {
				what += " and decode their criteria (json.Unmarshal)"
			}
			fmt.Printf("| %s | %.2f s | %.2f s |\n", what, time.Since(t).Seconds(), (selfCPU() - c).Seconds())
		}
	}
	return nil
}

// selfCPU is this process's CPU time (user + system), all threads.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAlerts writes n alerts of n/3 users with one COPY. The alerts'
// criteria-change trigger (migration 003) is off while it runs: a
// deployment that has gathered a million alerts has long pruned their
// change rows, and a node loads the alerts themselves at start.
func loadAlerts(ctx context.Context, pool *pgxpool.Pool, n int, seed uint64) error {
	users := (n + 2) / 3
	if _, err := pool.Exec(ctx, `INSERT INTO users (email, password_hash)
		SELECT 'u' || i || '@capacity.test', 'x' FROM generate_series(1, $1) i`, users); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	var first int64
	if err := pool.QueryRow(ctx, `SELECT min(id) FROM users`).Scan(&first); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE alerts DISABLE TRIGGER alerts_criteria_changes`); err != nil {
		return err
	}
	g := alertgen.New(seed)
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"alerts"}, []string{"user_id", "name", "criteria"},
		pgx.CopyFromFunc(func() func() ([]any, error) {
			i := 0
			return func() ([]any, error) {
				if i == n {
					return nil, nil
				}
				c, err := json.Marshal(g.Criteria())
				if err != nil {
					return nil, err
				}
				row := []any{first + int64(i/3), fmt.Sprintf("alert %d", i+1), string(c)}
				i++
				return row, nil
			}
		}()))
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE alerts ENABLE TRIGGER alerts_criteria_changes`); err != nil {
		return err
	}
	_, err = pool.Exec(ctx, `ANALYZE alerts`)
	return err
}
