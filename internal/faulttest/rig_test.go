package faulttest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// rig is one test's cluster: PostgreSQL, birjob nodes, clients and an
// ingester posting jobs.
type rig struct {
	t       *testing.T
	name    string
	pg      *postgres
	pool    *pgxpool.Pool
	nodes   []*node
	admin   *http.Client
	base    int64 // clients start after this id
	clients []*client

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	ing *ingester
}

func newRig(t *testing.T, name string, nodes int, env ...string) *rig {
	t.Helper()
	r := &rig{t: t, name: name, pg: startPostgres(t)}
	r.pool = r.pg.pool()
	for i := range nodes {
		r.nodes = append(r.nodes, startNode(t, r.pg, fmt.Sprintf("%s-node%d", name, i+1), env...))
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	t.Cleanup(func() { r.cancel(); r.wg.Wait() })
	jar, _ := cookiejar.New(nil)
	r.admin = &http.Client{Jar: jar, Timeout: 20 * time.Second}
	if err := r.call(r.nodes[0], "POST", "/api/login", fmt.Sprintf(`{"email":%q,"password":%q}`, adminEmail, adminPassword), 200, nil); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	// A first job, so clients resume from a real id of the log.
	if err := r.call(r.nodes[0], "POST", "/api/jobs", `{"title":"Warm-up job","url":"https://example.com/fault/`+name+`/warm-up"}`, 201, nil); err != nil {
		t.Fatalf("first job: %v", err)
	}
	waitFor(t, 60*time.Second, "event of the first job", func() bool { return lastJobsEvent(t, r.pool, 0) > 0 })
	r.base = lastJobsEvent(t, r.pool, 0)
	return r
}

// call sends an admin request to a node and checks the status.
func (r *rig) call(n *node, method, path, body string, want int, out *[]byte) error {
	req, _ := http.NewRequest(method, n.URL()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.admin.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return statusErr(resp, b)
	}
	if out != nil {
		*out = b
	}
	return nil
}

// addClients starts n clients, spread over the transports and over the
// nodes (each prefers its own node and resumes on the next), and waits
// until all of them are subscribed.
func (r *rig) addClients(n int) {
	r.t.Helper()
	start := len(r.clients)
	for i := range n {
		k := start + i
		var urls []string
		for j := range r.nodes {
			urls = append(urls, r.nodes[(k+j)%len(r.nodes)].URL())
		}
		c := newClient(transports[k%len(transports)], r.base, urls...)
		r.clients = append(r.clients, c)
		r.wg.Add(1)
		go func() { defer r.wg.Done(); c.run(r.ctx) }()
		if i%100 == 99 { // connect in batches, as a crowd arrives
			r.waitClientsUp(start, start+i+1)
		}
	}
	r.waitClientsUp(start, start+n)
}

func (r *rig) waitClientsUp(from, to int) {
	r.t.Helper()
	waitFor(r.t, 2*time.Minute, fmt.Sprintf("subscription of clients %d-%d", from, to), func() bool {
		for _, c := range r.clients[from:to] {
			if !c.isUp() {
				return false
			}
		}
		return true
	})
}

// waitDelivered waits until every client has received id.
func (r *rig) waitDelivered(id int64, d time.Duration) {
	r.t.Helper()
	waitFor(r.t, d, fmt.Sprintf("delivery of event %d to all %d clients", id, len(r.clients)), func() bool {
		for _, c := range r.clients {
			if c.lastID() < id {
				return false
			}
		}
		return true
	})
}

// ingester posts a job every interval to the nodes in turn; a job refused
// (its node down, or the database away) is posted again to the next node,
// so a job refused is not a job lost.
type ingester struct {
	r        *rig
	mu       sync.Mutex
	next     int
	accepted []time.Time
	failures int
	stop     chan struct{}
	done     chan struct{}
}

func (r *rig) startIngest(interval time.Duration) *ingester {
	g := &ingester{r: r, stop: make(chan struct{}), done: make(chan struct{})}
	r.ing = g
	go func() {
		defer close(g.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		node := 0
		for {
			select {
			case <-g.stop:
				return
			case <-r.ctx.Done():
				return
			case <-tick.C:
			}
			g.mu.Lock()
			k := g.next
			g.mu.Unlock()
			body := fmt.Sprintf(`{"title":"Fault job %d","url":"https://example.com/fault/%s/%d"}`, k, r.name, k)
			err := r.call(r.nodes[node%len(r.nodes)], "POST", "/api/jobs", body, 201, nil)
			node++
			g.mu.Lock()
			if err == nil {
				g.next++
				g.accepted = append(g.accepted, time.Now())
			} else {
				g.failures++
			}
			g.mu.Unlock()
		}
	}()
	return g
}

// count returns how many jobs were accepted and how many posts failed.
func (g *ingester) count() (accepted, failures int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.accepted), g.failures
}

// firstAcceptedAfter returns the first acceptance after t.
func (g *ingester) firstAcceptedAfter(t time.Time) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, a := range g.accepted {
		if a.After(t) {
			return a
		}
	}
	return time.Time{}
}

func (g *ingester) halt() {
	close(g.stop)
	<-g.done
}

// waitAccepted waits until n more jobs than now were accepted.
func (g *ingester) waitAccepted(n int, d time.Duration) {
	g.r.t.Helper()
	a, _ := g.count()
	waitFor(g.r.t, d, fmt.Sprintf("%d more jobs accepted", n), func() bool {
		b, _ := g.count()
		return b >= a+n
	})
}

// finish stops the ingester, waits until every client has every event of
// the log and compares: every event after the start, once, in order.
func (r *rig) finish() []logEvent {
	r.t.Helper()
	if r.ing != nil {
		r.ing.halt()
	}
	// Every accepted job has its event once the outbox is empty.
	accepted, _ := 0, 0
	if r.ing != nil {
		accepted, _ = r.ing.count()
	}
	var log []logEvent
	waitFor(r.t, 2*time.Minute, fmt.Sprintf("events of all %d accepted jobs in the log", accepted), func() bool {
		log = jobsLog(r.t, r.pool, r.base)
		return len(log) >= accepted
	})
	// Until the log stops growing (the matcher may still be writing
	// events of the last jobs): every client has its last event, and the
	// log has nothing newer.
	for len(log) > 0 {
		if !r.waitDeliveredOrReport(log[len(log)-1].id) {
			break
		}
		again := jobsLog(r.t, r.pool, r.base)
		if len(again) == len(log) {
			break
		}
		log = again
	}
	want := make([]int64, len(log))
	for i, e := range log {
		want[i] = e.id
	}
	bad := 0
	for i, c := range r.clients {
		c.mu.Lock()
		got, problems := slices.Clone(c.ids), slices.Clone(c.problems)
		c.mu.Unlock()
		if slices.Equal(got, want) && len(problems) == 0 {
			continue
		}
		if bad++; bad <= 5 {
			r.t.Errorf("client %d (%s): %s; problems %v", i, c.tr, diffIDs(got, want), problems)
		}
	}
	if bad > 0 {
		r.t.Errorf("%d of %d clients did not receive exactly the %d events of the log", bad, len(r.clients), len(want))
	}
	return log
}

// waitDeliveredOrReport waits for the last event at every client, and
// says who lacks it instead of failing outright (finish compares next).
func (r *rig) waitDeliveredOrReport(id int64) bool {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		all := true
		for _, c := range r.clients {
			if c.lastID() < id {
				all = false
				break
			}
		}
		if all {
			return true
		}
		time.Sleep(20 * time.Millisecond) // polling the condition, with a deadline
	}
	lacking := 0
	for _, c := range r.clients {
		if c.lastID() < id {
			lacking++
		}
	}
	r.t.Errorf("%d of %d clients lack event %d a minute after ingest stopped", lacking, len(r.clients), id)
	return false
}

// diffIDs says how got differs from want.
func diffIDs(got, want []int64) string {
	seen := map[int64]int{}
	for _, id := range got {
		seen[id]++
	}
	var missing, twice []int64
	for _, id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id, n := range seen {
		if n > 1 {
			twice = append(twice, id)
		}
	}
	slices.Sort(twice)
	return fmt.Sprintf("received %d of %d events; missing %v; twice %v", len(got), len(want), head(missing), head(twice))
}

func head(xs []int64) []int64 {
	if len(xs) > 10 {
		return xs[:10]
	}
	return xs
}

// reconnects sums up the clients' reconnections: how many, and the
// median and largest time from a stream's end to the next subscription.
func (r *rig) reconnects() (n int, p50, p99, worst time.Duration) {
	var all []time.Duration
	for _, c := range r.clients {
		c.mu.Lock()
		all = append(all, c.gaps...)
		c.mu.Unlock()
	}
	if len(all) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(all)
	return len(all), all[len(all)/2], all[len(all)*99/100], all[len(all)-1]
}

// firstArrival returns when id first reached any client.
func (r *rig) firstArrival(id int64) time.Time {
	var first time.Time
	for _, c := range r.clients {
		if a := c.arrival(id); !a.IsZero() && (first.IsZero() || a.Before(first)) {
			first = a
		}
	}
	return first
}

// dropsByTransport counts the streams that ended under the clients, per
// transport.
func (r *rig) dropsByTransport() string {
	m, refused := map[string]int{}, 0
	for _, c := range r.clients {
		c.mu.Lock()
		m[c.tr] += c.drops
		refused += c.refused
		c.mu.Unlock()
	}
	return fmt.Sprintf("%d SSE, %d WebSocket, %d long poll; %d attempts to subscribe failed", m[trSSE], m[trWS], m[trPoll], refused)
}

// clientsByTransport counts the clients per transport.
func (r *rig) clientsByTransport() string {
	m := map[string]int{}
	for _, c := range r.clients {
		m[c.tr]++
	}
	return fmt.Sprintf("%d SSE, %d WebSocket, %d long poll", m[trSSE], m[trWS], m[trPoll])
}
