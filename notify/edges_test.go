package notify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

// hubClients returns the hub's connections of one transport.
func hubClients(h *Hub, transport string) []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	var cs []*client
	for _, b := range h.clients {
		for c := range b {
			if c.transport == transport {
				cs = append(cs, c)
			}
		}
	}
	return cs
}

// writingSince is when c's write in progress began (zero: none).
func writingSince(c *client) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writing
}

// finishedAt waits for each client to finish and returns when each did
// (zero for one that did not within limit).
func finishedAt(cs []*client, limit time.Duration) []time.Time {
	at := make([]time.Time, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			select {
			case <-c.finished:
				at[i] = time.Now()
			case <-time.After(limit):
			}
		})
	}
	wg.Wait()
	return at
}

// openRawSSE opens a stream with a bare GET and reads its response head;
// the test then reads the raw body, or not.
func openRawSSE(t *testing.T, base, path string) (*net.TCPConn, *bufio.Reader) {
	t.Helper()
	conn := dialRawSSE(t, base, path)
	conn.SetReadDeadline(time.Now().Add(waitFor))
	br := bufio.NewReaderSize(conn, 16)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	return conn, br
}

// TestSSE_AbandonedClosedWithinKeepalive: clients that close their
// connection (with a FIN, having read all they were sent, as a closed tab
// does) are closed on the server at the wheel's next visit, within one
// keepalive interval. Before, the first keepalive after the close still
// went into the kernel's buffer and only the second failed: up to two
// intervals. Live clients, also one that sent stray bytes after its
// request, stay connected and keep getting keepalives.
func TestSSE_AbandonedClosedWithinKeepalive(t *testing.T) {
	const keepalive = 4 * time.Second
	const abandoned = 100 // two per slot of the wheel: every phase of the interval
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: keepalive})

	gone := make([]*client, abandoned)
	closed := make([]time.Time, abandoned)
	seen := map[*client]bool{}
	for i := range abandoned {
		conn, br := openRawSSE(t, n.srv.URL, "/api/events/jobs")
		waitUntil(t, "client registered", func() bool {
			for _, c := range hubClients(n.hub, TransportSSE) {
				if !seen[c] {
					seen[c], gone[i] = true, c
					return true
				}
			}
			return false
		})
		// Read the connected frame (all there is), so that the close is a
		// FIN: closing with unread bytes would send a reset, which even a
		// first write notices.
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == "\n" {
				break
			}
		}
		if br.Buffered() > 0 {
			t.Fatalf("unread bytes after the connected frame")
		}
		conn.Close()
		closed[i] = time.Now()
	}

	live := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	live.connected(t)
	chatty, chattyBody := openRawSSE(t, n.srv.URL, "/api/events/jobs")
	fmt.Fprintf(chatty, "stray bytes after the request\r\n")

	at := finishedAt(gone, 2*keepalive+5*time.Second)
	var worst time.Duration
	for i, a := range at {
		if a.IsZero() {
			t.Fatalf("abandoned client %d still open after %s", i, 2*keepalive+5*time.Second)
		}
		worst = max(worst, a.Sub(closed[i]))
	}
	t.Logf("%d abandoned clients closed, the last %s after they left (keepalive %s)", abandoned, worst.Round(time.Millisecond), keepalive)
	if limit := keepalive + 2*time.Second; worst > limit {
		t.Errorf("last abandoned client closed %s after it left, want within %s", worst, limit)
	}
	if got := n.hub.Stats().Connections["sse"]; got != 2 {
		t.Errorf("%d sse connections open, want the 2 live ones", got)
	}
	if got := counterValue(t, n.reg, "birjob_notify_slow_disconnects_total", "sse"); got != 0 {
		t.Errorf("slow disconnects = %v: a client that left is not slow", got)
	}

	// The live ones get keepalives and events still.
	sawKeepalive := func(frames chan frame) bool {
		deadline := time.After(2*keepalive + 5*time.Second)
		for {
			select {
			case f := <-frames:
				if f.Comment == "keepalive" {
					return true
				}
			case <-deadline:
				return false
			}
		}
	}
	if !sawKeepalive(live.frames) {
		t.Error("live client got no keepalive")
	}
	// A keepalive means a visit: its check has read (and dropped) the stray
	// bytes and left the connection open.
	chatty.SetReadDeadline(time.Now().Add(2*keepalive + 5*time.Second))
	readUntil := func(want string) {
		t.Helper()
		for {
			line, err := chattyBody.ReadString('\n')
			if err != nil {
				t.Fatalf("client that sent stray bytes, waiting for %q: %v", want, err)
			}
			if line == want {
				return
			}
		}
	}
	readUntil(": keepalive\n")
	id := appendEv(t, pool, "jobs", "new-job", `{"after":true}`)
	readUntil("id: " + strconv.FormatInt(id, 10) + "\n")
	if got := live.nextIDs(t, 1); got[0] != id {
		t.Fatalf("live client got %v, want %d", got, id)
	}
}

// TestPoll_AbandonedWaiterFreed: a waiting long poll holds its handler's
// goroutine, and net/http ends the request's context when the client
// closes the connection, so the waiter is freed at once (not at its
// timeout, nor at a keepalive).
func TestPoll_AbandonedWaiterFreed(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: time.Minute})
	conn := dialRawSSE(t, n.srv.URL, "/api/poll/jobs?timeout=60000")
	waitUntil(t, "poll waiting", func() bool { return n.hub.Stats().Connections["poll"] == 1 })
	start := time.Now()
	conn.Close()
	waitUntil(t, "poll freed", func() bool { return n.hub.Stats().Connections["poll"] == 0 })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("abandoned poll freed after %s, want within 2s", d)
	}
}

// TestWS_ClosedPeerDroppedPromptly: a WebSocket's reader goroutine sees
// the peer's close at once (not at a keepalive), also without a close
// handshake.
func TestWS_ClosedPeerDroppedPromptly(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: time.Minute})
	w := dialWS(t, n.srv.URL, nil)
	w.next(t)
	w.send(t, `{"type":"join","room":"jobs"}`)
	w.next(t)
	waitUntil(t, "ws joined", func() bool { return n.hub.MemberCount("jobs") == 1 })
	start := time.Now()
	w.conn.CloseNow() // the TCP connection, no close frame
	waitUntil(t, "ws dropped", func() bool { return n.hub.Stats().Connections["ws"] == 0 })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("closed websocket dropped after %s, want within 2s", d)
	}
	if got := n.hub.MemberCount("jobs"); got != 0 {
		t.Errorf("room keeps %d members", got)
	}
}

// closedByServer checks that the server has closed conn: a byte sent to a
// closed socket is answered with a reset, which the next read reports
// (draining what the server had buffered instead can take long: a
// window kept shut for seconds reopens slowly).
func closedByServer(conn *net.TCPConn) error {
	if _, err := conn.Write([]byte("x")); err != nil {
		return nil // reset already
	}
	conn.SetReadDeadline(time.Now().Add(waitFor))
	buf := make([]byte, 64<<10)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return fmt.Errorf("connection still open after %s", waitFor)
		}
		return nil // reset or end of stream
	}
}

// TestSSE_StuckWriteFoundAtWriteTimeout: a write that blocks (the client
// stopped reading, its window is full) is found when it has blocked for
// WriteTimeout, not at the client's next keepalive visit after that (up
// to a keepalive interval later: a minute here).
func TestSSE_StuckWriteFoundAtWriteTimeout(t *testing.T) {
	const writeTimeout = time.Second
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: time.Minute, WriteTimeout: writeTimeout})
	const k = 3 // in three slots of the wheel, 1.2 s apart
	var conns []*net.TCPConn
	for range k {
		c, _ := openRawSSE(t, n.srv.URL, "/api/events/jobs")
		c.SetReadBuffer(4 << 10)
		conns = append(conns, c)
	}
	waitUntil(t, "stuck clients connected", func() bool { return n.hub.Stats().Connections["sse"] == k })
	checkFoundAtWriteTimeout(t, n, pool, TransportSSE, writeTimeout, false)
	for i, c := range conns {
		if err := closedByServer(c); err != nil {
			t.Errorf("stuck client %d: %v", i, err)
		}
	}
}

// TestWS_StuckWriteFoundAtWriteTimeout: the same for WebSockets, whose
// writes go through gorilla/websocket with no deadline either. A client
// that reads nothing answers no ping either, and is closed WriteTimeout
// after one (TestWS_UnansweredPingCloses): the keepalive is an hour here,
// so that pings rarely come into it; one that does closes its client
// earlier, never later.
func TestWS_StuckWriteFoundAtWriteTimeout(t *testing.T) {
	const writeTimeout = time.Second
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: time.Hour, WriteTimeout: writeTimeout})
	// Clients with small receive buffers that join and then read nothing.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4 << 10)
		}
		return c, err
	}}}
	const k = 3
	for range k {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(n.srv.URL, "http")+"/api/ws", &websocket.DialOptions{HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"jobs"}`)); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	waitUntil(t, "stuck clients joined", func() bool { return n.hub.MemberCount("jobs") == k })
	checkFoundAtWriteTimeout(t, n, pool, TransportWS, writeTimeout, true)
}

// checkFoundAtWriteTimeout publishes an event far larger than the socket
// buffers of both ends to n's clients of transport, which read nothing,
// and checks that each is closed at most 1.5 s after WriteTimeout from
// when its write began (and not before WriteTimeout, unless early is
// allowed), and counted as slow.
func checkFoundAtWriteTimeout(t *testing.T, n *node, pool *pgxpool.Pool, transport string, writeTimeout time.Duration, early bool) {
	t.Helper()
	cs := hubClients(n.hub, transport)
	appendEv(t, pool, "jobs", "new-job", `{"pad":"`+strings.Repeat("x", 8<<20)+`"}`)
	began := make([]time.Time, len(cs))
	waitUntil(t, "writes in progress", func() bool {
		for i, c := range cs {
			if began[i].IsZero() {
				began[i] = writingSince(c)
			}
			select {
			case <-c.finished:
			default:
				if began[i].IsZero() {
					return false
				}
			}
		}
		return true
	})
	at := finishedAt(cs, waitFor)
	measured := 0
	for i := range cs {
		if at[i].IsZero() {
			t.Fatalf("stuck %s client %d not closed within %s", transport, i, waitFor)
		}
		if began[i].IsZero() {
			continue // closed before the event (an unanswered ping)
		}
		measured++
		d := at[i].Sub(began[i])
		t.Logf("stuck %s client %d closed %s after its write began (write timeout %s)", transport, i, d.Round(time.Millisecond), writeTimeout)
		lo := writeTimeout
		if early {
			lo = 0
		}
		if d < lo || d > writeTimeout+1500*time.Millisecond {
			t.Errorf("stuck %s client %d closed %s after its write began, want within [%s, %s]", transport, i, d, lo, writeTimeout+1500*time.Millisecond)
		}
	}
	if measured == 0 {
		t.Fatal("no client was writing")
	}
	if got := counterValue(t, n.reg, "birjob_notify_slow_disconnects_total", transport); got != float64(len(cs)) {
		t.Errorf("slow disconnects = %v, want %d", got, len(cs))
	}
}

// TestShutdown_StuckClientsBounded: Shutdown with clients whose writes are
// blocked returns within shutdownGrace (and the hint), closing them,
// although its context allows far longer and WriteTimeout has not passed;
// a healthy client gets its retry hint.
func TestShutdown_StuckClientsBounded(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: time.Minute, WriteTimeout: time.Minute, RetryHint: 750 * time.Millisecond})
	const k = 5
	var conns []*net.TCPConn
	for range k {
		c, _ := openRawSSE(t, n.srv.URL, "/api/events/jobs")
		c.SetReadBuffer(4 << 10)
		conns = append(conns, c)
	}
	waitUntil(t, "stuck clients connected", func() bool { return n.hub.Stats().Connections["sse"] == k })
	stuck := hubClients(n.hub, TransportSSE)
	healthy := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	healthy.connected(t)
	id := appendEv(t, pool, "jobs", "new-job", `{"pad":"`+strings.Repeat("x", 8<<20)+`"}`)
	if got := healthy.nextIDs(t, 1); got[0] != id {
		t.Fatalf("healthy client got %v", got)
	}
	waitUntil(t, "writes in progress", func() bool {
		for _, c := range stuck {
			if writingSince(c).IsZero() {
				return false
			}
		}
		return true
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	n.hub.Shutdown(ctx)
	took := time.Since(start)
	t.Logf("Shutdown with %d stuck clients took %s", k, took.Round(time.Millisecond))
	if limit := shutdownGrace + 1500*time.Millisecond; took > limit {
		t.Errorf("Shutdown took %s with %d stuck clients, want within %s", took, k, limit)
	}
	if got := n.hub.Stats().Connections["sse"]; got != 0 {
		t.Errorf("%d sse connections left after Shutdown", got)
	}
	var retry string
	for f := range healthy.frames {
		if f.Retry != "" {
			retry = f.Retry
		}
	}
	if retry != "750" {
		t.Errorf("healthy client ended with retry %q, want 750", retry)
	}
	for i, c := range conns {
		if err := closedByServer(c); err != nil {
			t.Errorf("stuck client %d: %v", i, err)
		}
	}
}

// TestRing_BoundedInBytes: large events fill the ring's byte budget long
// before its count, the oldest fall out, and nothing is lost: a client
// resuming from before the ring's start gets every event (from the
// database, then the ring, then live) exactly once and in order, on every
// transport.
func TestRing_BoundedInBytes(t *testing.T) {
	const budget = 1 << 20
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{RingBytes: budget})
	h := n.hub
	start := h.Cursor()
	live := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	live.connected(t)

	big := `{"pad":"` + strings.Repeat("x", 32<<10) + `"}`
	var want []int64
	for i := range 20 {
		want = append(want, appendEv(t, pool, "jobs", "new-job", big))
		if i%5 == 0 {
			appendEv(t, pool, "other", "new-job", big) // not ours: skipped on replay
		}
	}
	waitUntil(t, "hub caught up", func() bool { return h.Cursor() >= want[len(want)-1] })
	if got := live.nextIDs(t, len(want)); !equalIDs(got, want) {
		t.Fatalf("live client got %v, want %v", got, want)
	}

	h.mu.Lock()
	held, bytes, floor := len(h.ring), h.ringBytes, h.ringFloor
	var sum int64
	for _, e := range h.ring {
		sum += e.cost
	}
	h.mu.Unlock()
	t.Logf("ring holds %d events, %d bytes counted, floor %d", held, bytes, floor)
	if bytes > budget || sum != bytes {
		t.Errorf("ring counts %d bytes (its events cost %d), budget %d", bytes, sum, budget)
	}
	if held == 0 || held > 4 || floor <= want[0] {
		t.Errorf("ring holds %d events above %d; want 1-4 of the newest", held, floor)
	}

	// Resume from before the ring on each transport.
	from := strconv.FormatInt(start, 10)
	sse := openSSE(t, n.srv.URL, "/api/events/jobs", map[string]string{"Last-Event-ID": from})
	sse.connected(t)
	if got := sse.nextIDs(t, len(want)); !equalIDs(got, want) {
		t.Fatalf("sse resumed %v, want %v", got, want)
	}
	ws := dialWS(t, n.srv.URL, nil)
	ws.next(t)
	ws.send(t, `{"type":"join","room":"jobs","lastEventId":"`+from+`"}`)
	if got := ws.nextIDs(t, len(want)); !equalIDs(got, want) {
		t.Fatalf("ws resumed %v, want %v", got, want)
	}
	var polled []int64
	pos := from
	for len(polled) < len(want) {
		status, r := poll(t, n.srv.URL, "/api/poll/jobs?timeout=10000&lastEventId="+pos, nil)
		if status != 200 || len(r.Events) == 0 {
			t.Fatalf("poll from %s: %d %+v", pos, status, r)
		}
		polled = append(polled, r.ids()...)
		pos = r.LastEventID
	}
	if !equalIDs(polled, want) {
		t.Fatalf("poll resumed %v, want %v", polled, want)
	}
	// Then live, with nothing repeated.
	next := appendEv(t, pool, "jobs", "new-job", `{"n":"next"}`)
	if got := sse.nextIDs(t, 1); got[0] != next {
		t.Fatalf("sse after replay got %v, want %d", got, next)
	}
	if got := ws.nextIDs(t, 1); got[0] != next {
		t.Fatalf("ws after replay got %v, want %d", got, next)
	}
	if _, r := poll(t, n.srv.URL, "/api/poll/jobs?timeout=10000&lastEventId="+pos, nil); !equalIDs(r.ids(), []int64{next}) {
		t.Fatalf("poll after replay got %v, want %d", r.ids(), next)
	}
}

// TestRingCost_CoversEncodedEvent: what the ring counts for an event is at
// least the memory it holds once every transport has encoded it, so the
// byte budget bounds the ring's real size.
func TestRingCost_CoversEncodedEvent(t *testing.T) {
	for _, size := range []int{0, 100, 1000, 4 << 10, 32 << 10, 256 << 10} {
		const k = 100
		evs := make([]*evt, k)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range evs {
			// As the hub gets it: the row's bytes, with whitespace to compact.
			data := []byte(`{"pad": "` + strings.Repeat("x", size) + `", "n": ` + strconv.Itoa(i) + `}`)
			e := newEvt(int64(i+1), model.UserChannel(int64(i+1)), "new-job", time.Now(), data)
			e.sseBytes()
			e.wsBytes()
			e.pollBytes()
			e.wsFrame()
			evs[i] = e
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / k
		cost := ringCost(size + 20)
		t.Logf("%d bytes of data: %d bytes held, %d counted", size, held, cost)
		if held > cost {
			t.Errorf("an event with %d bytes of data holds %d bytes, the ring counts %d", size, held, cost)
		}
		runtime.KeepAlive(evs)
	}
}

// TestPoll_HugeTimeoutCapped: any timeout from 0 up is a number of
// milliseconds, capped at PollTimeoutMax however large (before,
// 9223372036854775807 overflowed into a negative hold and was answered at
// once: a client polling with it looped without pause); a negative or
// non-numeric timeout gets a 400 that says what is valid.
func TestPoll_HugeTimeoutCapped(t *testing.T) {
	const pollMax = time.Second
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{PollTimeoutMax: pollMax})
	pos := strconv.FormatInt(n.hub.Cursor(), 10)
	held := map[string]time.Duration{
		"9223372036854775807": pollMax, "99999999999999999999999": pollMax, "1e30": pollMax,
		"Infinity": pollMax, "2000.5": pollMax, "": pollMax, // the default, 30 s, capped
		"250": 250 * time.Millisecond, "300.9": 300 * time.Millisecond,
	}
	for v, want := range held {
		t.Run("held/"+v, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			status, r := poll(t, n.srv.URL, "/api/poll/jobs?timeout="+v+"&lastEventId="+pos, nil)
			took := time.Since(start)
			if status != 200 || len(r.Events) != 0 || r.LastEventID != pos {
				t.Fatalf("timeout=%s: %d %+v", v, status, r)
			}
			if took < want || took > want+3*time.Second {
				t.Errorf("timeout=%s held %s, want about %s", v, took, want)
			}
		})
	}
	for _, v := range []string{"-1", "-9223372036854775808", "abc", "NaN", "10ms", "0x"} {
		t.Run("refused/"+v, func(t *testing.T) {
			t.Parallel()
			resp, err := http.Get(n.srv.URL + "/api/poll/jobs?timeout=" + v)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || !strings.Contains(string(body), "timeout must be a number of milliseconds, 0 or more") {
				t.Errorf("timeout=%s: %d %s", v, resp.StatusCode, body)
			}
		})
	}
}

// BenchmarkPeerCheck measures the wheel's dead-peer check: one
// non-blocking read per connection per keepalive interval, on live and
// silent connections (the common case). It reports the cost for 10,000
// connections (one turn of the wheel) from as many as the descriptor
// limit allows (two per connection in this process).
func BenchmarkPeerCheck(b *testing.B) {
	const conns = 9000
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var server []net.Conn
	for range conns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatalf("dial: %v (descriptor limit?)", err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		server = append(server, s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	checked := 0
	for b.Loop() {
		for _, s := range server {
			if peerClosed(s) {
				b.Fatal("live connection seen as closed")
			}
		}
		checked += len(server)
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(checked)
	b.ReportMetric(per, "ns/conn")
	b.ReportMetric(per*10000/1e3, "µs/10k-conns")
}
