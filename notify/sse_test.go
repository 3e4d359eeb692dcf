package notify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
)

func TestSSE_Conformance(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: 300 * time.Millisecond, RetryHint: 1500 * time.Millisecond})

	// Raw bytes first: the retry line comes before anything else.
	conn := dialRawSSE(t, n.srv.URL, "/api/events/jobs")
	conn.SetReadDeadline(time.Now().Add(waitFor))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	line, _ := br.ReadString('\n')
	if line != "retry: 1500\n" {
		t.Fatalf("first line %q, want retry: 1500", line)
	}
	rest, _ := br.ReadString('\n')
	if rest != "event: connected\n" {
		t.Fatalf("second line %q", rest)
	}
	data, _ := br.ReadString('\n')
	var conn1 struct {
		Channel   string `json:"channel"`
		Timestamp int64  `json:"timestamp"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(data), "data: ")), &conn1); err != nil || conn1.Channel != "jobs" || conn1.Timestamp == 0 {
		t.Fatalf("connected data %q: %v", data, err)
	}

	c := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	c.connected(t)
	id := appendEv(t, pool, "jobs", "new-job", "{\n  \"title\": \"Go developer\"\n}")
	f := c.next(t)
	if f.ID != strconv.FormatInt(id, 10) || f.Event != "new-job" || f.Data != `{"channel":"jobs","title":"Go developer"}` {
		t.Fatalf("event frame %+v, want id %d new-job compact data tagged with its channel", f, id)
	}
	// Keepalive comment within a few intervals, without events.
	deadline := time.After(waitFor)
	for got := false; !got; {
		select {
		case f := <-c.frames:
			got = f.Comment == "keepalive"
		case <-deadline:
			t.Fatal("no keepalive comment")
		}
	}
}

// TestSSE_ResumeVerbatimIDs covers two r3labs/sse traps: ids are ours,
// verbatim (its EventLog renumbers them and replays the last event again),
// and Last-Event-ID is a decimal int64, not an int parsed by the library.
func TestSSE_ResumeVerbatimIDs(t *testing.T) {
	pool := pgtest.New(t)
	// Push the sequence past 2^53 and 2^32 so that any int or float
	// parsing of ids shows.
	if _, err := pool.Exec(t.Context(), "SELECT setval('events_id_seq', 9007199254740993)"); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, pool, Config{})
	var ids []int64
	for i := range 5 {
		ids = append(ids, appendEv(t, pool, "jobs", "new-job", fmt.Sprintf(`{"n":%d}`, i)))
	}
	for _, tc := range []struct {
		name string
		path string
		hdr  map[string]string
	}{
		{"header", "/api/events/jobs", map[string]string{"Last-Event-ID": strconv.FormatInt(ids[1], 10)}},
		{"query", "/api/events/jobs?lastEventId=" + strconv.FormatInt(ids[1], 10), nil},
		{"header wins", "/api/events/jobs?lastEventId=1", map[string]string{"Last-Event-ID": strconv.FormatInt(ids[1], 10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := openSSE(t, n.srv.URL, tc.path, tc.hdr)
			c.connected(t)
			got := c.nextIDs(t, len(ids)-2)
			if !equalIDs(got, ids[2:]) {
				t.Fatalf("resumed ids %v, want %v", got, ids[2:])
			}
			// Nothing replayed twice: the next event is the new one.
			next := appendEv(t, pool, "jobs", "new-job", `{}`)
			if got := c.nextIDs(t, 1); got[0] != next {
				t.Fatalf("after replay got %v, want %d", got, next)
			}
			ids = append(ids, next)
		})
	}
	for _, bad := range []string{"abc", "-1", "1e9", "99999999999999999999"} {
		if c, status, _ := tryOpenSSE(t, n.srv.URL, "/api/events/jobs", map[string]string{"Last-Event-ID": bad}); c != nil || status != 400 {
			t.Errorf("Last-Event-ID %q: status %d, want 400", bad, status)
		}
	}
}

// TestSSE_EventWithoutDataKeepsStream covers the r3labs/sse trap where an
// event with neither data nor comment ends the connection.
func TestSSE_EventWithoutDataKeepsStream(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{})
	c := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	c.connected(t)
	a := appendEv(t, pool, "jobs", "marker", "")
	b := appendEv(t, pool, "jobs", "marker", `""`)
	d := appendEv(t, pool, "jobs", "new-job", `{"x":1}`)
	f1, f2, f3 := c.next(t), c.next(t), c.next(t)
	if f1.ID != strconv.FormatInt(a, 10) || f1.Data != "null" {
		t.Fatalf("empty-data event framed as %+v", f1)
	}
	if f2.ID != strconv.FormatInt(b, 10) || f2.Data != `""` {
		t.Fatalf("empty-string event framed as %+v", f2)
	}
	if f3.ID != strconv.FormatInt(d, 10) {
		t.Fatalf("stream did not go on after empty events: %+v", f3)
	}
}

// TestSSE_SlowClientIsolated covers the r3labs/sse trap of a publisher
// blocking on one slow subscriber: a client that stops reading is
// disconnected when its queue fills, and the others get every event
// meanwhile.
func TestSSE_SlowClientIsolated(t *testing.T) {
	pool := pgtest.New(t)
	// The write timeout is far above any stall of the reading client on a
	// loaded machine (the watchdog enforces it within a tenth): the stuck
	// client goes when its queue fills.
	n := startNode(t, pool, Config{QueueSize: 4, WriteTimeout: 30 * time.Second})

	// The stuck client: reads the response head, then nothing.
	stuck := dialRawSSE(t, n.srv.URL, "/api/events/jobs")
	stuck.SetReadDeadline(time.Now().Add(waitFor))
	sbr := bufio.NewReaderSize(stuck, 16)
	if _, err := http.ReadResponse(sbr, nil); err != nil {
		t.Fatal(err)
	}
	good := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	good.connected(t)
	waitUntil(t, "two sse clients", func() bool { return n.hub.Stats().Connections["sse"] == 2 })

	big := `{"pad":"` + strings.Repeat("x", 256<<10) + `"}`
	var want []int64
	for range 60 {
		want = append(want, appendEv(t, pool, "jobs", "new-job", big))
		// The good client keeps up with each event while the stuck one
		// does not read at all.
		got := good.nextIDs(t, 1)
		if got[0] != want[len(want)-1] {
			t.Fatalf("good client got %v, want %d", got, want[len(want)-1])
		}
	}
	waitUntil(t, "stuck client dropped", func() bool { return n.hub.Stats().Connections["sse"] == 1 })
	if got := counterValue(t, n.reg, "birjob_notify_slow_disconnects_total", "sse"); got != 1 {
		t.Errorf("slow disconnects = %v, want 1", got)
	}
	// The stuck client's stream ends (after what the socket buffers held).
	stuck.SetReadDeadline(time.Now().Add(waitFor))
	nb, err := io.Copy(io.Discard, sbr)
	t.Logf("stuck client read %d bytes after the head", nb)
	if err != nil {
		t.Fatalf("stuck client: %v, want EOF", err)
	}
}

// TestSSE_ResumeAcrossRestart: a client resumes after the node restarts,
// from the database (the new hub's memory ring starts empty).
func TestSSE_ResumeAcrossRestart(t *testing.T) {
	pool := pgtest.New(t)
	n1 := startNode(t, pool, Config{})
	c := openSSE(t, n1.srv.URL, "/api/events/jobs", nil)
	c.connected(t)
	a := appendEv(t, pool, "jobs", "new-job", `{"n":1}`)
	if got := c.nextIDs(t, 1); got[0] != a {
		t.Fatalf("got %v", got)
	}
	n1.stop()
	// The stream ends with a retry hint.
	var sawRetry bool
	for f := range c.frames {
		sawRetry = sawRetry || f.Retry != ""
	}
	if !sawRetry {
		t.Fatal("stream ended without a retry hint")
	}
	var missed []int64
	for i := range 3 {
		missed = append(missed, appendEv(t, pool, "jobs", "new-job", fmt.Sprintf(`{"m":%d}`, i)))
	}
	appendEv(t, pool, "other", "new-job", `{}`)
	n2 := startNode(t, pool, Config{})
	c2 := openSSE(t, n2.srv.URL, "/api/events/jobs", map[string]string{"Last-Event-ID": strconv.FormatInt(a, 10)})
	c2.connected(t)
	if got := c2.nextIDs(t, 3); !equalIDs(got, missed) {
		t.Fatalf("resumed %v, want %v", got, missed)
	}
}

// TestSSE_StuckWriteFoundByKeepalive: a client that stops reading while
// one big event is being written (its socket buffers full, and no further
// event to overflow its queue) is disconnected once that write has been
// blocked for WriteTimeout, and counted as slow.
func TestSSE_StuckWriteFoundByKeepalive(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: 100 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	stuck := dialRawSSE(t, n.srv.URL, "/api/events/jobs")
	stuck.SetReadBuffer(4 << 10)
	stuck.SetReadDeadline(time.Now().Add(waitFor))
	if _, err := http.ReadResponse(bufio.NewReaderSize(stuck, 16), nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "sse client connected", func() bool { return n.hub.Stats().Connections["sse"] == 1 })
	// Far more than the socket buffers of both ends hold.
	appendEv(t, pool, "jobs", "new-job", `{"pad":"`+strings.Repeat("x", 16<<20)+`"}`)
	waitUntil(t, "stuck client dropped", func() bool { return n.hub.Stats().Connections["sse"] == 0 })
	if got := counterValue(t, n.reg, "birjob_notify_slow_disconnects_total", "sse"); got != 1 {
		t.Errorf("slow disconnects = %v, want 1", got)
	}
}

// dialRawSSE opens a TCP connection to base and sends a bare HTTP/1.1 GET
// of path: the test reads (or does not read) the raw bytes itself.
func dialRawSSE(t *testing.T, base, path string) *net.TCPConn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tc := conn.(*net.TCPConn)
	fmt.Fprintf(tc, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	return tc
}
