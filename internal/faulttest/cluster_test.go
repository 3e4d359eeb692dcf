package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/pgembed"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "fault-admin-password"
)

// postgres is the test's own cluster, which it stops and starts again on
// the same port.
type postgres struct {
	t  *testing.T
	mu sync.Mutex
	c  *pgembed.Cluster
}

func startPostgres(t *testing.T) *postgres {
	t.Helper()
	p := &postgres{t: t, c: pgtest.StartCluster(t)}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.c.Stop()
	})
	return p
}

func (p *postgres) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c.URL()
}

// stop shuts the server down (fast shutdown: every session ends).
func (p *postgres) stop() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.c.Stop(); err != nil {
		p.t.Fatalf("stop PostgreSQL: %v", err)
	}
}

// start starts the stopped server on its old port and returns the moment
// it was ready to accept connections, from its own log (Start returns
// later: it polls, then checks the database, slowly on a busy machine).
func (p *postgres) start() time.Time {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgembed.Start(ctx, pgembed.Options{Dir: p.c.Dir(), Fast: true, Port: p.c.Port(),
		Params: map[string]string{"log_timezone": "UTC", "log_line_prefix": "%m [%p] "}})
	if err != nil {
		p.t.Fatalf("start PostgreSQL again: %v", err)
	}
	started := time.Now()
	p.c = c
	// pgembed's default log: beside the data folder.
	b, err := os.ReadFile(filepath.Join(filepath.Dir(c.Dir()), filepath.Base(c.Dir())+".log"))
	if err != nil {
		p.t.Fatalf("PostgreSQL's log: %v", err)
	}
	const ready = "database system is ready to accept connections"
	i := bytes.LastIndex(b, []byte(ready))
	if i < 0 {
		p.t.Fatalf("no %q in PostgreSQL's log", ready)
	}
	line := b[bytes.LastIndexByte(b[:i], '\n')+1 : i]
	stamp, _, _ := bytes.Cut(line, []byte(" ["))
	at, err := time.Parse("2006-01-02 15:04:05.000 MST", string(stamp))
	if err != nil {
		p.t.Fatalf("PostgreSQL's log: %q: %v", line, err)
	}
	p.t.Logf("PostgreSQL ready to accept connections %s before pgembed.Start returned", started.Sub(at).Round(time.Millisecond))
	return at
}

// pool opens a pool on the cluster's database for the test's own queries.
func (p *postgres) pool() *pgxpool.Pool {
	p.t.Helper()
	pool, err := pgxpool.New(context.Background(), p.URL())
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(pool.Close)
	return pool
}

// node is one birjob process.
type node struct {
	t       *testing.T
	name    string
	addr    string // 127.0.0.1:port, kept across restarts
	env     []string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startNode starts a birjob node with every role on a free port and waits
// until it is ready.
func startNode(t *testing.T, pg *postgres, name string, extraEnv ...string) *node {
	t.Helper()
	dir := t.TempDir()
	n := &node{t: t, name: name, addr: freeAddr(t), logPath: filepath.Join(dir, name+".log")}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BIRJOB_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	n.env = append(env,
		"DATABASE_URL="+pg.URL(),
		"BIRJOB_ADDR="+n.addr,
		"BIRJOB_DATA_DIR="+dir,
		"BIRJOB_DEMO=off",
		"BIRJOB_NODE="+name,
		"BIRJOB_ADMIN_EMAIL="+adminEmail,
		"BIRJOB_ADMIN_PASSWORD="+adminPassword,
		"BIRJOB_ALLOW_PRIVATE=true", // the scrape test's board is on loopback
		"BIRJOB_SHUTDOWN_TIMEOUT=15s",
	)
	n.env = append(n.env, extraEnv...)
	n.start()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			n.dumpLog()
		}
	})
	return n
}

func (n *node) URL() string { return "http://" + n.addr }

// start runs the process and waits until /readyz says the database
// answers with the expected schema.
func (n *node) start() {
	n.t.Helper()
	lf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	defer lf.Close()
	cmd := exec.Command(binary)
	cmd.Env = n.env
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := startLocked(cmd); err != nil {
		n.t.Fatalf("start %s: %v", n.name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()
	n.waitReady(time.Minute)
}

// startLocked starts cmd from a thread that lives as long as the test
// binary: Pdeathsig (a node must not outlive a test binary killed by its
// timeout) fires when the starting thread exits, and Go may retire threads.
func startLocked(cmd *exec.Cmd) error {
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		errc <- cmd.Start()
		select {} // keep this thread: it is the child's parent thread
	}()
	return <-errc
}

// waitReady polls /readyz until it answers 200, with a deadline.
func (n *node) waitReady(d time.Duration) {
	n.t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(d)
	for {
		resp, err := client.Get(n.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-n.exited:
			n.dumpLog()
			n.t.Fatalf("%s exited while starting", n.name)
		default:
		}
		if time.Now().After(deadline) {
			n.dumpLog()
			n.t.Fatalf("%s not ready within %s (last: %v)", n.name, d, err)
		}
		time.Sleep(50 * time.Millisecond) // polling the condition, with a deadline
	}
}

// kill sends SIGKILL and waits for the process to end.
func (n *node) kill() {
	n.signal(syscall.SIGKILL)
}

// stop sends SIGTERM (a graceful stop) and waits for the process to end.
func (n *node) stop() {
	n.signal(syscall.SIGTERM)
}

func (n *node) signal(sig syscall.Signal) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		n.t.Errorf("%s did not end within 60 s of %v; killed", n.name, sig)
	}
}

// dumpLog prints the end of the node's log.
func (n *node) dumpLog() {
	b, _ := os.ReadFile(n.logPath)
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	n.t.Logf("%s log (end):\n%s", n.name, b)
}

// longestRetry returns the longest retry_in= of the node's log lines
// containing msg, and how many such lines there are.
func (n *node) longestRetry(t *testing.T, msg string) (longest time.Duration, lines int) {
	t.Helper()
	f, err := os.Open(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(msg)) {
			continue
		}
		_, v, ok := bytes.Cut(line, []byte("retry_in="))
		if !ok {
			continue
		}
		v, _, _ = bytes.Cut(v, []byte(" "))
		d, err := time.ParseDuration(string(v))
		if err != nil {
			t.Fatalf("%s: retry_in=%s: %v", n.name, v, err)
		}
		lines++
		longest = max(longest, d)
	}
	return longest, lines
}

// checkRetries fails the test when the matcher or the hub of a node waited
// more than a second between two attempts to reconnect: matching and
// delivery must resume within about a second of the database's return,
// whatever the outage's length. (The time itself is logged, not asserted:
// on a busy machine it may exceed a second without anything wrong.)
func checkRetries(t *testing.T, nodes ...*node) {
	t.Helper()
	for _, n := range nodes {
		for _, msg := range []string{"matcher session ended", "event log listener lost"} {
			longest, lines := n.longestRetry(t, msg)
			if lines == 0 {
				t.Errorf("%s: no %q in its log: did the database go away?", n.name, msg)
			}
			if longest > time.Second {
				t.Errorf("%s: %q with retry_in=%s; want at most 1s", n.name, msg, longest)
			}
		}
	}
}

// metric returns the value of an unlabelled metric of the node's /metrics.
func (n *node) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(n.URL() + "/metrics")
	if err != nil {
		t.Fatalf("%s /metrics: %v", n.name, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s %s: %v", n.name, name, err)
			}
			return f
		}
	}
	t.Fatalf("%s: no %s in /metrics", n.name, name)
	return 0
}

// logEvent is one event of the log.
type logEvent struct {
	id      int64
	created time.Time
}

// jobsLog reads the events of the public channel after after from the
// event log.
func jobsLog(t *testing.T, pool *pgxpool.Pool, after int64) []logEvent {
	t.Helper()
	var out []logEvent
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := storage.New(pool)
	for {
		n, err := st.ChannelEvents(ctx, []string{"jobs"}, after, 1<<62, 5000, func(id int64, _, _ string, created time.Time, _ []byte) error {
			out = append(out, logEvent{id, created})
			after = id
			return nil
		})
		if err != nil {
			t.Fatalf("read the event log: %v", err)
		}
		if n == 0 {
			return out
		}
	}
}

// lastJobsEvent returns the newest id of the public channel (0: none).
func lastJobsEvent(t *testing.T, pool *pgxpool.Pool, after int64) int64 {
	t.Helper()
	evs := jobsLog(t, pool, after)
	if len(evs) == 0 {
		return after
	}
	return evs[len(evs)-1].id
}

// waitFor polls cond until it is true, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond) // polling the condition, with a deadline
	}
}

var errStatus = errors.New("unexpected status")

func statusErr(resp *http.Response, body []byte) error {
	return fmt.Errorf("%w %d: %s", errStatus, resp.StatusCode, strings.TrimSpace(string(body)))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
