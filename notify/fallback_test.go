package notify

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/birjob/birjob/internal/pgtest"
)

// TestSSE_HTTP2Fallback: over HTTP/2 the connection cannot be hijacked; the
// stream is served through the ResponseWriter with the same frames.
func TestSSE_HTTP2Fallback(t *testing.T) {
	pool := pgtest.New(t)
	h := NewHub(pool, Config{Keepalive: 200 * time.Millisecond}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewUnstartedServer(testAuth(mux))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), waitFor)
	defer wcancel()
	if err := h.waitReady(wctx); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequestWithContext(wctx, "GET", srv.URL+"/api/events/jobs", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("proto %s, content type %q", resp.Proto, resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	readUntil := func(prefix string) string {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading for %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(line, prefix))
			}
		}
	}
	readUntil("event: connected")
	id := appendEv(t, pool, "jobs", "new-job", `{}`)
	if got := readUntil("id: "); got != strconv.FormatInt(id, 10) {
		t.Fatalf("id %s, want %d", got, id)
	}
	readUntil(": keepalive")
	sctx, scancel := context.WithTimeout(context.Background(), waitFor)
	h.Shutdown(sctx)
	scancel()
	readUntil("retry: ")
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}

func TestMetrics_Exposed(t *testing.T) {
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{})
	c := openSSE(t, n.srv.URL, "/api/events/jobs", nil)
	c.connected(t)
	appendEv(t, pool, "jobs", "new-job", `{}`)
	c.nextIDs(t, 1)
	waitUntil(t, "delivery counted", func() bool {
		return counterValue(t, n.reg, "birjob_notify_events_delivered_total", "sse") == 1
	})
	for name, want := range map[string]float64{
		"birjob_notify_connections":              1,
		"birjob_notify_delivery_latency_seconds": 1,
	} {
		if got := counterValue(t, n.reg, name, "sse"); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := counterValue(t, n.reg, "birjob_notify_events_published_total", ""); got != 1 {
		t.Errorf("published = %v", got)
	}
	st := n.hub.Stats()
	if st.Connections["sse"] != 1 || st.EventsTotal != 1 || !st.Listening || st.Subscriptions != 1 {
		t.Errorf("stats %+v", st)
	}
}
