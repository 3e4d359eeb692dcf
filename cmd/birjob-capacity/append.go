package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/matcher/alertgen"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// appendMain measures the appends per second one PostgreSQL's event log
// sustains: N writers each calling storage's AppendEvents (the publish
// path; the matcher's COPY takes the same lock) in a loop, with events of
// B rows each, as fast as the server commits them. Each configuration runs
// twice in a row, once with the commit-order lock of migration 005 and
// once with its trigger disabled in the scratch database, which is not a
// configuration birjob can run in (readers could skip events) but shows
// what the lock costs.
func appendMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("append", flag.ExitOnError)
	writersF := fs.String("writers", "1,4,16", "concurrent writers, comma-separated")
	batchF := fs.String("batch", "1,100", "events per AppendEvents call, comma-separated")
	dur := fs.Duration("duration", 10*time.Second, "how long each configuration appends")
	repeat := fs.Int("repeat", 2, "runs of the whole table")
	unlocked := fs.Bool("unlocked", true, "also run each configuration without the commit-order lock")
	fs.Parse(args)
	writers, err := ints(*writersF)
	if err != nil {
		return err
	}
	batches, err := ints(*batchF)
	if err != nil {
		return err
	}
	if *dur <= 0 || *dur > 5*time.Minute || slices.Max(writers) > 64 || slices.Max(batches) > 10000 {
		return fmt.Errorf("duration up to 5m, at most 64 writers and 10,000 events a call")
	}
	dbURL, drop, err := scratchDB(ctx, "append")
	if err != nil {
		return err
	}
	defer drop()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(slices.Max(writers) + 2)
	cfg.ConnConfig.RuntimeParams["application_name"] = "birjob-capacity"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	data := sampleEventData()
	header("Event log appends")
	fmt.Printf("event data %d bytes (a new-job event of a generated job); synchronous_commit %s; %s each\n\n", len(data), setting(ctx, pool, "synchronous_commit"), *dur)
	fmt.Println("| run | writers | events a call | commit-order lock | calls/s | events/s | call p50 | call p99 | machine |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for run := 1; run <= *repeat; run++ {
		for _, b := range batches {
			for _, w := range writers {
				locks := []bool{true}
				if *unlocked {
					locks = append(locks, false)
				}
				for _, locked := range locks {
					if err := setLock(ctx, pool, locked); err != nil {
						return err
					}
					m0 := machineNow()
					r, err := appendRun(ctx, pool, w, b, *dur, data)
					if err != nil {
						return err
					}
					lock := "on"
					if !locked {
						lock = "off (comparison)"
					}
					fmt.Printf("| %d | %d | %d | %s | %.0f | %.0f | %s | %s | %s |\n", run, w, b, lock,
						float64(r.calls)/r.wall.Seconds(), float64(r.calls*b)/r.wall.Seconds(),
						msf(r.q(0.5)), msf(r.q(0.99)), machineNow().since(m0))
				}
			}
		}
	}
	if err := setLock(ctx, pool, true); err != nil {
		return err
	}
	var rows, bytes int64
	if err := pool.QueryRow(ctx, `SELECT count(*), pg_total_relation_size('events') FROM events`).Scan(&rows, &bytes); err == nil && rows > 0 {
		fmt.Printf("\nthe log: %d events, %s with its indexes: %d bytes an event\n", rows, mib(bytes), bytes/rows)
	}
	return nil
}

type appendResult struct {
	calls int
	wall  time.Duration
	lat   []time.Duration
}

func (r appendResult) q(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

// appendRun runs writers loops of AppendEvents of batch events each for dur.
func appendRun(ctx context.Context, pool *pgxpool.Pool, writers, batch int, dur time.Duration, data []byte) (appendResult, error) {
	st := storage.New(pool)
	var mu sync.Mutex
	var res appendResult
	var firstErr error
	end := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			evs := make([]model.Event, batch)
			var lat []time.Duration
			for time.Now().Before(end) && ctx.Err() == nil {
				for i := range evs {
					// Personal channels of a million users: what a fan-out writes.
					evs[i] = model.Event{Channel: model.UserChannel(rand.Int64N(1_000_000) + 1), Type: model.EventNewJob, Data: data}
				}
				t := time.Now()
				if _, err := st.AppendEvents(ctx, evs...); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.calls = len(res.lat)
	slices.Sort(res.lat)
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return res, firstErr
}

// setLock enables or disables the event log's commit-order trigger
// (migration 005) in the scratch database.
func setLock(ctx context.Context, pool *pgxpool.Pool, on bool) error {
	verb := "ENABLE"
	if !on {
		verb = "DISABLE"
	}
	if _, err := pool.Exec(ctx, "ALTER TABLE events "+verb+" TRIGGER events_lock_writers"); err != nil {
		return fmt.Errorf("%s the commit-order trigger: %w", verb, err)
	}
	return nil
}

func setting(ctx context.Context, pool *pgxpool.Pool, name string) string {
	var v string
	if err := pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err != nil {
		return "?"
	}
	return v
}

// sampleEventData is the data of a typical new-job event: a generated job
// without its description, as the matcher writes it.
func sampleEventData() []byte {
	j := alertgen.New(7).Job()
	j.ID = 123456
	j.Description = ""
	b, err := json.Marshal(model.JobEvent{Job: *j, Alerts: []int64{4242}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return b
}

func msf(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
