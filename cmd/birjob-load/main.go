// Command birjob-load is birjob's load generator for the notify hub. It
// starts the server under test as a child process (birjob's hub on a fresh
// database, and the bare fan-out "floor" server for comparison), opens N
// clients of one transport against it from 127.0.0.x source addresses,
// measures the server's RSS per idle connection and, for birjob, the
// database transactions while idle, then publishes events at a rate with
// the send time stamped into each payload and reports delivered vs
// expected and p50/p99/max latency from publish to client.
//
// Usage:
//
//	birjob-load -transport sse -clients 10000 -rate 1 -duration 30s
//	birjob-load -transport ws -clients 10000 -channel me   # personal channels
//	birjob-load -transport sse -clients 10000 -channels jobs,me   # two channels per stream
//
// Without DATABASE_URL a throwaway PostgreSQL cluster is started. Only
// 127.0.0.0/8 is ever targeted; counts and durations are bounded and the
// run stops by itself.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/pgembed"
	"github.com/birjob/birjob/internal/procstat"
	"github.com/birjob/birjob/migrations"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

const (
	maxClients  = 60000
	maxDuration = 10 * time.Minute
	// perSourceIP keeps each 127.0.0.x source address well below the
	// ~28,000 ephemeral ports of one (source, destination) pair.
	perSourceIP = 20000
)

type options struct {
	transport string
	clients   int
	rate      float64
	duration  time.Duration
	channel   string
	channels  []string // the channels of each client: one stream (SSE, poll) or one join each (WebSocket)
	servers   []string
	idle      time.Duration
	connPar   int
	perUser   int
	warmup    int
	repeat    int
	keepalive time.Duration
	cpuprof   string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "birjob-load serve:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var servers, channels string
	flag.StringVar(&o.transport, "transport", "sse", "sse, ws or poll")
	flag.IntVar(&o.clients, "clients", 1000, "concurrent clients (at most 60000)")
	flag.Float64Var(&o.rate, "rate", 1, "events per second (channel jobs) or publish ticks per second (channel me)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to publish (at most 10m)")
	flag.StringVar(&o.channel, "channel", "jobs", "jobs (all clients on one channel) or me (one user per client, each receiving its own events)")
	flag.StringVar(&channels, "channels", "", "several channels per client, comma-separated (jobs,me): one SSE stream or long poll of all of them (?channels=), or one join each on a WebSocket; each tick publishes what -channel would for each")
	flag.StringVar(&servers, "servers", "floor,birjob", "servers to run, in order: floor, birjob")
	flag.DurationVar(&o.idle, "idle", 15*time.Second, "idle window before publishing (RSS and database queries are measured in it)")
	flag.IntVar(&o.connPar, "connect-parallel", 100, "clients connecting at once")
	flag.IntVar(&o.perUser, "me-fraction", 10, "channel me: each tick publishes to clients/N users, round robin")
	flag.IntVar(&o.warmup, "warmup", 3, "events published (and delivered) before measuring, not counted")
	flag.DurationVar(&o.keepalive, "keepalive", 0, "birjob's keepalive interval (0: its default, 25s); a long one shows what keepalives cost")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write the load generator's own CPU profile (clients and publisher) to this file")
	flag.IntVar(&o.repeat, "repeat", 1, "run the server list this many times, interleaved (floor, birjob, floor, birjob, ...)")
	flag.Parse()
	o.servers = strings.Split(servers, ",")
	if o.clients < 1 || o.clients > maxClients || o.duration <= 0 || o.duration > maxDuration || o.rate <= 0 || o.rate > 1000 {
		fatal("clients must be 1..%d, duration up to %s, rate 0..1000", maxClients, maxDuration)
	}
	if o.transport != "sse" && o.transport != "ws" && o.transport != "poll" {
		fatal("transport must be sse, ws or poll")
	}
	o.channels = []string{o.channel}
	if channels != "" {
		o.channels = strings.Split(channels, ",")
	}
	for i, ch := range o.channels {
		if ch != "jobs" && ch != "me" || slices.Contains(o.channels[:i], ch) {
			fatal("channels must be jobs or me, each once")
		}
	}
	procstat.RaiseFDLimit(uint64(maxClients*2 + 1000))
	if o.cpuprof != "" {
		f, err := os.Create(o.cpuprof)
		if err != nil {
			fatal("%v", err)
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	ctx := context.Background()
	var results []result
	dbURL, cleanup := database(ctx, slices.Contains(o.servers, "birjob"))
	defer cleanup()
	for range max(1, min(o.repeat, 5)) {
		for _, s := range o.servers {
			r, err := runOne(ctx, o, s, dbURL)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", s, err)
				continue
			}
			results = append(results, r)
		}
	}
	report(o, results)
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "birjob-load: "+format+"\n", args...)
	os.Exit(2)
}

// database returns the URL of a fresh migrated database (DATABASE_URL's
// server, else a throwaway embedded cluster) and a cleanup.
func database(ctx context.Context, need bool) (string, func()) {
	if !need {
		return "", func() {}
	}
	server := os.Getenv("DATABASE_URL")
	var cluster *pgembed.Cluster
	var dir string
	if server == "" {
		var err error
		dir, err = os.MkdirTemp("", "birjob-load-")
		if err != nil {
			fatal("%v", err)
		}
		os.Chmod(dir, 0o755)
		cluster, err = pgembed.Start(ctx, pgembed.Options{Dir: dir + "/pg", Fast: true, Database: "postgres",
			Params: map[string]string{"max_connections": "200", "shared_preload_libraries": "pg_stat_statements"}})
		if err != nil {
			fatal("start PostgreSQL: %v", err)
		}
		server = cluster.URL()
	}
	var b [4]byte
	rand.Read(b[:])
	name := "birjob_load_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		fatal("connect %s: %v", server, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		fatal("create database: %v", err)
	}
	conn.Close(ctx)
	u, err := pgembed.WithDatabase(server, name)
	if err != nil {
		fatal("%v", err)
	}
	mc, err := pgx.Connect(ctx, u)
	if err != nil {
		fatal("%v", err)
	}
	if err := migrations.Migrate(ctx, mc); err != nil {
		fatal("migrate: %v", err)
	}
	// Statement counts show the queries made while clients wait; without
	// the extension the report falls back to pg_stat_database.
	if _, err := mc.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		fmt.Fprintf(os.Stderr, "pg_stat_statements unavailable (%v); counting transactions instead\n", err)
	}
	mc.Close(ctx)
	return u, func() {
		if c, err := pgx.Connect(ctx, server); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
		if cluster != nil {
			cluster.Stop()
			os.RemoveAll(dir)
		}
	}
}

type result struct {
	server              string
	clients, connected  int
	events              int
	expected, delivered int64
	p50, p99, max       time.Duration
	rssBefore, rssIdle  int64 // bytes
	idleXacts           int64
	idleStmts           int64 // -1: pg_stat_statements unavailable
	idleTop             string
	idleWindow          time.Duration
	goroutines          int
}

func (r result) perConn() float64 {
	if r.connected == 0 {
		return 0
	}
	return float64(r.rssIdle-r.rssBefore) / float64(r.connected)
}

// runOne starts one server, connects the clients, measures idle, then
// publishes and measures delivery.
func runOne(ctx context.Context, o options, server, dbURL string) (result, error) {
	res := result{server: server, clients: o.clients}
	self, _ := os.Executable()
	args := []string{"serve", "-mode", server, "-addr", "127.0.0.1:0"}
	if server == "birjob" {
		args = append(args, "-db", dbURL)
		if o.keepalive > 0 {
			args = append(args, "-keepalive", o.keepalive.String())
		}
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return res, fmt.Errorf("server did not start: %w", err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	if !isLoopback(addr) {
		return res, fmt.Errorf("refusing non-loopback address %q", addr)
	}
	base := "http://" + addr
	var pool *pgxpool.Pool
	if server == "birjob" {
		pool, err = pgxpool.New(ctx, dbURL)
		if err != nil {
			return res, err
		}
		defer pool.Close()
		// Wait for the hub to follow the log.
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(base + "/api/poll/jobs?timeout=0")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				return res, fmt.Errorf("hub not ready")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	gc(base)
	time.Sleep(500 * time.Millisecond)
	_, heap0, stack0 := gc(base)
	res.rssBefore = procstat.RSS(cmd.Process.Pid)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcBase.Add(int64(o.clients/perSourceIP + 1))
	dialCount.Store(0)
	col := newCollector(o.clients)
	fmt.Fprintf(os.Stderr, "[%s] connecting %d %s clients...\n", server, o.clients, o.transport)
	t0 := time.Now()
	connected := connectAll(runCtx, o, base, col)
	res.connected = connected
	fmt.Fprintf(os.Stderr, "[%s] %d connected in %s; idle %s\n", server, connected, time.Since(t0).Round(time.Millisecond), o.idle)

	// Idle window: count database transactions, then measure RSS.
	var x0 int64
	if pool != nil {
		x0 = xacts(ctx, pool)
		resetStatements(ctx, pool)
	}
	idle0 := cpuNow(cmd.Process.Pid, 0)
	time.Sleep(o.idle)
	idleCPU := cpuNow(cmd.Process.Pid, 0).sub(idle0)
	fmt.Fprintf(os.Stderr, "[%s] idle CPU per second: server %s, load generator %s\n", server,
		ms(idleCPU.server*time.Second/o.idle), ms(idleCPU.load*time.Second/o.idle))
	if pool != nil {
		res.idleStmts, res.idleTop = statements(ctx, pool)
		res.idleXacts = xacts(ctx, pool) - x0
		res.idleWindow = o.idle
	}
	var heap1, stack1 uint64
	res.goroutines, heap1, stack1 = gc(base)
	res.rssIdle = procstat.RSS(cmd.Process.Pid)
	if connected > 0 {
		fmt.Fprintf(os.Stderr, "[%s] idle, per connection: Go heap in use %.1f KB, goroutine stacks %.1f KB\n", server,
			float64(int64(heap1)-int64(heap0))/float64(connected)/1024, float64(int64(stack1)-int64(stack0))/float64(connected)/1024)
	}

	// Publish: warm-up events first (not counted), then the measured ones.
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
	defer tick.Stop()
	seq, next := 0, 0
	returned := map[int64]time.Duration{} // by stamp: how long that publish call took
	publish := func() (expected int64) {
		<-tick.C
		seq++
		var chans []string
		if slices.Contains(o.channels, "jobs") {
			chans = []string{"jobs"}
			expected = int64(connected)
		}
		if slices.Contains(o.channels, "me") {
			k := max(1, o.clients/o.perUser)
			for range k {
				chans = append(chans, model.UserChannel(int64(next%o.clients)+1))
				next++
			}
			expected += int64(k)
		}
		res.events += len(chans)
		t0 := time.Now()
		if err := publishTo(ctx, server, pool, base, o.transport, chans, seq, t0.UnixNano()); err != nil {
			fmt.Fprintf(os.Stderr, "[%s] publish: %v\n", server, err)
		}
		returned[t0.UnixNano()] = time.Since(t0)
		return expected
	}
	var warm int64
	for range o.warmup {
		warm += publish()
	}
	wdl := time.Now().Add(15 * time.Second)
	for col.delivered.Load() < warm && time.Now().Before(wdl) {
		time.Sleep(20 * time.Millisecond)
	}
	col.reset()
	clear(returned)
	res.events = 0
	pgPID := postmasterPID(ctx, pool)
	cpu0 := cpuNow(cmd.Process.Pid, pgPID)
	m0 := machineNow()
	fmt.Fprintf(os.Stderr, "[%s] publishing for %s\n", server, o.duration)
	end := time.Now().Add(o.duration)
	for time.Now().Before(end) {
		res.expected += publish()
	}
	// Let the last deliveries arrive.
	deadline := time.Now().Add(15 * time.Second)
	for col.delivered.Load() < res.expected && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	res.delivered = col.delivered.Load()
	cpu := cpuNow(cmd.Process.Pid, pgPID).sub(cpu0)
	fmt.Fprintf(os.Stderr, "[%s] machine while publishing: %s\n", server, machineNow().since(m0))
	cancel()
	if n := len(returned); n > 0 {
		per := func(d time.Duration) string { return ms(d / time.Duration(n)) }
		pg := "not measured"
		if pgPID > 0 {
			pg = per(cpu.postgres)
		}
		fmt.Fprintf(os.Stderr, "[%s] CPU per publish: server %s, PostgreSQL %s, load generator (clients and publisher) %s\n",
			server, per(cpu.server), pg, per(cpu.load))
		pubTimes := slices.Sorted(maps.Values(returned))
		fmt.Fprintf(os.Stderr, "[%s] publish calls (birjob: storage AppendEvents, the floor: an HTTP POST): median %v, slowest %v\n",
			server, pubTimes[n/2].Round(100*time.Microsecond), pubTimes[n-1].Round(100*time.Microsecond))
	}
	if p50, p99, ok := col.afterReturn(returned); ok {
		fmt.Fprintf(os.Stderr, "[%s] latency from the publish call's return (birjob: the commit): p50 %s, p99 %s\n", server, ms(p50), ms(p99))
	}
	if n, slowest, rest := col.ticks(); n > 1 {
		fmt.Fprintf(os.Stderr, "[%s] %d publishes; the slowest one's median latency %v; p99 of all the others' events %v\n",
			server, n, slowest.Round(100*time.Microsecond), rest.Round(100*time.Microsecond))
	}
	lat := col.latencies()
	if len(lat) > 0 {
		res.p50 = lat[len(lat)*50/100]
		res.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
		res.max = lat[len(lat)-1]
	}
	return res, nil
}

func publishTo(ctx context.Context, server string, pool *pgxpool.Pool, base, transport string, chans []string, seq int, sent int64) error {
	data := fmt.Sprintf(`{"sent":%d,"seq":%d,"title":"Load test job"}`, sent, seq)
	if server == "birjob" {
		evs := make([]model.Event, len(chans))
		for i, ch := range chans {
			evs[i] = model.Event{Channel: ch, Type: model.EventNewJob, Data: json.RawMessage(data)}
		}
		_, err := storage.New(pool).AppendEvents(ctx, evs...)
		return err
	}
	body, _ := json.Marshal(map[string]any{"transport": transport, "channels": chans, "data": json.RawMessage(data)})
	resp, err := http.Post(base+"/publish", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// postmasterPID finds the PostgreSQL server's process from its data
// directory's postmaster.pid (the load runs on the database's machine).
func postmasterPID(ctx context.Context, pool *pgxpool.Pool) int {
	if pool == nil {
		return 0
	}
	var dir string
	if err := pool.QueryRow(ctx, "SHOW data_directory").Scan(&dir); err != nil {
		return 0
	}
	b, err := os.ReadFile(dir + "/postmaster.pid")
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// gc makes the server collect garbage and return memory to the system,
// and reports its goroutines, Go heap in use and goroutine stacks.
func gc(base string) (goroutines int, heapInuse, stackInuse uint64) {
	resp, err := http.Post(base+"/debug/gc", "", nil)
	if err != nil {
		return 0, 0, 0
	}
	defer resp.Body.Close()
	var m struct {
		Goroutines int    `json:"goroutines"`
		HeapInuse  uint64 `json:"heapInuse"`
		StackInuse uint64 `json:"stackInuse"`
	}
	json.NewDecoder(resp.Body).Decode(&m)
	return m.Goroutines, m.HeapInuse, m.StackInuse
}

func resetStatements(ctx context.Context, pool *pgxpool.Pool) {
	pool.Exec(ctx, "SELECT pg_stat_statements_reset()")
}

// statements counts the statements run in this database since the reset,
// other than the measurement's own, and names the most frequent.
func statements(ctx context.Context, pool *pgxpool.Pool) (int64, string) {
	rows, err := pool.Query(ctx, `
		SELECT calls, left(regexp_replace(query, '\s+', ' ', 'g'), 60) FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND query NOT LIKE '%pg_stat_statements%'
		ORDER BY calls DESC`)
	if err != nil {
		return -1, ""
	}
	defer rows.Close()
	var total int64
	var top []string
	for rows.Next() {
		var n int64
		var q string
		if rows.Scan(&n, &q) == nil {
			total += n
			if len(top) < 3 {
				top = append(top, fmt.Sprintf("%d× %s", n, q))
			}
		}
	}
	if rows.Err() != nil {
		return -1, ""
	}
	return total, strings.Join(top, "; ")
}

// xacts reads the transactions committed or rolled back in the database so
// far (every query outside an explicit transaction is one).
func xacts(ctx context.Context, pool *pgxpool.Pool) int64 {
	var n int64
	// pg_stat_force_next_flush makes other backends' counts current is not
	// possible from here; this backend's own counts are flushed at once,
	// and the idle window is longer than the 10 s idle flush interval.
	pool.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && ip.To4() != nil
}

func report(o options, rs []result) {
	fmt.Printf("\n%s clients=%d channel=%s rate=%g/s duration=%s (GOMAXPROCS shared by server, clients and PostgreSQL)\n\n",
		o.transport, o.clients, strings.Join(o.channels, ","), o.rate, o.duration)
	fmt.Println("| server | connected | events | delivered / expected | p50 | p99 | max | RSS per idle conn | goroutines idle | DB statements while idle |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		x := "n/a"
		if r.server == "birjob" {
			x = fmt.Sprintf("%d in %s (xacts %d)", r.idleStmts, r.idleWindow, r.idleXacts)
		}
		fmt.Printf("| %s | %d | %d | %d / %d | %s | %s | %s | %.1f KB | %d | %s |\n", r.server, r.connected, r.events,
			r.delivered, r.expected, ms(r.p50), ms(r.p99), ms(r.max), r.perConn()/1024, r.goroutines, x)
	}
	for _, r := range rs {
		if r.idleTop != "" {
			fmt.Printf("\n%s statements while idle: %s\n", r.server, r.idleTop)
		}
	}
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i].server == "floor" && rs[i+1].server == "birjob" && rs[i].p99 > 0 {
			fmt.Printf("\nbirjob/floor (pair %d): p99 %.2fx, RSS per conn %.2fx\n", i/2+1, float64(rs[i+1].p99)/float64(rs[i].p99), rs[i+1].perConn()/rs[i].perConn())
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// collector gathers deliveries from all clients.
type collector struct {
	delivered atomic.Int64
	mu        sync.Mutex
	lat       []time.Duration
	byTick    map[int64][]time.Duration // by the publish's stamp
}

func newCollector(n int) *collector { return &collector{} }

func (c *collector) reset() {
	c.mu.Lock()
	c.lat = nil
	c.byTick = nil
	c.delivered.Store(0)
	c.mu.Unlock()
}

func (c *collector) sample(d time.Duration, stamp int64) {
	c.mu.Lock()
	c.lat = append(c.lat, d)
	if c.byTick == nil {
		c.byTick = map[int64][]time.Duration{}
	}
	c.byTick[stamp] = append(c.byTick[stamp], d)
	c.mu.Unlock()
	c.delivered.Add(1)
}

// ticks describes the publishes: how many, the median latency of the
// slowest one, and the p99 of all samples but that publish's. With 1,000
// events per publish (-channel me) one slow publish is 3 % of a 30 s run's
// samples and sets its p99 on its own.
func (c *collector) ticks() (n int, slowest, p99Rest time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var worst int64
	for stamp, ls := range c.byTick {
		slices.Sort(ls)
		if m := ls[len(ls)/2]; m > slowest {
			slowest, worst = m, stamp
		}
	}
	var rest []time.Duration
	for stamp, ls := range c.byTick {
		if stamp != worst {
			rest = append(rest, ls...)
		}
	}
	slices.Sort(rest)
	if len(rest) > 0 {
		p99Rest = rest[min(len(rest)-1, len(rest)*99/100)]
	}
	return len(c.byTick), slowest, p99Rest
}

// afterReturn is the latency distribution measured from the moment each
// publish call returned rather than from its stamp: for birjob, from the
// commit of the events, which is the earliest a client may see them.
func (c *collector) afterReturn(took map[int64]time.Duration) (p50, p99 time.Duration, ok bool) {
	c.mu.Lock()
	var ls []time.Duration
	for stamp, ds := range c.byTick {
		t, found := took[stamp]
		if !found {
			continue
		}
		for _, d := range ds {
			ls = append(ls, d-t)
		}
	}
	c.mu.Unlock()
	if len(ls) == 0 {
		return 0, 0, false
	}
	slices.Sort(ls)
	return ls[len(ls)/2], ls[min(len(ls)-1, len(ls)*99/100)], true
}

func (c *collector) latencies() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	slices.Sort(c.lat)
	return c.lat
}

// stampOf finds the "sent" stamp in a payload and returns the latency and
// the stamp, which names the publish (tick) the event came from.
func stampOf(b []byte, now time.Time) (time.Duration, int64, bool) {
	i := strings.Index(string(b), `"sent":`)
	if i < 0 {
		return 0, 0, false
	}
	j := i + len(`"sent":`)
	k := j
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	ns, err := strconv.ParseInt(string(b[j:k]), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return now.Sub(time.Unix(0, ns)), ns, true
}
