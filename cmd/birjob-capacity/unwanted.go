package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// unwantedMain measures what a node pays for events none of its clients
// want: -nodes birjob web nodes on one database, each with -clients idle
// SSE streams on "jobs", while the log receives events on personal
// channels of users connected nowhere, at each of -rates events per
// second. Every node reads every event (one query per wake-up) and drops
// it; the CPU each node uses above its idle rate, per 1,000 such events a
// second, is the cost. After each window a "jobs" marker event is appended
// and the time each node takes to deliver it to a client says whether it
// kept up.
func unwantedMain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("unwanted", flag.ExitOnError)
	nNodes := fs.Int("nodes", 3, "birjob nodes on the database")
	clients := fs.Int("clients", 200, "idle SSE clients on jobs, per node")
	ratesF := fs.String("rates", "1000,3000", "events per second nobody wants, comma-separated")
	window := fs.Duration("window", 20*time.Second, "measurement window of each rate (and of idle)")
	tick := fs.Duration("tick", 50*time.Millisecond, "one AppendEvents call per tick, of rate × tick events (a job's fan-out)")
	repeat := fs.Int("repeat", 2, "runs")
	binFlag(fs)
	fs.Parse(args)
	rates, err := ints(*ratesF)
	if err != nil {
		return err
	}
	if *nNodes < 1 || *nNodes > 8 || *clients > 5000 || *window <= 0 || *window > 5*time.Minute {
		return fmt.Errorf("1..8 nodes, at most 5,000 clients a node, window up to 5m")
	}
	dbURL, drop, err := scratchDB(ctx, "unwanted")
	if err != nil {
		return err
	}
	defer drop()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "birjob-capacity"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()

	var nodes []*node
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	for i := range *nNodes {
		n, err := startNode(ctx, fmt.Sprintf("cap-%d", i+1), dbURL, nil)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	markers := make([]chan string, len(nodes))
	for i, n := range nodes {
		addr := strings.TrimPrefix(n.url, "http://")
		for range *clients {
			c, err := openSSE(ctx, net.IPv4(127, 0, 0, 2), addr, "jobs", 15*time.Second)
			if err != nil {
				return fmt.Errorf("client of %s: %w", n.name, err)
			}
			conns = append(conns, c)
		}
		c, err := openSSE(ctx, net.IPv4(127, 0, 0, 2), addr, "jobs", 15*time.Second)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		markers[i] = make(chan string, 16)
		go readMarkers(c, markers[i])
	}
	header(fmt.Sprintf("Events no client wants: %d nodes on one database", len(nodes)))
	fmt.Printf("each node: web role only, %d idle SSE clients on jobs; events on user channels of users connected nowhere, one AppendEvents call every %s; %s windows; the nodes hold %d PostgreSQL connections in all\n\n",
		*clients, *tick, *window, len(nodeBackends(ctx, pool)))
	fmt.Println("| run | events/s | node | node CPU (% of a core) | above idle, per 1,000 events/s | RSS | marker delivered after | PostgreSQL, the nodes' backends (% of a core) | machine |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	st := storage.New(pool)
	data := sampleEventData()
	var fits []string
	for run := 1; run <= *repeat; run++ {
		idle := make([]time.Duration, len(nodes))
		var xs, ys, pgs []float64 // rate; CPU share above idle averaged over nodes; PostgreSQL's per node
		var pgIdle float64
		for _, rate := range append([]int{0}, rates...) {
			w, err := unwantedWindow(ctx, st, pool, nodes, markers, rate, *window, *tick, data)
			if err != nil {
				return err
			}
			share, pgShare := 0.0, w.pgCPU.Seconds()/w.wall.Seconds()/float64(len(nodes))
			for i := range nodes {
				share += (w.cpu[i] - idle[i]).Seconds() / w.wall.Seconds() / float64(len(nodes))
			}
			if rate == 0 {
				pgIdle = pgShare
			} else {
				xs, ys, pgs = append(xs, float64(rate)), append(ys, share), append(pgs, pgShare-pgIdle)
			}
			for i, n := range nodes {
				extra := "—"
				if rate == 0 {
					idle[i] = w.cpu[i]
				} else {
					extra = pct((w.cpu[i]-idle[i])*1000/time.Duration(rate), w.wall)
				}
				pg := ""
				if i == 0 {
					pg = pct(w.pgCPU, w.wall) + " for all"
				}
				fmt.Printf("| %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", run, rate, n.name, pct(w.cpu[i], w.wall), extra,
					mib(w.rss[i]), w.marker[i], pg, w.machine)
			}
		}
		if len(xs) >= 2 {
			a, b := fit(xs, ys)
			pa, pb := fit(xs, pgs)
			commits := 1 / tick.Seconds()
			fits = append(fits, fmt.Sprintf("run %d: a node pays %.1f µs of CPU per event and %.2f ms per wake-up (commit); PostgreSQL %.1f µs per event and %.2f ms per wake-up for each node that reads",
				run, b*1e6, a/commits*1e3, pb*1e6, pa/commits*1e3))
		}
	}
	fmt.Printf("\nCPU above idle = per wake-up × %.0f commits/s + per event × events/s, fitted over the rates (nodes averaged):\n\n", 1/tick.Seconds())
	for _, f := range fits {
		fmt.Println("- " + f)
	}
	for _, n := range nodes {
		if es := n.errors(); len(es) > 0 {
			fmt.Fprintf(os.Stderr, "%s warned: %s\n", n.name, strings.Join(es, "; "))
		}
	}
	return nil
}

type unwantedResult struct {
	wall    time.Duration
	cpu     []time.Duration
	rss     []int64
	marker  []string
	pgCPU   time.Duration
	machine string
}

// unwantedWindow appends rate events a second for window (none when rate
// is 0), then a jobs marker, and measures each node.
func unwantedWindow(ctx context.Context, st *storage.Store, pool *pgxpool.Pool, nodes []*node, markers []chan string,
	rate int, window, tick time.Duration, data []byte) (unwantedResult, error) {
	res := unwantedResult{cpu: make([]time.Duration, len(nodes)), rss: make([]int64, len(nodes)), marker: make([]string, len(nodes))}
	per := max(1, int(float64(rate)*tick.Seconds()))
	evs := make([]model.Event, per)
	backends := nodeBackends(ctx, pool)
	pg0 := cpuOf(backends)
	cpu0 := make([]time.Duration, len(nodes))
	for i, n := range nodes {
		cpu0[i] = procCPU(n.pid())
	}
	m0 := machineNow()
	start := time.Now()
	t := time.NewTicker(tick)
	for time.Since(start) < window {
		select {
		case <-ctx.Done():
			t.Stop()
			return res, ctx.Err()
		case <-t.C:
		}
		if rate == 0 {
			continue
		}
		for i := range evs {
			evs[i] = model.Event{Channel: model.UserChannel(10_000_000 + rand.Int64N(1_000_000)), Type: model.EventNewJob, Data: data}
		}
		if _, err := st.AppendEvents(ctx, evs...); err != nil {
			t.Stop()
			return res, err
		}
	}
	t.Stop()
	res.wall = time.Since(start)
	for i, n := range nodes {
		res.cpu[i] = procCPU(n.pid()) - cpu0[i]
		res.rss[i] = rss(n.pid())
	}
	for pid, c := range cpuOf(backends) {
		if c0, ok := pg0[pid]; ok && c >= c0 {
			res.pgCPU += c - c0
		}
	}
	res.machine = machineNow().since(m0)
	// The marker: every node has read everything before it once its client
	// has it.
	id := fmt.Sprintf("marker-%d-%d", rate, time.Now().UnixNano())
	sent := time.Now()
	if _, err := st.AppendEvents(ctx, model.Event{Channel: model.ChannelJobs, Type: model.EventNewJob, Data: json.RawMessage(`{"marker":"` + id + `"}`)}); err != nil {
		return res, err
	}
	for i := range nodes {
		res.marker[i] = "not within 30 s"
		deadline := time.After(30 * time.Second)
	wait:
		for {
			select {
			case got, ok := <-markers[i]:
				if !ok {
					res.marker[i] = "stream closed"
					break wait
				}
				if got == id {
					res.marker[i] = msf(time.Since(sent))
					break wait
				}
			case <-deadline:
				break wait
			}
		}
	}
	return res, nil
}

// readMarkers passes the marker of every marker event the stream delivers.
func readMarkers(c net.Conn, out chan<- string) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			close(out)
			return
		}
		if i := strings.Index(line, `"marker":"`); i >= 0 {
			rest := line[i+len(`"marker":"`):]
			if j := strings.IndexByte(rest, '"'); j > 0 {
				select {
				case out <- rest[:j]:
				default:
				}
			}
		}
	}
}

// fit is the least-squares line y = a + b·x.
func fit(xs, ys []float64) (a, b float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0, 0
	}
	b = (n*sxy - sx*sy) / d
	return (sy - b*sx) / n, b
}

// nodeBackends are the PostgreSQL backends serving the nodes (everything
// on the scratch database but this tool's own connections).
func nodeBackends(ctx context.Context, pool *pgxpool.Pool) []int {
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND application_name <> 'birjob-capacity'`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cpuOf is the CPU time of each of pids that is still running.
func cpuOf(pids []int) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, p := range pids {
		if c := procCPU(p); c > 0 {
			out[p] = c
		}
	}
	return out
}
