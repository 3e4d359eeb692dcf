package notify

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
)

// TestHub_MaxStreams: a node that holds Config.MaxStreams open streams
// answers a new SSE stream, WebSocket and long poll 503 with Retry-After
// and a message, counts the refusal, and admits again once a stream
// closes; its other routes are not concerned.
func TestHub_MaxStreams(t *testing.T) {
	pool := pgtest.New(t)
	// A short keepalive: a closed SSE peer is noticed at the next write.
	n := startNode(t, pool, Config{MaxStreams: 2, Keepalive: 200 * time.Millisecond})
	a := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	a.connected(t)
	b := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	b.connected(t)
	defer b.close()
	// The hub counts a stream before its head goes out (handleSSE); the
	// wait keeps this test from depending on that order.
	waitUntil(t, "both streams to be counted", func() bool { return n.hub.open.Load() == 2 })

	if c, status, body := tryOpenSSE(t, n.srv.URL, "/api/events/jobs", nil); c != nil || status != http.StatusServiceUnavailable || !strings.Contains(body, "BIRJOB_MAX_STREAMS") {
		t.Fatalf("third SSE stream: status %d %q, want 503 naming the setting", status, body)
	}
	for _, path := range []string{"/api/ws", "/api/poll/jobs?timeout=0"} {
		resp, err := http.Get(n.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusServiceUnavailable || ra < 1 {
			t.Fatalf("GET %s on a full node: %d Retry-After %q, want 503 with Retry-After", path, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if got := counterValue(t, n.reg, "birjob_notify_streams_refused_total", ""); got != 3 {
		t.Fatalf("refused counter = %v, want 3", got)
	}

	a.close()
	waitUntil(t, "the closed stream to leave", func() bool { return n.hub.open.Load() < 2 })
	c := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	c.connected(t)
	c.close()
}

// TestStreamsWithin: the default cap leaves a tenth of the open-file
// limit, at least 256, and no cap for a limit too small or unlimited.
func TestStreamsWithin(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want int
	}{{20000, 18000}, {1024, 768}, {256, 0}, {100, 0}, {1 << 20, 943719}, {1<<63 - 1, 0}} {
		if got := streamsWithin(c.n); got != c.want {
			t.Errorf("streamsWithin(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
