// Command birjob-alertgen measures the matcher at scale: it generates a
// realistic set of saved alerts (titles, skills, cities and salaries in
// Azerbaijani, Russian and English with a Zipf-like spread), builds the
// index and reports build time, index memory and the latency of matching
// generated jobs on one core. With -db it also measures, against a real
// PostgreSQL, how long the worker takes to commit the events of one job
// that matches -users users.
//
//	go run ./cmd/birjob-alertgen -alerts 1000000 -jobs 20000
//	go run ./cmd/birjob-alertgen -alerts 0 -db postgres://postgres@127.0.0.1:5432/postgres -users 100000
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/matcher/alertgen"
	"github.com/birjob/birjob/migrations"
	"github.com/birjob/birjob/model"
)

var profile, buildProfile string

func main() {
	nAlerts := flag.Int("alerts", 1_000_000, "saved alerts to generate and index (0 to skip)")
	nJobs := flag.Int("jobs", 20_000, "jobs to match")
	seed := flag.Uint64("seed", 1, "generator seed")
	procs := flag.Int("procs", 1, "GOMAXPROCS while matching")
	db := flag.String("db", "", "PostgreSQL server URL for the fan-out measurement (a scratch database is created and dropped)")
	users := flag.Int("users", 100_000, "users matching one job in the fan-out measurement")
	buildprofile := flag.String("buildprofile", "", "write a CPU profile of the index build to this file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the matching phase to this file")
	flag.Parse()
	profile = *cpuprofile
	buildProfile = *buildprofile
	if *nAlerts > 0 {
		indexBench(*nAlerts, *nJobs, *seed, *procs)
	}
	if *db != "" {
		if err := fanoutBench(*db, *users); err != nil {
			fmt.Fprintln(os.Stderr, "fan-out:", err)
			os.Exit(1)
		}
	}
}

func heap() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func indexBench(nAlerts, nJobs int, seed uint64, procs int) {
	g := alertgen.New(seed)
	jobs := make([]*model.Job, nJobs)
	for i := range jobs {
		jobs[i] = g.Job()
	}
	before := heap()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if buildProfile != "" {
		if f, err := os.Create(buildProfile); err == nil {
			pprof.StartCPUProfile(f)
		}
	}
	// As the worker loads at start: the index sized from a count, then
	// batches of 20,000 read (here: generated, untimed) and added, each
	// compiled in the background while filed. Only one batch of criteria is
	// alive at a time, as in the worker.
	var build, buildCPU time.Duration
	ix := matcher.NewIndex()
	ix.Grow(nAlerts)
	batch := make([]matcher.Item, 0, 20000)
	for i := 0; i < nAlerts; {
		batch = batch[:0]
		for ; i < nAlerts && len(batch) < cap(batch); i++ {
			batch = append(batch, matcher.Item{ID: int64(i + 1), Owner: matcher.Owner{UserID: int64(i/3 + 1)}, Criteria: g.Criteria()})
		}
		start, startCPU := time.Now(), threadCPU()
		ix.AddBatch(batch, func(it matcher.Item, err error) {
			fmt.Fprintln(os.Stderr, "add:", err)
			os.Exit(1)
		})
		build += time.Since(start)
		buildCPU += threadCPU() - startCPU
	}
	clear(batch)
	if buildProfile != "" {
		pprof.StopCPUProfile()
	}
	after := heap()
	st := ix.Stats()
	fmt.Printf("alerts=%d entries=%d keys=%d always=%d\n", st.Criteria, st.Entries, st.Keys, st.Always)
	fmt.Printf("build (AddBatch): %v wall, %v CPU of the loading thread (GOMAXPROCS=%d)\n", build.Round(time.Millisecond), buildCPU.Round(time.Millisecond), runtime.GOMAXPROCS(0))
	fmt.Printf("index memory (heap after GC, index only): %.0f MiB\n", float64(after-before)/(1<<20))

	runtime.GC()
	old := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(old)
	var buf []matcher.Hit                          // reused from job to job, as the worker does
	for _, j := range jobs[:min(len(jobs), 500)] { // warm up
		buf = ix.MatchAppend(buf[:0], j)
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	lat := make([]time.Duration, len(jobs))
	cpu := make([]time.Duration, len(jobs))
	hits := make([]int, len(jobs))
	for i, j := range jobs {
		t, c := time.Now(), threadCPU()
		buf = ix.MatchAppend(buf[:0], j)
		hits[i] = len(buf)
		cpu[i] = threadCPU() - c
		lat[i] = time.Since(t)
	}
	slices.Sort(lat)
	slices.Sort(cpu)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	qc := func(p float64) time.Duration { return cpu[min(len(cpu)-1, int(p*float64(len(cpu))))] }
	var total int
	for _, h := range hits {
		total += h
	}
	slices.Sort(hits)
	fmt.Printf("match %d jobs on GOMAXPROCS=%d, wall:       p50=%v p90=%v p99=%v max=%v\n", len(jobs), procs,
		q(0.50).Round(time.Microsecond), q(0.90).Round(time.Microsecond), q(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	fmt.Printf("match %d jobs on GOMAXPROCS=%d, thread CPU: p50=%v p90=%v p99=%v max=%v\n", len(jobs), procs,
		qc(0.50).Round(time.Microsecond), qc(0.90).Round(time.Microsecond), qc(0.99).Round(time.Microsecond), cpu[len(cpu)-1].Round(time.Microsecond))
	var la [3]float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(b), &la[0], &la[1], &la[2])
	}
	fmt.Printf("machine load average during the run: %.2f (on %d CPUs)\n", la[0], runtime.NumCPU())
	fmt.Printf("hits per job: mean=%.0f p50=%d p99=%d max=%d\n", float64(total)/float64(len(jobs)),
		hits[len(hits)/2], hits[min(len(hits)-1, len(hits)*99/100)], hits[len(hits)-1])
}

func fanoutBench(serverURL string, users int) error {
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	name := "birjob_alertgen_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return err
	}
	defer func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	}()
	u, err := url.Parse(serverURL)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	mc, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return err
	}
	if err := migrations.Migrate(ctx, mc); err != nil {
		return err
	}
	mc.Close(ctx)
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		return err
	}
	defer pool.Close()

	setup := []string{
		`INSERT INTO sources (name, kind) VALUES ('bench', 'manual')`,
		fmt.Sprintf(`INSERT INTO users (email, password_hash) SELECT 'u' || i || '@x', 'x' FROM generate_series(1, %d) i`, users),
		`INSERT INTO alerts (user_id, criteria) SELECT id, '{"query":"golang","location":"Bakı"}' FROM users`,
		`INSERT INTO alerts (user_id, criteria) SELECT id, '{"query":"python developer"}' FROM users WHERE id % 2 = 0`,
	}
	for _, s := range setup {
		if _, err := pool.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	w := matcher.NewWorker(pool, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t := time.Now()
	if _, err := w.Drain(ctx); err != nil {
		return err
	}
	fmt.Printf("worker load of %d alerts: %v\n", w.Stats().Alerts, time.Since(t).Round(time.Millisecond))

	for round := range 3 {
		if _, err := pool.Exec(ctx, `
			WITH j AS (INSERT INTO jobs (source_id, dedupe_key, url, title, company, location, content_hash)
				SELECT id, 'bench' || $1, 'https://x/' || $1, 'Senior Golang Developer', 'PASHA Bank', 'Baku', '\x00' FROM sources
				RETURNING id)
			INSERT INTO job_changes (job_id, kind) SELECT id, 'new' FROM j`, fmt.Sprint(round)); err != nil {
			return err
		}
		t = time.Now()
		n, err := w.Drain(ctx)
		if err != nil {
			return err
		}
		d := time.Since(t)
		var evs int
		pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE type = 'new-job' AND data::jsonb->>'url' = 'https://x/' || $1`, fmt.Sprint(round)).Scan(&evs)
		fmt.Printf("round %d: %d change, %d events committed in %v (claim, match, events COPY, audience, commit)\n", round, n, evs, d.Round(time.Millisecond))
	}
	return nil
}
