package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestCluster_ThreeNodes: three hubs on one database, each with clients of
// every transport; events written through any node reach all of them, and
// a client resumes on another node exactly where it left off.
func TestCluster_ThreeNodes(t *testing.T) {
	url := pgtest.NewURL(t)
	var nodes []*node
	for range 3 {
		nodes = append(nodes, startNode(t, newPool(t, url), Config{}))
	}
	type recv struct {
		name string
		ids  func(n int) []int64
	}
	var clients []recv
	for i, n := range nodes {
		s := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
		s.connected(t)
		clients = append(clients, recv{fmt.Sprintf("sse@%d", i), func(k int) []int64 { return s.nextIDs(t, k) }})
		w := dialWS(t, n.srv.URL, nil)
		w.next(t)
		w.send(t, `{"type":"join","room":"jobs"}`)
		w.next(t)
		clients = append(clients, recv{fmt.Sprintf("ws@%d", i), func(k int) []int64 { return w.nextIDs(t, k) }})
	}
	start := nodes[0].hub.Cursor()
	var want []int64
	for i := range 6 {
		// Write through each node's pool in turn.
		id := appendEv(t, nodes[i%3].hub.pool, "jobs", "new-job", `{"i":`+strconv.Itoa(i)+`}`)
		want = append(want, id)
	}
	for _, c := range clients {
		if got := c.ids(len(want)); !equalIDs(got, want) {
			t.Errorf("%s got %v, want %v", c.name, got, want)
		}
	}
	for i, n := range nodes {
		pos := strconv.FormatInt(start, 10)
		var got []int64
		for len(got) < len(want) {
			_, r := poll(t, n.srv.URL, "/api/poll/jobs?timeout=5000&lastEventId="+pos, nil)
			got = append(got, r.ids()...)
			pos = r.LastEventID
		}
		if !equalIDs(got, want) {
			t.Errorf("poll@%d got %v, want %v", i, got, want)
		}
	}
	// Resume across nodes: read half on node 0, continue on node 2.
	a := openSSE(t, nodes[0].srv.URL, "/api/events/jobs?lastEventId="+strconv.FormatInt(start, 10), nil)
	a.connected(t)
	half := a.nextIDs(t, 3)
	a.close()
	b := openSSE(t, nodes[2].srv.URL, "/api/events/jobs", map[string]string{"Last-Event-ID": strconv.FormatInt(half[2], 10)})
	b.connected(t)
	if got := append(half, b.nextIDs(t, 3)...); !equalIDs(got, want) {
		t.Errorf("resumed across nodes %v, want %v", got, want)
	}
}

// TestListen_Reconnect kills the hub's LISTEN backend; events committed
// while it is down are delivered once it is back, none lost.
func TestListen_Reconnect(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{})
	c := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	c.connected(t)
	var want []int64
	want = append(want, appendEv(t, pool, "jobs", "new-job", `{}`))
	if got := c.nextIDs(t, 1); got[0] != want[0] {
		t.Fatalf("got %v", got)
	}
	for round := range 3 {
		pid := n.hub.listenPID.Load()
		if _, err := pool.Exec(t.Context(), "SELECT pg_terminate_backend($1)", int32(pid)); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			want = append(want, appendEv(t, pool, "jobs", "new-job", `{"round":`+strconv.Itoa(round)+`}`))
		}
		waitUntil(t, "listener replaced", func() bool {
			p := n.hub.listenPID.Load()
			return p != 0 && p != pid && n.hub.listening.Load()
		})
		want = append(want, appendEv(t, pool, "jobs", "new-job", `{}`))
	}
	if got := append([]int64{want[0]}, c.nextIDs(t, len(want)-1)...); !equalIDs(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if counterValue(t, n.reg, "birjob_notify_listen_reconnects_total", "") < 3 {
		t.Error("reconnects not counted")
	}
}

// TestConcurrentWriters_ResumingReaders: many writers commit events in
// transactions of varied sizes while readers on every transport keep
// disconnecting and resuming from their last id. Each reader's sequence
// must equal the full log of the channel: no gap, no duplicate, in order.
func TestConcurrentWriters_ResumingReaders(t *testing.T) {
	url := pgtest.NewURL(t)
	pool := newPool(t, url)
	n1 := startNode(t, newPool(t, url), Config{RingSize: 16})
	n2 := startNode(t, newPool(t, url), Config{RingSize: 16})
	nodes := []*node{n1, n2}
	start := n1.hub.Cursor()

	const writers, perWriter = 6, 60
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; i < perWriter; {
				k := min(1+rng.IntN(4), perWriter-i)
				err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
					var evs []model.Event
					for j := range k {
						evs = append(evs, modelEvent("jobs", "new-job", fmt.Sprintf(`{"w":%d,"i":%d}`, w, i+j)))
						evs = append(evs, modelEvent("other", "new-job", `{}`))
					}
					_, err := storage.New(tx).AppendEvents(context.Background(), evs...)
					if err == nil && rng.IntN(4) == 0 {
						time.Sleep(time.Millisecond) // hold the transaction open a little
					}
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				i += k
			}
		}()
	}
	total := writers * perWriter

	readers := []struct {
		name string
		read func(node *node, from int64, max int) []int64
	}{
		{"sse", func(nd *node, from int64, max int) []int64 {
			c := openSSE(t, nd.srv.URL, "/api/events/jobs", map[string]string{"Last-Event-ID": strconv.FormatInt(from, 10)})
			defer c.close()
			c.connected(t)
			return c.nextIDs(t, max)
		}},
		{"ws", func(nd *node, from int64, max int) []int64 {
			c := dialWS(t, nd.srv.URL, nil)
			defer c.conn.Close(websocket.StatusNormalClosure, "")
			c.next(t)
			c.send(t, `{"type":"join","room":"jobs","lastEventId":"`+strconv.FormatInt(from, 10)+`"}`)
			c.next(t)
			return c.nextIDs(t, max)
		}},
		{"poll", func(nd *node, from int64, max int) []int64 {
			_, r := poll(t, nd.srv.URL, "/api/poll/jobs?timeout=10000&lastEventId="+strconv.FormatInt(from, 10), nil)
			return r.ids()
		}},
	}
	results := make([][]int64, len(readers))
	var rwg sync.WaitGroup
	for ri, rd := range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			rng := rand.New(rand.NewPCG(uint64(ri), 7))
			pos := start
			var got []int64
			for hop := 0; len(got) < total; hop++ {
				want := min(1+rng.IntN(40), total-len(got))
				ids := rd.read(nodes[hop%2], pos, want)
				if len(ids) == 0 {
					continue
				}
				got = append(got, ids...)
				pos = ids[len(ids)-1]
			}
			results[ri] = got
		}()
	}
	wg.Wait()
	rwg.Wait()
	if t.Failed() {
		return
	}
	rows, _ := pool.Query(t.Context(), "SELECT id FROM events WHERE channel = 'jobs' AND id > $1 ORDER BY id", start)
	log, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != total {
		t.Fatalf("log has %d events, want %d", len(log), total)
	}
	for ri, got := range results {
		if !equalIDs(got, log) {
			t.Errorf("%s reader: %d ids, differs from the log of %d (first diff at %d)", readers[ri].name, len(got), len(log), firstDiff(got, log))
		}
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestRetention_Reset: a resume from before the purged prefix gets a reset
// event on every transport, then continues live.
func TestRetention_Reset(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Retention: time.Hour})
	first := appendEv(t, pool, "jobs", "new-job", `{}`)
	second := appendEv(t, pool, "jobs", "new-job", `{}`)
	waitUntil(t, "hub caught up", func() bool { return n.hub.Cursor() >= second })
	if _, err := pool.Exec(t.Context(), "UPDATE events SET created_at = now() - interval '2 hours' WHERE id <= $1", first); err != nil {
		t.Fatal(err)
	}
	upto, err := n.hub.purge(t.Context())
	if err != nil || upto != first {
		t.Fatalf("purge: %d %v, want %d", upto, err, first)
	}
	before := strconv.FormatInt(first-1, 10)
	c := openSSE(t, n.srv.URL, "/api/events/jobs?lastEventId="+before, nil)
	c.connected(t)
	f := c.next(t)
	if f.Event != model.EventReset || f.ID != strconv.FormatInt(second, 10) {
		t.Fatalf("sse after purge: %+v, want reset with id %d", f, second)
	}
	_, r := poll(t, n.srv.URL, "/api/poll/jobs?timeout=1&lastEventId="+before, nil)
	if len(r.Events) != 1 || r.Events[0].Type != model.EventReset || r.LastEventID != strconv.FormatInt(second, 10) {
		t.Fatalf("poll after purge: %+v", r)
	}
	w := dialWS(t, n.srv.URL, nil)
	w.next(t)
	w.send(t, `{"type":"join","room":"jobs","lastEventId":"`+before+`"}`)
	w.next(t)
	if m := w.next(t); m["type"] != model.EventReset || m["room"] != "jobs" {
		t.Fatalf("ws after purge: %v", m)
	}
	// A resume from within the kept history is not reset.
	c2 := openSSE(t, n.srv.URL, "/api/events/jobs?lastEventId="+strconv.FormatInt(first, 10), nil)
	c2.connected(t)
	if got := c2.nextIDs(t, 1); got[0] != second {
		t.Fatalf("resume inside retention: %v", got)
	}
	// The stream goes on live after the reset.
	live := appendEv(t, pool, "jobs", "new-job", `{}`)
	if got := c.nextIDs(t, 1); got[0] != live {
		t.Fatalf("live after reset: %v", got)
	}
}

// TestShutdown_EndsStreamsWithRetryHint: SSE gets a retry line, WebSocket
// a 1012 close, a waiting long poll its answer at once; new subscribers
// get 503.
func TestShutdown_EndsStreamsWithRetryHint(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{RetryHint: 750 * time.Millisecond})
	s := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	s.connected(t)
	w := dialWS(t, n.srv.URL, nil)
	w.next(t)
	done := make(chan pollResp, 1)
	go func() {
		_, r := poll(t, n.srv.URL, "/api/poll/jobs?timeout=60000", nil)
		done <- r
	}()
	// The poll is counted before it subscribes, and one that meets the
	// shutdown before subscribing is refused (503), not answered: wait
	// for its subscription too (the stream's and the poll's; the socket
	// joins nothing).
	waitUntil(t, "all connected", func() bool {
		st := n.hub.Stats()
		return st.Connections["sse"] == 1 && st.Connections["ws"] == 1 && st.Connections["poll"] == 1 && st.Subscriptions == 2
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	n.hub.Shutdown(ctx)
	cancel()
	var retry string
	for f := range s.frames {
		if f.Retry != "" {
			retry = f.Retry
		}
	}
	if retry != "750" {
		t.Errorf("sse ended with retry %q, want 750", retry)
	}
	for range w.msgs {
	}
	if websocket.CloseStatus(w.err) != websocket.StatusServiceRestart {
		t.Errorf("ws close: %v, want 1012", w.err)
	}
	select {
	case r := <-done:
		if r.LastEventID == "" {
			t.Errorf("poll answer %+v", r)
		}
	case <-time.After(waitFor):
		t.Fatal("long poll not answered at shutdown")
	}
	if _, status, _ := tryOpenSSE(t, n.srv.URL, "/api/events/jobs", nil); status != 503 {
		t.Errorf("sse after shutdown: %d, want 503", status)
	}
}
