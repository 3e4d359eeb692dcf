package notify

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
)

// The measurements below give the figures of the server edges at their
// production settings (keepalive 25 s, write timeout 10 s, shutdown
// timeout 20 s), for BENCHMARKS.md. They take minutes, so they run only
// when asked: BIRJOB_MEASURE=1 go test -run TestMeasure -v ./notify/
// (the edges' tests, in edges_test.go, check the same with short
// settings).

func measureOnly(t *testing.T) {
	if os.Getenv("BIRJOB_MEASURE") == "" {
		t.Skip("a measurement: set BIRJOB_MEASURE=1 to run it")
	}
}

// fdCount is the number of the process's open descriptors (Linux).
func fdCount() int { d, _ := os.ReadDir("/proc/self/fd"); return len(d) }

// TestMeasureAbandoned: 1,000 SSE clients leave (FIN, after reading all
// they were sent); how long until the server has closed their sockets.
func TestMeasureAbandoned(t *testing.T) {
	measureOnly(t)
	const k = 1000
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: 25 * time.Second})
	type rc struct {
		c  net.Conn
		br *bufio.Reader
	}
	var rcs []rc
	for range k {
		c, err := net.Dial("tcp", strings.TrimPrefix(n.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET /api/events/jobs HTTP/1.1\r\nHost: x\r\n\r\n"))
		br := bufio.NewReader(c)
		if _, err := http.ReadResponse(br, nil); err != nil {
			t.Fatal(err)
		}
		rcs = append(rcs, rc{c, br})
	}
	waitUntil(t, "all connected", func() bool { return n.hub.Stats().Connections["sse"] == k })
	cs := hubClients(n.hub, TransportSSE)
	fds := fdCount()
	start := time.Now()
	for _, r := range rcs {
		// Read what was sent (a keepalive may have followed the connected
		// frame), then close with a FIN: unread bytes would make it a
		// reset, which even the first write notices.
		r.c.SetReadDeadline(time.Now().Add(time.Millisecond))
		buf := make([]byte, 4096)
		for {
			if _, err := r.br.Read(buf); err != nil {
				break
			}
		}
		r.c.Close()
	}
	closedAll := time.Since(start)
	start = time.Now() // measured from the last close: an upper bound
	at := finishedAt(cs, 70*time.Second)
	var ds []time.Duration
	for _, a := range at {
		if a.IsZero() {
			ds = append(ds, 999*time.Second)
		} else {
			ds = append(ds, a.Sub(start))
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	t.Logf("MEASURE abandoned %d (K=25s): closing took %s; server closed them, after the last client's close, within min %s median %s max %s; fds before %d after %d",
		k, closedAll.Round(time.Millisecond), ds[0].Round(time.Millisecond), ds[k/2].Round(time.Millisecond), ds[k-1].Round(time.Millisecond), fds, fdCount())
}

// TestMeasureStuck: five clients stop reading during a big event; how
// long after its write began each is found.
func TestMeasureStuck(t *testing.T) {
	measureOnly(t)
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: 25 * time.Second, WriteTimeout: 10 * time.Second})
	const k = 5
	for range k {
		c, _ := openRawSSE(t, n.srv.URL, "/api/events/jobs")
		c.SetReadBuffer(4 << 10)
	}
	waitUntil(t, "connected", func() bool { return n.hub.Stats().Connections["sse"] == k })
	cs := hubClients(n.hub, TransportSSE)
	appendEv(t, pool, "jobs", "new-job", `{"pad":"`+strings.Repeat("x", 8<<20)+`"}`)
	began := make([]time.Time, k)
	waitUntil(t, "writing", func() bool {
		for i, c := range cs {
			began[i] = writingSince(c)
			if began[i].IsZero() {
				return false
			}
		}
		return true
	})
	at := finishedAt(cs, 60*time.Second)
	var out []string
	for i := range cs {
		if at[i].IsZero() {
			out = append(out, ">60s")
		} else {
			out = append(out, at[i].Sub(began[i]).Round(time.Millisecond).String())
		}
	}
	t.Logf("MEASURE stuck writes (WT=10s, K=25s): found after %v", out)
}

// TestMeasureShutdown: how long Shutdown takes with five stuck clients.
func TestMeasureShutdown(t *testing.T) {
	measureOnly(t)
	pool := pgtest.New(t)
	n := startNode(t, pool, Config{Keepalive: 25 * time.Second, WriteTimeout: 10 * time.Second})
	const k = 5
	for range k {
		c, _ := openRawSSE(t, n.srv.URL, "/api/events/jobs")
		c.SetReadBuffer(4 << 10)
	}
	waitUntil(t, "connected", func() bool { return n.hub.Stats().Connections["sse"] == k })
	cs := hubClients(n.hub, TransportSSE)
	appendEv(t, pool, "jobs", "new-job", `{"pad":"`+strings.Repeat("x", 8<<20)+`"}`)
	waitUntil(t, "writing", func() bool {
		for _, c := range cs {
			if writingSince(c).IsZero() {
				return false
			}
		}
		return true
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	n.hub.Shutdown(ctx)
	t.Logf("MEASURE shutdown with %d stuck clients (WT=10s, K=25s, ctx 20s): %s", k, time.Since(start).Round(time.Millisecond))
}
